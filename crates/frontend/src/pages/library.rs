//! The catalogue: search (debounced), paging, and for signed-in users add, edit and delete.

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use shared::{ListQuery, NewTrack, Track, TrackUpdate, User};

use crate::api;
use crate::auth::use_auth;
use crate::components::{ErrorMessage, TrackForm};
use crate::error::ClientError;
use crate::routes::set_title;

const PAGE_SIZE: i64 = 20;
const SEARCH_DELAY_MS: u32 = 300;

#[component]
pub fn LibraryPage() -> impl IntoView {
    set_title("Library");
    let auth = use_auth();
    let query = RwSignal::new(ListQuery { limit: PAGE_SIZE, ..ListQuery::default() });
    let action_error = RwSignal::new(None::<String>);

    let tracks = LocalResource::new(move || {
        let query = query.get();
        async move { api::list_tracks(&query).await }
    });
    let reload = move || tracks.refetch();
    let report = move |err: &ClientError| {
        auth.notice(err);
        action_error.set(Some(err.message()));
    };

    let add = move |track: NewTrack| async move { api::create_track(&track).await.map(|_| reload()) };

    view! {
        <section class="library">
            <div class="library-head">
                <h1>"Library"</h1>
                <SearchBox query />
            </div>
            <ErrorMessage message=action_error />
            <Transition fallback=|| view! { <p class="muted">"Loading tracks…"</p> }>
                {move || {
                    tracks
                        .get()
                        .map(|result| match result {
                            Ok(list) => {
                                let full_page = list.len() as i64 == PAGE_SIZE;
                                view! {
                                    <TrackTable tracks=list on_changed=Callback::new(move |()| reload()) report />
                                    <Pager query full_page />
                                }
                                    .into_any()
                            }
                            Err(err) => view! { <p class="error" role="alert">{err.message()}</p> }.into_any(),
                        })
                }}
            </Transition>
            <Show when=move || auth.user().is_some()>
                <section class="card">
                    <h2>"Add a track"</h2>
                    <TrackForm initial=NewTrack::default() id_prefix="new" submit_label="Add track" on_submit=add reset=true />
                </section>
            </Show>
        </section>
    }
}

/// The search field: the list follows it after a pause in typing.
#[component]
fn SearchBox(query: RwSignal<ListQuery>) -> impl IntoView {
    let input = RwSignal::new(String::new());
    let debounce = StoredValue::new_local(None::<Timeout>);
    let on_input = move |ev| {
        input.set(event_target_value(&ev));
        // Wait for a pause in typing before asking the server.
        let timeout = Timeout::new(SEARCH_DELAY_MS, move || {
            let q = input.get_untracked();
            query.update(|query| {
                query.q = (!q.trim().is_empty()).then_some(q);
                query.skip = 0;
            });
        });
        debounce.set_value(Some(timeout));
    };
    view! {
        <div class="search">
            <label for="search" class="visually-hidden">"Search by title or artist"</label>
            <input
                id="search"
                type="search"
                placeholder="Search by title or artist"
                prop:value=move || input.get()
                on:input=on_input
            />
        </div>
    }
}

#[component]
fn Pager(query: RwSignal<ListQuery>, full_page: bool) -> impl IntoView {
    let skip = move || query.with(|q| q.skip);
    view! {
        <nav class="pager" aria-label="Pages">
            <button
                class="secondary"
                disabled=move || skip() == 0
                on:click=move |_| query.update(|q| q.skip = (q.skip - PAGE_SIZE).max(0))
            >
                "← Previous"
            </button>
            <span class="muted">{move || format!("Page {}", skip() / PAGE_SIZE + 1)}</span>
            <button class="secondary" disabled=!full_page on:click=move |_| query.update(|q| q.skip += PAGE_SIZE)>
                "Next →"
            </button>
        </nav>
    }
}

#[component]
fn TrackTable<R>(tracks: Vec<Track>, on_changed: Callback<()>, report: R) -> impl IntoView
where
    R: Fn(&ClientError) + Copy + Send + Sync + 'static,
{
    let auth = use_auth();
    let editing = RwSignal::new(None::<i64>);
    if tracks.is_empty() {
        return view! { <p class="muted" data-testid="empty">"No tracks found."</p> }.into_any();
    }
    let rows = tracks
        .into_iter()
        .map(|track| {
            let owner = track.created_by;
            let can_edit = Signal::derive(move || auth.user().is_some_and(|user| may_edit(&user, owner)));
            view! { <TrackRow track editing on_changed report can_edit /> }
        })
        .collect_view();
    view! {
        <table class="tracks">
            <thead>
                <tr>
                    <th scope="col">"Title"</th>
                    <th scope="col">"Artist"</th>
                    <th scope="col">"Album"</th>
                    <th scope="col">"Year"</th>
                    <th scope="col">"Label"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// The server's rule, mirrored to decide which buttons to show.
fn may_edit(user: &User, owner: Option<i64>) -> bool {
    user.is_admin || owner == Some(user.id)
}

#[component]
fn TrackRow<R>(
    track: Track,
    editing: RwSignal<Option<i64>>,
    on_changed: Callback<()>,
    report: R,
    can_edit: Signal<bool>,
) -> impl IntoView
where
    R: Fn(&ClientError) + Copy + Send + Sync + 'static,
{
    let id = track.id;
    let initial = NewTrack::from(&track);
    let save = move |edited: NewTrack| async move {
        let update = TrackUpdate {
            title: Some(edited.title),
            artist: Some(edited.artist),
            album: Some(edited.album),
            year: Some(edited.year),
            label: Some(edited.label),
        };
        api::update_track(id, &update).await?;
        editing.set(None);
        on_changed.run(());
        Ok(())
    };
    let delete = move |_| {
        let confirmed = window().confirm_with_message("Delete this track?").unwrap_or(false);
        if !confirmed {
            return;
        }
        leptos::task::spawn_local(async move {
            match api::delete_track(id).await {
                Ok(_) => on_changed.run(()),
                Err(err) => report(&err),
            }
        });
    };
    view! {
        <Show
            when=move || editing.get() == Some(id)
            fallback=move || view! { <TrackCells track=track.clone() editing can_edit delete /> }
        >
            <tr class="editing">
                <td colspan="6">
                    <TrackForm
                        initial=initial.clone()
                        id_prefix="edit"
                        submit_label="Save"
                        on_submit=save
                        on_cancel=Callback::new(move |()| editing.set(None))
                    />
                </td>
            </tr>
        </Show>
    }
}

/// A track's row as read, with its edit and delete buttons for those who may.
#[component]
fn TrackCells(
    track: Track,
    editing: RwSignal<Option<i64>>,
    can_edit: Signal<bool>,
    delete: impl Fn(leptos::ev::MouseEvent) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = track.id;
    view! {
        <tr data-track-id=id>
            <td data-label="Title">{track.title}</td>
            <td data-label="Artist">{track.artist}</td>
            <td data-label="Album">{track.album.unwrap_or_default()}</td>
            <td data-label="Year">{track.year.map(|y| y.to_string()).unwrap_or_default()}</td>
            <td data-label="Label">{track.label.unwrap_or_default()}</td>
            <td class="row-actions">
                <Show when=move || can_edit.get()>
                    <button class="secondary small" on:click=move |_| editing.set(Some(id))>
                        "Edit"
                    </button>
                    <button class="danger small" on:click=delete>"Delete"</button>
                </Show>
            </td>
        </tr>
    }
}
