//! A page of the catalogue as the library loads it, carries it to the browser, and shows it.
//!
//! In the browser it is the page's tracks. While the server renders, it is what the server's
//! catalogue cache keeps for the page: the JSON the API sends, which the rendered page
//! carries to the browser as it is (no decoding and encoding again), and the page's table as
//! HTML, rendered by the first request that shows it and reused until the catalogue changes.
//! Twenty rows through leptos cost more than the rest of the library page together, and on
//! the server the table is the same for everyone (its edit and delete buttons appear only
//! once the browser runs the script), so each version of a page is rendered once.

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use shared::Track;

use crate::error::ClientError;

/// A page of the catalogue (see the module's documentation).
#[derive(Clone, Debug)]
pub struct TrackPage {
    #[cfg(not(feature = "ssr"))]
    tracks: Vec<Track>,
    #[cfg(feature = "ssr")]
    served: ServedPage,
}

/// What the server keeps of a page of the catalogue, for the API and for the library.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct ServedPage {
    /// The page as the API sends it: a JSON array of tracks.
    pub json: bytes::Bytes,
    /// How many tracks it holds.
    pub len: usize,
    /// The library's table of it, once a render made it.
    pub table: std::sync::Arc<std::sync::OnceLock<String>>,
}

#[cfg(feature = "ssr")]
impl ServedPage {
    /// A page not rendered yet.
    pub fn new(json: bytes::Bytes, len: usize) -> Self {
        Self { json, len, table: Default::default() }
    }
}

impl TrackPage {
    pub fn len(&self) -> usize {
        #[cfg(not(feature = "ssr"))]
        {
            self.tracks.len()
        }
        #[cfg(feature = "ssr")]
        {
            self.served.len
        }
    }

    /// The page's table: `render` of its tracks. On the server, a table already rendered for
    /// this page is reused as HTML, byte for byte what `render` made, so it hydrates alike.
    pub fn table<V: IntoView + 'static>(self, render: impl FnOnce(Vec<Track>) -> V) -> impl IntoView {
        #[cfg(not(feature = "ssr"))]
        {
            render(self.tracks)
        }
        #[cfg(feature = "ssr")]
        {
            use leptos::tachys::html::InertElement;
            let ServedPage { json, table, .. } = self.served;
            if let Some(html) = table.get() {
                return leptos::either::Either::Left(InertElement::new(html.clone()));
            }
            match serde_json::from_slice::<Vec<Track>>(&json) {
                Ok(tracks) => {
                    let html = render(tracks).into_view().to_html();
                    // Two first renders at once make the same HTML: either may be kept.
                    let _ = table.set(html.clone());
                    leptos::either::Either::Left(InertElement::new(html))
                }
                // The server encoded this JSON itself; if it ever could not be read back,
                // the page says so rather than showing an empty table.
                Err(err) => leptos::either::Either::Right(
                    view! { <p class="error" role="alert">{format!("Cannot show this page: {err}")}</p> },
                ),
            }
        }
    }
}

impl From<Vec<Track>> for TrackPage {
    fn from(tracks: Vec<Track>) -> Self {
        #[cfg(not(feature = "ssr"))]
        {
            Self { tracks }
        }
        #[cfg(feature = "ssr")]
        {
            // Tracks are strings and numbers, which always encode; the arm for a failure
            // keeps the page consistent (empty) rather than panicking.
            let served = match serde_json::to_vec(&tracks) {
                Ok(json) => ServedPage::new(json.into(), tracks.len()),
                Err(_) => ServedPage::new(bytes::Bytes::from_static(b"[]"), 0),
            };
            Self { served }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<ServedPage> for TrackPage {
    fn from(served: ServedPage) -> Self {
        Self { served }
    }
}

/// How a loaded page travels from the server's render to the browser's hydration: as
/// `Result<Vec<Track>, ClientError>` in JSON, the page's tracks written as the API's JSON.
pub struct TrackPageCodec;

type Loaded = Result<TrackPage, ClientError>;

impl Encoder<Loaded> for TrackPageCodec {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(loaded: &Loaded) -> Result<String, serde_json::Error> {
        match loaded {
            #[cfg(feature = "ssr")]
            Ok(page) => {
                // serde_json wrote it, so it is UTF-8 (the strict check is the fast one). Not
                // an error otherwise: leptos panics on a failed encoding.
                let json = &page.served.json;
                let json =
                    std::str::from_utf8(json).map_or_else(|_| String::from_utf8_lossy(json), Into::into);
                Ok(format!("{{\"Ok\":{json}}}"))
            }
            #[cfg(not(feature = "ssr"))]
            Ok(page) => serde_json::to_string(&Ok::<_, ()>(&page.tracks)),
            Err(err) => serde_json::to_string(&Err::<(), _>(err)),
        }
    }
}

impl Decoder<Loaded> for TrackPageCodec {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<Loaded, serde_json::Error> {
        Ok(serde_json::from_str::<Result<Vec<Track>, ClientError>>(text)?.map(TrackPage::from))
    }
}

#[cfg(test)]
mod tests {
    use shared::Track;

    use super::{TrackPage, TrackPageCodec};
    use crate::error::ClientError;
    use leptos::server::codee::{Decoder, Encoder};

    fn track(id: i64, title: &str) -> Track {
        Track {
            id,
            title: title.into(),
            artist: "Artist".into(),
            album: None,
            year: Some(1999),
            label: None,
            created_by: None,
            created_at: "2026-12-01T00:00:00Z".into(),
            updated_at: "2026-12-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_page_travels_as_its_tracks() {
        let page = TrackPage::from(vec![track(1, "One \"quoted\" </script>"), track(2, "Two")]);
        let text = TrackPageCodec::encode(&Ok(page)).expect("encodes");
        let back = TrackPageCodec::decode(&text).expect("decodes").expect("a page");
        assert_eq!(back.len(), 2);
        assert_eq!(TrackPageCodec::encode(&Ok(back)).expect("encodes"), text);
    }

    #[test]
    fn a_failed_load_travels_as_the_error() {
        let failed: Result<TrackPage, _> = Err(ClientError::Network("offline".into()));
        let text = TrackPageCodec::encode(&failed).expect("encodes");
        let back = TrackPageCodec::decode(&text).expect("decodes");
        assert!(matches!(back, Err(ClientError::Network(message)) if message == "offline"));
    }
}
