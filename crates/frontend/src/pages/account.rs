//! Who am I, and sign out. Needs a session: signed-out visitors go to sign-in and back.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::auth::{AuthState, use_auth};
use crate::components::ErrorMessage;
use crate::routes::{Page, set_title};

#[component]
pub fn AccountPage() -> impl IntoView {
    set_title("Account");
    let auth = use_auth();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);

    Effect::new({
        let navigate = navigate.clone();
        move |_| {
            if auth.state() == AuthState::SignedOut {
                let options = NavigateOptions { replace: true, ..Default::default() };
                navigate(&Page::sign_in_then(Page::Account.path()), options);
            }
        }
    });

    let sign_out = Action::new_local(move |_: &()| async move { api::logout().await });
    Effect::new(move |_| match sign_out.value().get() {
        Some(Ok(_)) => {
            auth.signed_out();
            navigate(Page::Library.path(), NavigateOptions::default());
        }
        Some(Err(err)) => error.set(Some(err.message())),
        None => {}
    });

    view! {
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
            <ErrorMessage message=error />
            <button on:click=move |_| { sign_out.dispatch(()); } disabled=move || sign_out.pending().get()>
                "Sign out"
            </button>
        </section>
    }
}
