//! Set a new password from a reset link (`/reset-password#selector.verifier`, made by an
//! admin). The secret is in the fragment, so this page needs its script; using the link ends
//! every session of the account.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use shared::{LinkPurpose, LinkState, PasswordReset, validate};

use crate::api;
use crate::components::{ErrorMessage, Field, new_password_hint};
use crate::error::ClientError;
use crate::link::{Opened, use_opened_link};
use crate::routes::Page;

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let opened = use_opened_link();
    view! {
        <Title text="Set a new password" />
        <section class="card narrow">
            <h1>"Set a new password"</h1>
            {move || match opened.get() {
                Opened::Checked { token, status }
                    if status.purpose == LinkPurpose::Reset && status.state == LinkState::Valid =>
                {
                    Either::Left(view! { <NewPasswordForm token /> })
                }
                other => {
                    let (class, message) = explain(&other);
                    Either::Right(view! { <p class=class data-testid="link-state">{message}</p> })
                }
            }}
        </section>
    }
}

/// What the page says while the link is not (or not yet) usable: a class and the words.
fn explain(opened: &Opened) -> (&'static str, String) {
    match opened {
        Opened::Unread => (
            "muted",
            "Opening the link… (this page needs JavaScript: the link's secret never leaves your browser otherwise)".into(),
        ),
        Opened::NoToken => ("error", "This address has no reset link in it. Ask an administrator for one.".into()),
        Opened::Checking => ("muted", "Checking the link…".into()),
        Opened::Failed(err) => ("error", err.message()),
        Opened::Checked { status, .. } if status.purpose != LinkPurpose::Reset => {
            ("error", "This is not a password-reset link.".into())
        }
        Opened::Checked { status, .. } => ("error", status.state.explain().into()),
    }
}

/// The new password, sent with the token from the link. (A plain call rather than a
/// `Submission`: this form's one request does not need the action machinery in the bundle.)
#[component]
fn NewPasswordForm(token: String) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let done = RwSignal::new(false);
    let refused = RwSignal::new(None::<ClientError>);
    let checked = Signal::derive(move || {
        let text = password.get();
        if text.is_empty() { None } else { validate::password(&text).err() }
    });
    let error = Signal::derive(move || {
        refused
            .with(|refused| refused.as_ref().and_then(|err| err.fields().get("new_password").cloned()))
            .or_else(|| checked.get())
    });
    let message = Signal::derive(move || refused.with(|refused| refused.as_ref().map(ClientError::message)));
    let hint = new_password_hint(password);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let reset = PasswordReset { token: token.clone(), new_password: password.get_untracked() };
        if reset.validate().is_err() {
            return;
        }
        leptos::task::spawn_local(async move {
            match api::reset_password(&reset).await {
                Ok(_) => done.set(true),
                Err(err) => refused.set(Some(err)),
            }
        });
    };
    view! {
        <Show
            when=move || !done.get()
            fallback=|| {
                view! {
                    <p class="success" role="status" data-testid="reset-done">
                        "Your password is set, and every session of your account was signed out. "
                        <A href=Page::SignIn.path()>"Sign in"</A>
                    </p>
                }
            }
        >
            <form on:submit=submit.clone() novalidate>
                <Field
                    name="new-password"
                    label="New password"
                    value=password
                    error=error
                    kind="password"
                    autocomplete="new-password"
                    required=true
                    hint=Some(hint)
                />
                <ErrorMessage message=message />
                <button type="submit">"Set password"</button>
            </form>
        </Show>
    }
}
