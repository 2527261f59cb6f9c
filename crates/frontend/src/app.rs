//! The root component: header, router, pages.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::auth::{Auth, AuthState, use_auth};
use crate::pages::{AccountPage, LibraryPage, NotFoundPage, SignInPage, SignUpPage};
use crate::routes::Page;

#[component]
pub fn App() -> impl IntoView {
    Auth::provide();
    view! {
        <Router>
            <Header />
            <main id="main">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=LibraryPage />
                    <Route path=path!("/sign-in") view=SignInPage />
                    <Route path=path!("/sign-up") view=SignUpPage />
                    <Route path=path!("/account") view=AccountPage />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let auth = use_auth();
    view! {
        <header class="site-header">
            <A href=Page::Library.path() attr:class="brand">"♫ Tracklist"</A>
            <nav aria-label="Main">
                <A href=Page::Library.path()>"Library"</A>
                {move || match auth.state() {
                    AuthState::SignedIn(user) => {
                        view! {
                            <A href=Page::Account.path() attr:class="who" attr:data-testid="current-user">
                                {user.username}
                            </A>
                        }
                            .into_any()
                    }
                    AuthState::Loading => view! { <span class="muted">"…"</span> }.into_any(),
                    _ => {
                        view! {
                            <A href=Page::SignIn.path()>"Sign in"</A>
                            <A href=Page::SignUp.path()>"Sign up"</A>
                        }
                            .into_any()
                    }
                }}
            </nav>
        </header>
    }
}
