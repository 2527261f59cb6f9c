//! Sign-up with the shared rules checked as you type, then straight into a session.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::{LoginForm, SignupForm, validate};

use crate::api;
use crate::auth::use_auth;
use crate::components::{ErrorMessage, Field};
use crate::routes::{Page, set_title};

#[component]
pub fn SignUpPage() -> impl IntoView {
    set_title("Sign up");
    let auth = use_auth();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let server_fields = RwSignal::new(shared::FieldErrors::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    // Live feedback once something is typed; the server's verdict when it gave one.
    let live = move |name: &'static str, value: RwSignal<String>, rule: fn(&str) -> validate::Rule| {
        Signal::derive(move || {
            server_fields.with(|f| f.get(name).cloned()).or_else(|| {
                let text = value.get();
                if text.is_empty() { None } else { rule(&text).err() }
            })
        })
    };
    let password_hint = Signal::derive(move || {
        let length = validate::normalize_password(&password.get()).chars().count();
        format!("{length} / at least {} characters; any characters, spaces welcome", validate::PASSWORD_MIN)
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = SignupForm { username: username.get_untracked(), password: password.get_untracked() };
        if let Err(errors) = form.validate() {
            server_fields.set(errors);
            return;
        }
        server_fields.set(Default::default());
        error.set(None);
        pending.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let created = match api::sign_up(&form).await {
                Ok(_) => api::login(&LoginForm { username: form.username, password: form.password })
                    .await
                    .map(|_| ()),
                Err(err) => Err(err),
            };
            pending.set(false);
            match created {
                Ok(()) => {
                    auth.refresh();
                    navigate(Page::Library.path(), NavigateOptions::default());
                }
                Err(err) => {
                    server_fields.set(err.fields());
                    error.set(Some(err.message()));
                }
            }
        });
    };

    view! {
        <section class="card narrow">
            <h1>"Create an account"</h1>
            <form on:submit=submit novalidate>
                <Field
                    name="username"
                    label="Username"
                    value=username
                    error=live("username", username, validate::username)
                    autocomplete="username"
                    required=true
                />
                <Field
                    name="password"
                    label="Password"
                    value=password
                    error=live("password", password, validate::password)
                    kind="password"
                    autocomplete="new-password"
                    required=true
                    hint=password_hint
                />
                <ErrorMessage message=error />
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Creating…" } else { "Create account" }}
                </button>
            </form>
            <p class="muted">"Have an account? " <A href=Page::SignIn.path()>"Sign in"</A></p>
        </section>
    }
}
