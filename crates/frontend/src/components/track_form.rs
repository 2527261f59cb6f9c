//! The add/edit form of a track, validated with the shared rules before sending.

use leptos::prelude::*;
use shared::{FieldErrors, NewTrack};

use crate::components::{ErrorMessage, Field};
use crate::error::ClientError;
use crate::form::Submission;

/// Submits a tidied, valid track through `on_submit` (see `form`), showing its error and
/// per-field messages when it fails.
#[component]
pub fn TrackForm<F, Fut>(
    initial: NewTrack,
    /// Keeps input ids unique when several forms are on the page.
    id_prefix: &'static str,
    submit_label: &'static str,
    on_submit: F,
    #[prop(optional, into)] on_cancel: Option<Callback<()>>,
    /// Clear the inputs after a successful submit (the add form).
    #[prop(optional)]
    reset: bool,
) -> impl IntoView
where
    F: Fn(NewTrack) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), ClientError>> + 'static,
{
    let title = RwSignal::new(initial.title.clone());
    let artist = RwSignal::new(initial.artist.clone());
    let album = RwSignal::new(initial.album.clone().unwrap_or_default());
    let year = RwSignal::new(initial.year.map(|y| y.to_string()).unwrap_or_default());
    let label = RwSignal::new(initial.label.clone().unwrap_or_default());
    let save = Submission::new(on_submit, move |()| {
        if reset {
            for signal in [title, artist, album, year, label] {
                signal.set(String::new());
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let year = match year.get_untracked().trim() {
            "" => Ok(None),
            text => text.parse::<i32>().map(Some),
        };
        let Ok(year) = year else {
            save.submit(Err(FieldErrors::from([("year".to_owned(), "must be a number".to_owned())])));
            return;
        };
        let optional = |value: String| (!value.trim().is_empty()).then_some(value);
        let track = NewTrack {
            title: title.get_untracked(),
            artist: artist.get_untracked(),
            album: optional(album.get_untracked()),
            year,
            label: optional(label.get_untracked()),
        }
        .tidy();
        let current_year = js_sys::Date::new_0().get_full_year() as i32;
        save.submit(track.validate(current_year).map(|()| track.clone()));
    };

    view! {
        <form class="track-form" on:submit=submit novalidate>
            <div class="grid">
                <Field name=format!("{id_prefix}-title") label="Title" value=title error=save.field("title") required=true />
                <Field name=format!("{id_prefix}-artist") label="Artist" value=artist error=save.field("artist") required=true />
                <Field name=format!("{id_prefix}-album") label="Album" value=album error=save.field("album") />
                <Field name=format!("{id_prefix}-year") label="Year" value=year error=save.field("year") kind="number" />
                <Field name=format!("{id_prefix}-label") label="Label" value=label error=save.field("label") />
            </div>
            <ErrorMessage message=save.error />
            <div class="actions">
                <button type="submit" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { submit_label }}
                </button>
                {on_cancel
                    .map(|cancel| {
                        view! {
                            <button type="button" class="secondary" on:click=move |_| cancel.run(())>
                                "Cancel"
                            </button>
                        }
                    })}
            </div>
        </form>
    }
    .into_any()
}
