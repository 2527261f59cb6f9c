//! The second step of signing in (two-step sign-in on): a code from the authenticator app,
//! or a recovery code; then on to `?next=`. Without JavaScript the browser posts the form to
//! `POST /login/second-factor` and the server answers 303 to `next`, or this page again.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::CodeForm;

use crate::api;
use crate::auth::{AuthState, use_auth};
use crate::components::{ErrorMessage, Field};
use crate::data::server_echo;
use crate::form::Submission;
use crate::routes::{Page, encode_component};

/// The code step (see `sign_in::SignInPage`, which shows it at `/sign-in/code`).
pub(super) fn code_step() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let query = use_query_map();
    let next = move || super::sign_in::destination(query);
    let action = query.with_untracked(|q| match q.get("next") {
        Some(next) => format!("/login/second-factor?next={}", encode_component(&next)),
        None => "/login/second-factor".to_owned(),
    });

    let code = RwSignal::new(String::new());
    let verify = Submission::new(
        |form: CodeForm| async move { api::second_factor(&form).await },
        move |_| auth.refresh(),
    );
    if let Some(echo) = server_echo() {
        verify.show(&echo.error);
    }

    Effect::new(move |_| {
        if let AuthState::SignedIn(_) = auth.state() {
            navigate(&next(), NavigateOptions { replace: true, ..Default::default() });
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = CodeForm { code: code.get_untracked() };
        code.set(String::new());
        verify.submit(form.validate().map(|()| form.clone()));
    };

    view! {
        <Title text="Two-step sign-in" />
        <section class="card narrow">
            <h1>"Enter your code"</h1>
            <p class="muted">
                "Open your authenticator app and type the 6-digit code for Tracklist, or one of your recovery codes."
            </p>
            <form method="post" action=action on:submit=submit novalidate>
                <Field name="code" label="Code" value=code error=verify.field("code") autocomplete="one-time-code" required=true />
                <ErrorMessage message=verify.error />
                <button type="submit" disabled=move || verify.pending().get()>
                    {move || if verify.pending().get() { "Checking…" } else { "Sign in" }}
                </button>
            </form>
            <p class="muted">
                "Wrong account? " <A href=Page::SignIn.path()>"Start again"</A>
                " (an unfinished sign-in ends by itself after five minutes)."
            </p>
        </section>
    }
}
