//! Sign-in: username and password, posted as a form; back to `?next=` afterwards (by way of
//! the code page when two-step sign-in is on). Without
//! JavaScript the browser posts the form itself and the server answers 303 to `next`, or
//! this page again with the error and the username.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use shared::{LoginForm, safe_next};

use crate::api::{self, LoginStep};
use crate::auth::{AuthState, use_auth};
use crate::components::{CredentialFields, ErrorMessage};
use crate::data::server_echo;
use crate::form::Submission;
use crate::routes::{Page, encode_component, form_action};

/// Both steps of signing in: `/sign-in` (the password) and `/sign-in/code` (the code, with
/// two-step sign-in on).
#[component]
pub fn SignInPage() -> impl IntoView {
    if use_location().pathname.get_untracked() == Page::SignInCode.path() {
        Either::Right(super::sign_in_code::code_step())
    } else {
        Either::Left(password_step())
    }
}

fn password_step() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let query = use_query_map();
    // Where to go once signed in: `?next=` if it is a path of this app, else the library.
    let next = move || {
        let origin = window().location().origin().unwrap_or_default();
        safe_next(query.with_untracked(|q| q.get("next")).as_deref(), &origin)
    };

    // The form's own target keeps `next` for a browser posting it without JavaScript.
    let action = query.with_untracked(|q| match q.get("next") {
        Some(next) => format!("{}?next={}", form_action::LOGIN, encode_component(&next)),
        None => form_action::LOGIN.to_owned(),
    });

    let echo = server_echo();
    let username = RwSignal::new(echo.as_ref().map(|echo| echo.username.clone()).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let login = Submission::new(
        |form: LoginForm| async move { api::login(&form).await },
        move |step| match step {
            LoginStep::SignedIn => auth.refresh(),
            // The code step is a plain form the server answers (see `sign_in_code`): load it.
            LoginStep::NeedsCode => {
                let _ = window().location().set_href(&Page::SignInCode.then(&next()));
            }
        },
    );
    if let Some(echo) = &echo {
        login.show(&echo.error);
    }

    // Signed in (now or already): go where the visitor was heading.
    Effect::new(move |_| {
        if let AuthState::SignedIn(_) = auth.state() {
            navigate(&next(), NavigateOptions { replace: true, ..Default::default() });
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = LoginForm { username: username.get_untracked(), password: password.get_untracked() };
        // The username stays for another try; the password does not.
        password.set(String::new());
        login.submit(form.validate().map(|()| form.clone()));
    };

    view! {
        <Title text="Sign in" />
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <form method="post" action=action on:submit=submit novalidate>
                <CredentialFields
                    username
                    password
                    username_error=login.field("username")
                    password_error=login.field("password")
                    password_autocomplete="current-password"
                />
                <ErrorMessage message=login.error />
                <button type="submit" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            <p class="muted">"No account yet? " <A href=Page::SignUp.path()>"Sign up"</A></p>
        </section>
    }
}
