//! Who am I, my sessions, my password, two-step sign-in (signing out is in the page header). Needs a session:
//! signed-out visitors go to sign-in and come back.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use shared::{PasswordChange, SessionInfo, validate};

use crate::api;
use crate::auth::{AuthState, use_auth};
use crate::components::{ErrorMessage, Field, TwoStepSettings};
use crate::data::Source;
use crate::form::Submission;
use crate::routes::{Page, encode_component};

#[component]
pub fn AccountPage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Title text="Account" />
        // On the server this is a redirect response; in the browser, a navigation.
        <Show when=move || auth.state() == AuthState::SignedOut>
            <Redirect path=Page::sign_in_then(Page::Account.path()) />
        </Show>
        <section class="card narrow">
            <h1>"Your account"</h1>
            {move || match auth.state() {
                AuthState::SignedIn(user) => {
                    view! {
                        <dl class="facts">
                            <dt>"Username"</dt>
                            <dd data-testid="account-username">{user.username}</dd>
                            <dt>"Role"</dt>
                            <dd>{if user.is_admin { "Administrator" } else { "Member" }}</dd>
                        </dl>
                    }
                        .into_any()
                }
                AuthState::Failed(err) => view! { <p class="error">{err.message()}</p> }.into_any(),
                _ => view! { <p class="muted">"Loading…"</p> }.into_any(),
            }}
        </section>
        <Show when=move || auth.user().is_some()>
            <AccountData />
            <ChangePassword />
        </Show>
    }
}

/// The sessions and the two-step sign-in settings, loaded together: one resource for the
/// page (each resource type costs the bundle its own loading and hydration code).
#[component]
fn AccountData() -> impl IntoView {
    let source = Source::here();
    let data = Resource::new(|| (), move |()| source.account());
    let reload = move || data.refetch();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                data.get()
                    .map(|result| match result {
                        Ok(account) => {
                            Either::Left(view! {
                                <Sessions list=account.sessions reload />
                                <TwoStepSettings state=account.two_step />
                            })
                        }
                        Err(err) => Either::Right(view! { <p class="error" role="alert">{err.message()}</p> }),
                    })
            }}
        </Transition>
    }
}

/// Active sessions, this device marked; revoke one or all the others. Each button is a form
/// posting to the API, so it works without JavaScript too (the server answers 303 back here).
#[component]
fn Sessions(list: Vec<SessionInfo>, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let revoke =
        Submission::new(|id: String| async move { api::revoke_session(&id).await }, move |_| reload());
    let revoke_others =
        Submission::new(|()| async move { api::revoke_other_sessions().await }, move |_| reload());
    let error = Signal::derive(move || revoke.error.get().or_else(|| revoke_others.error.get()));
    let others_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        revoke_others.submit(Ok(()));
    };
    let others = list.iter().filter(|s| !s.current).count();
    let rows = list
        .into_iter()
        .map(|session| view! { <SessionRow session revoke=move |id| revoke.submit(Ok(id)) /> })
        .collect_view();
    view! {
        <section class="card narrow">
            <h2>"Where you are signed in"</h2>
            <ErrorMessage message=error />
            <ul class="sessions">{rows}</ul>
            <form method="post" action="/users/me/sessions/revoke-others" on:submit=others_submit>
                <button type="submit" class="secondary" disabled=others == 0>
                    "Sign out everywhere else"
                </button>
            </form>
        </section>
    }
}

/// One session: device, address, when; a revoke button unless it is this one.
#[component]
fn SessionRow(session: SessionInfo, revoke: impl Fn(String) + Copy + Send + Sync + 'static) -> impl IntoView {
    let device = session.user_agent.clone().unwrap_or_else(|| "Unknown device".into());
    let action = format!("/users/me/sessions/{}/revoke", encode_component(&session.id));
    let id = session.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        revoke(id.clone());
    };
    view! {
        <li class="session" class:current=session.current data-testid="session">
            <div>
                <strong>{short_agent(&device)}</strong>
                {session.current.then(|| view! { <span class="badge">"This device"</span> })}
                <p class="muted small">
                    {format!(
                        "{} · signed in {} · last seen {}",
                        session.client_address.clone().unwrap_or_default(),
                        when(&session.created_at),
                        when(&session.last_seen_at),
                    )}
                </p>
            </div>
            {(!session.current)
                .then(|| {
                    view! {
                        <form method="post" action=action on:submit=submit>
                            <button type="submit" class="danger small">"Revoke"</button>
                        </form>
                    }
                })}
        </li>
    }
}

/// Current password + new one, with the policy shown as you type.
#[component]
fn ChangePassword() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let done = RwSignal::new(false);
    let change = Submission::new(
        |change: PasswordChange| async move { api::change_password(&change).await },
        move |_| {
            current.set(String::new());
            new.set(String::new());
            done.set(true);
        },
    );
    let server_says = change.field("new_password");
    let new_error = Signal::derive(move || {
        server_says.get().or_else(|| {
            let text = new.get();
            if text.is_empty() { None } else { validate::password(&text).err() }
        })
    });
    let hint = Signal::derive(move || {
        let length = validate::normalize_password(&new.get()).chars().count();
        let (min, max) = (validate::PASSWORD_MIN, validate::PASSWORD_MAX);
        format!("{length} / {min}–{max} characters, any characters; common passwords are refused")
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(false);
        let form =
            PasswordChange { current_password: current.get_untracked(), new_password: new.get_untracked() };
        change.submit(form.validate().map(|()| form.clone()));
    };

    view! {
        <section class="card narrow">
            <h2>"Change password"</h2>
            <form on:submit=submit novalidate>
                <Field
                    name="current-password"
                    label="Current password"
                    value=current
                    error=change.field("current_password")
                    kind="password"
                    autocomplete="current-password"
                    required=true
                />
                <Field
                    name="new-password"
                    label="New password"
                    value=new
                    error=new_error
                    kind="password"
                    autocomplete="new-password"
                    required=true
                    hint=Some(hint)
                />
                <ErrorMessage message=change.error />
                <Show when=move || done.get()>
                    <p class="success" role="status">"Password changed. Your other sessions were signed out."</p>
                </Show>
                <button type="submit" disabled=move || change.pending().get()>
                    {move || if change.pending().get() { "Changing…" } else { "Change password" }}
                </button>
            </form>
        </section>
    }
}

/// "Firefox on Linux"-style brevity without a user-agent parser: the last product token.
fn short_agent(agent: &str) -> String {
    let known = ["Firefox", "Edg", "Chrome", "Safari", "curl"];
    let browser = known.iter().find(|name| agent.contains(*name)).map(|name| match *name {
        "Edg" => "Edge",
        other => other,
    });
    let system =
        ["Windows", "Mac OS", "Android", "iPhone", "Linux"].into_iter().find(|os| agent.contains(os));
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser.to_owned(),
        _ => agent.chars().take(60).collect(),
    }
}

/// `2026-11-25T19:13:20.570Z` → `2026-11-25 19:13 UTC`.
fn when(timestamp: &str) -> String {
    match (timestamp.get(..10), timestamp.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => timestamp.to_owned(),
    }
}
