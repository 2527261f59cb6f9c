//! Sign-up with the shared rules checked as you type, then straight into a session. Without
//! JavaScript the browser posts the form to `POST /users`, and the server signs the new
//! user in and answers 303 to the library, or this page again with the error.
//!
//! Opened from an invitation (`/sign-up#selector.verifier`, made by an admin), the form
//! carries the invitation, which signs up even with sign-up closed.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::{LinkPurpose, LinkState, LoginForm, SignupForm, validate};

use crate::api;
use crate::auth::use_auth;
use crate::components::{CredentialFields, ErrorMessage, new_password_hint};
use crate::data::server_echo;
use crate::form::Submission;
use crate::link::{Opened, use_opened_link};
use crate::routes::{Page, form_action};

#[component]
pub fn SignUpPage() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let echo = server_echo();
    let username = RwSignal::new(echo.as_ref().map(|echo| echo.username.clone()).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let opened = use_opened_link();
    let invitation = Memo::new(move |_| match opened.get() {
        Opened::Checked { token, status }
            if status.purpose == LinkPurpose::Invite && status.state == LinkState::Valid =>
        {
            Some(token)
        }
        _ => None,
    });
    let create = Submission::new(
        |form: SignupForm| async move {
            api::sign_up(&form).await?;
            api::login(&LoginForm { username: form.username, password: form.password }).await
        },
        move |_| {
            auth.refresh();
            navigate(Page::Library.path(), NavigateOptions::default());
        },
    );
    if let Some(echo) = &echo {
        create.show(&echo.error);
    }

    // Live feedback once something is typed; the server's verdict when it gave one.
    let live = move |name: &'static str, value: RwSignal<String>, rule: fn(&str) -> validate::Rule| {
        let verdict = create.field(name);
        Signal::derive(move || {
            verdict.get().or_else(|| {
                let text = value.get();
                if text.is_empty() { None } else { rule(&text).err() }
            })
        })
    };
    let password_hint = new_password_hint(password);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = SignupForm {
            username: username.get_untracked(),
            password: password.get_untracked(),
            invitation: invitation.get_untracked(),
        };
        create.submit(form.validate().map(|()| form.clone()));
    };

    view! {
        <Title text="Sign up" />
        <section class="card narrow">
            <h1>"Create an account"</h1>
            {move || {
                let (class, message) = match opened.get() {
                    Opened::Checked { status, .. } if status.state != LinkState::Valid => {
                        ("error", format!("Invitation: {}", status.state.explain()))
                    }
                    Opened::Failed(err) => ("error", err.message()),
                    _ if invitation.get().is_some() => {
                        ("success", "You were invited: choose a username and a password.".to_owned())
                    }
                    _ => return None,
                };
                Some(view! { <p class=class data-testid="link-state">{message}</p> })
            }}
            <form method="post" action=form_action::SIGN_UP on:submit=submit novalidate>
                <CredentialFields
                    username
                    password
                    username_error=live("username", username, validate::username)
                    password_error=live("password", password, validate::password)
                    password_autocomplete="new-password"
                    password_hint=Some(password_hint)
                />
                <ErrorMessage message=create.error />
                <button type="submit" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating…" } else { "Create account" }}
                </button>
            </form>
            <p class="muted">"Have an account? " <A href=Page::SignIn.path()>"Sign in"</A></p>
        </section>
    }
}
