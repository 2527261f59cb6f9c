//! The add/edit form of a track, validated with the shared rules before sending.

use leptos::prelude::*;
use shared::{FieldErrors, NewTrack};

use crate::components::{ErrorMessage, Field, field_message};
use crate::error::ClientError;

/// Calls `on_submit` with a tidied, valid track; shows its error (and per-field messages)
/// when the returned future fails.
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
    F: Fn(NewTrack) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), ClientError>> + 'static,
{
    let title = RwSignal::new(initial.title.clone());
    let artist = RwSignal::new(initial.artist.clone());
    let album = RwSignal::new(initial.album.clone().unwrap_or_default());
    let year = RwSignal::new(initial.year.map(|y| y.to_string()).unwrap_or_default());
    let label = RwSignal::new(initial.label.clone().unwrap_or_default());
    let fields = RwSignal::new(FieldErrors::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let optional = |value: String| (!value.trim().is_empty()).then_some(value);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let year_text = year.get_untracked();
        let parsed_year = match year_text.trim() {
            "" => Ok(None),
            text => text.parse::<i32>().map(Some),
        };
        let Ok(parsed_year) = parsed_year else {
            fields.set(FieldErrors::from([("year".to_owned(), "must be a number".to_owned())]));
            return;
        };
        let track = NewTrack {
            title: title.get_untracked(),
            artist: artist.get_untracked(),
            album: optional(album.get_untracked()),
            year: parsed_year,
            label: optional(label.get_untracked()),
        }
        .tidy();
        let current_year = js_sys::Date::new_0().get_full_year() as i32;
        if let Err(errors) = track.validate(current_year) {
            fields.set(errors);
            return;
        }
        fields.set(FieldErrors::new());
        error.set(None);
        pending.set(true);
        let on_submit = on_submit.clone();
        leptos::task::spawn_local(async move {
            match on_submit(track).await {
                Ok(()) if reset => {
                    for signal in [title, artist, album, year, label] {
                        signal.set(String::new());
                    }
                }
                Ok(()) => {}
                Err(err) => {
                    fields.set(err.fields());
                    error.set(Some(err.message()));
                }
            }
            pending.set(false);
        });
    };

    view! {
        <form class="track-form" on:submit=submit novalidate>
            <div class="grid">
                <Field name=format!("{id_prefix}-title") label="Title" value=title error=field_message(fields, "title") required=true />
                <Field name=format!("{id_prefix}-artist") label="Artist" value=artist error=field_message(fields, "artist") required=true />
                <Field name=format!("{id_prefix}-album") label="Album" value=album error=field_message(fields, "album") />
                <Field name=format!("{id_prefix}-year") label="Year" value=year error=field_message(fields, "year") kind="number" />
                <Field name=format!("{id_prefix}-label") label="Label" value=label error=field_message(fields, "label") />
            </div>
            <ErrorMessage message=error />
            <div class="actions">
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { submit_label }}
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
}
