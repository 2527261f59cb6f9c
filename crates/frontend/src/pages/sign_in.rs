//! Sign-in: username and password, posted as a form; back to `?next=` afterwards.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::LoginForm;

use crate::api;
use crate::auth::{AuthState, use_auth};
use crate::components::{ErrorMessage, Field, field_message};
use crate::routes::{Page, safe_next, set_title};

#[component]
pub fn SignInPage() -> impl IntoView {
    set_title("Sign in");
    let auth = use_auth();
    let navigate = use_navigate();
    let query = use_query_map();
    let next = move || {
        let origin = window().location().origin().unwrap_or_default();
        safe_next(query.with_untracked(|q| q.get("next")).as_deref(), &origin)
    };

    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let fields = RwSignal::new(shared::FieldErrors::new());

    let login = Action::new_local(move |form: &LoginForm| {
        let form = form.clone();
        async move { api::login(&form).await }
    });

    // Signed in (now or already): go where the visitor was heading.
    Effect::new({
        let navigate = navigate.clone();
        move |_| {
            if let AuthState::SignedIn(_) = auth.state() {
                navigate(&next(), NavigateOptions { replace: true, ..Default::default() });
            }
        }
    });
    Effect::new(move |_| match login.value().get() {
        Some(Ok(_)) => auth.refresh(),
        Some(Err(err)) => {
            // Keep the username, drop the password.
            password.set(String::new());
            error.set(Some(err.message()));
        }
        None => {}
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = LoginForm { username: username.get_untracked(), password: password.get_untracked() };
        if let Err(errors) = form.validate() {
            fields.set(errors);
            return;
        }
        fields.set(Default::default());
        error.set(None);
        login.dispatch(form);
    };

    view! {
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <form on:submit=submit novalidate>
                <Field
                    name="username"
                    label="Username"
                    value=username
                    error=field_message(fields, "username")
                    autocomplete="username"
                    required=true
                />
                <Field
                    name="password"
                    label="Password"
                    value=password
                    error=field_message(fields, "password")
                    kind="password"
                    autocomplete="current-password"
                    required=true
                />
                <ErrorMessage message=error />
                <button type="submit" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            <p class="muted">"No account yet? " <A href=Page::SignUp.path()>"Sign up"</A></p>
        </section>
    }
}
