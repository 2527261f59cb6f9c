//! The second step of signing in (two-step sign-in on): a code from the authenticator app,
//! or a recovery code; then on to `?next=`.
//!
//! A plain form, with or without JavaScript: the browser posts it to `POST
//! /login/second-factor` and the server answers 303 to `next` (a full page load, once per
//! sign-in), or this page again with why the code was refused. So the bundle carries only
//! its markup.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::components::{ErrorMessage, Field};
use crate::data::server_echo;
use crate::routes::{Page, encode_component, form_action};

/// The code step (see `sign_in::SignInPage`, which shows it at `/sign-in/code`).
pub(super) fn code_step() -> impl IntoView {
    let query = use_query_map();
    let action = query.with_untracked(|q| match q.get("next") {
        Some(next) => format!("{}?next={}", form_action::SECOND_FACTOR, encode_component(&next)),
        None => form_action::SECOND_FACTOR.to_owned(),
    });
    let refused = server_echo().map(|echo| echo.error);
    let code_error = refused.as_ref().and_then(|error| error.fields.as_ref()?.get("code").cloned());
    let error = refused.map(|error| error.detail);
    view! {
        <Title text="Two-step sign-in" />
        <section class="card narrow">
            <h1>"Enter your code"</h1>
            <p class="muted">
                "Open your authenticator app and type the 6-digit code for Tracklist, or one of your recovery codes."
            </p>
            <form method="post" action=action>
                <Field name="code" label="Code" value=RwSignal::new(String::new()) error=Signal::stored(code_error) autocomplete="one-time-code" required=true />
                <ErrorMessage message=Signal::stored(error) />
                <button type="submit">"Sign in"</button>
            </form>
            <p class="muted">
                "Wrong account? " <A href=Page::SignIn.path()>"Start again"</A>
                " (an unfinished sign-in ends by itself after five minutes)."
            </p>
        </section>
    }
}
