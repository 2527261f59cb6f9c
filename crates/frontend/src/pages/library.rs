//! The catalogue: search, paging, and for signed-in users add, edit and delete.
//!
//! The page's address holds the query (`/?q=blue&skip=20`): search is a GET form and the
//! pager is links, so both work without JavaScript, and the server renders the very page
//! the address names. With JavaScript, typing searches after a pause, in place.

use gloo_timers::callback::Timeout;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::{ListQuery, NewTrack, Track, TrackUpdate, User};

use crate::api;
use crate::app::use_scripted;
use crate::auth::use_auth;
use crate::catalogue::TrackPageCodec;
use crate::components::{ErrorMessage, TrackForm};
use crate::data::Source;
use crate::error::ClientError;
use crate::routes::{Page, encode_component};

const PAGE_SIZE: i64 = 20;
const SEARCH_DELAY_MS: u32 = 300;

#[component]
pub fn LibraryPage() -> impl IntoView {
    let auth = use_auth();
    let scripted = use_scripted();
    let params = use_query_map();
    let query = Memo::new(move |_| {
        params.with(|params| {
            let skip = params.get_str("skip").and_then(|skip| skip.parse::<i64>().ok()).unwrap_or(0);
            let q = params.get("q").filter(|q| !q.trim().is_empty());
            ListQuery { skip: skip.clamp(0, ListQuery::MAX_SKIP), limit: PAGE_SIZE, q }
        })
    });
    let action_error = RwSignal::new(None::<String>);

    let source = Source::here();
    let tracks: Resource<_, TrackPageCodec> =
        Resource::new_with_options(move || query.get(), move |query| source.tracks(query), false);
    let reload = move || tracks.refetch();
    let report = move |err: &ClientError| {
        auth.notice(err);
        action_error.set(Some(err.message()));
    };

    let add = move |track: NewTrack| async move { api::create_track(&track).await.map(|_| reload()) };

    view! {
        <Title text="Library" />
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
                            Ok(page) => {
                                let full_page = page.len() as i64 == PAGE_SIZE;
                                let on_changed = Callback::new(move |()| reload());
                                let table = page
                                    .table(move |tracks| view! { <TrackTable tracks on_changed report /> });
                                view! {
                                    {table}
                                    <Pager query full_page />
                                }
                                    .into_any()
                            }
                            Err(err) => view! { <p class="error" role="alert">{err.message()}</p> }.into_any(),
                        })
                }}
            </Transition>
            // Adding needs the script: without it the form is not offered at all.
            <Show when=move || scripted.get() && auth.user().is_some()>
                <section class="card">
                    <h2>"Add a track"</h2>
                    <TrackForm initial=NewTrack::default() id_prefix="new" submit_label="Add track" on_submit=add reset=true />
                </section>
            </Show>
        </section>
    }
}

/// The library's address for `query` (the pager's links, the search's target).
fn library_href(skip: i64, q: Option<&str>) -> String {
    let mut params = Vec::new();
    if let Some(q) = q {
        params.push(format!("q={}", encode_component(q)));
    }
    if skip > 0 {
        params.push(format!("skip={skip}"));
    }
    if params.is_empty() { Page::Library.path().to_owned() } else { format!("/?{}", params.join("&")) }
}

/// The search form: a GET to the library. With JavaScript the list follows the field after a
/// pause in typing.
#[component]
fn SearchBox(query: Memo<ListQuery>) -> impl IntoView {
    let navigate = use_navigate();
    let text = RwSignal::new(query.with_untracked(|query| query.q.clone().unwrap_or_default()));
    // Each keystroke starts a timer; only the latest one's search runs. (A generation count,
    // not a kept `Timeout`: this component is also rendered on the server, where nothing
    // thread-bound may live in it.)
    let typed_at = StoredValue::new(0_u64);
    let search = move || {
        let q = text.get_untracked();
        let target = library_href(0, Some(q.as_str()).filter(|q| !q.trim().is_empty()));
        navigate(&target, NavigateOptions { replace: true, ..Default::default() });
    };
    let typed = search.clone();
    let on_input = move |ev| {
        text.set(event_target_value(&ev));
        let search = typed.clone();
        typed_at.update_value(|n| *n += 1);
        let this = typed_at.get_value();
        // Wait for a pause in typing before asking the server.
        Timeout::new(SEARCH_DELAY_MS, move || {
            if typed_at.get_value() == this {
                search();
            }
        })
        .forget();
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        typed_at.update_value(|n| *n += 1);
        search();
    };
    view! {
        <form class="search" role="search" method="get" action=Page::Library.path() on:submit=on_submit>
            <label for="search" class="visually-hidden">"Search by title or artist"</label>
            <input
                id="search"
                name="q"
                type="search"
                placeholder="Search by title or artist"
                value=text.get_untracked()
                on:input=on_input
            />
            <button type="submit" class="secondary">"Search"</button>
        </form>
    }
}

/// Previous and next page, as links.
#[component]
fn Pager(query: Memo<ListQuery>, full_page: bool) -> impl IntoView {
    let (skip, q) = query.with_untracked(|query| (query.skip, query.q.clone()));
    let previous = (skip > 0).then(|| library_href((skip - PAGE_SIZE).max(0), q.as_deref()));
    let next = full_page.then(|| library_href(skip + PAGE_SIZE, q.as_deref()));
    let link = |href: Option<String>, text: &'static str, rel: &'static str| match href {
        // A plain link: the router still follows it in place, and unlike `<A>` it does not
        // mark itself `aria-current` for sharing the library's path.
        Some(href) => view! { <a href=href class="button secondary" rel=rel>{text}</a> }.into_any(),
        None => view! { <span class="button secondary" aria-disabled="true">{text}</span> }.into_any(),
    };
    view! {
        <nav class="pager" aria-label="Pages">
            {link(previous, "← Previous", "prev")}
            <span class="muted">{format!("Page {}", skip / PAGE_SIZE + 1)}</span>
            {link(next, "Next →", "next")}
        </nav>
    }
}

#[component]
fn TrackTable<R>(tracks: Vec<Track>, on_changed: Callback<()>, report: R) -> impl IntoView
where
    R: Fn(&ClientError) + Copy + Send + Sync + 'static,
{
    let auth = use_auth();
    let scripted = use_scripted();
    let editing = RwSignal::new(None::<i64>);
    if tracks.is_empty() {
        return view! { <p class="muted" data-testid="empty">"No tracks found."</p> }.into_any();
    }
    let rows = tracks
        .into_iter()
        .map(|track| {
            let owner = track.created_by;
            let can_edit = Signal::derive(move || {
                scripted.get() && auth.user().is_some_and(|user| may_edit(&user, owner))
            });
            track_row(track, editing, on_changed, report, can_edit)
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

/// A row: a plain function, not a component, so that its view keeps its type. Components
/// are erased into boxed views (`erase_components`, for the bundle's size), and the server
/// renders each boxed view through a boxed future: for 20 rows a page, that showed.
fn track_row<R>(
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
    // A plain closure, not `<Show>`: no memo per row, which the server would build for
    // every row of every page it renders.
    move || {
        if editing.get() != Some(id) {
            return Either::Left(track_cells(track.clone(), editing, can_edit, delete));
        }
        Either::Right(view! {
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
        })
    }
}

/// A track's row as read, with its edit and delete buttons for those who may, once the page
/// runs its script (they need it).
fn track_cells(
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
                {move || {
                    can_edit
                        .get()
                        .then(|| {
                            view! {
                                <button class="secondary small" on:click=move |_| editing.set(Some(id))>
                                    "Edit"
                                </button>
                                <button class="danger small" on:click=delete>"Delete"</button>
                            }
                        })
                }}
            </td>
        </tr>
    }
}
