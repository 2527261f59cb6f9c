//! The root component: header, router, pages.

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::NavigateOptions;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::use_navigate;
use leptos_router::path;

use crate::api;
use crate::auth::{Auth, AuthState, use_auth};
use crate::form::Submission;
use crate::pages::{AccountPage, LibraryPage, NotFoundPage, ResetPasswordPage, SignInPage, SignUpPage};
use crate::routes::Page;

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    Auth::provide();
    provide_scripted();
    view! {
        // Each page names itself with `<Title text=…/>`.
        <Title formatter=|page: String| format!("{page} · Tracklist") />
        <Router>
            <Header />
            <main id="main">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=LibraryPage />
                    <Route path=path!("/sign-in") view=SignInPage />
                    <Route path=path!("/sign-in/code") view=SignInPage />
                    <Route path=path!("/reset-password") view=ResetPasswordPage />
                    <Route path=path!("/sign-up") view=SignUpPage />
                    <Route path=path!("/account") view=AccountPage />
                </Routes>
            </main>
        </Router>
    }
}

/// Whether the page runs its script: false while the server renders and while the browser
/// hydrates (so both produce the same markup), true from then on. Controls that only work
/// with the script (adding, editing, deleting tracks) are shown only then; without it the
/// page offers only what works as plain HTML.
#[derive(Debug, Clone, Copy)]
struct Scripted(ReadSignal<bool>);

fn provide_scripted() {
    let (scripted, set_scripted) = signal(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_scripted.set(true));
    provide_context(Scripted(scripted));
}

pub fn use_scripted() -> ReadSignal<bool> {
    use_context::<Scripted>().map_or_else(|| signal(false).0, |Scripted(scripted)| scripted)
}

/// A real form posting to `/logout`: with JavaScript the page signs out in place; without
/// it, the browser posts and the server answers 303 to the library.
#[component]
fn SignOut() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let sign_out = Submission::new(
        |()| async move { api::logout().await },
        move |_| {
            auth.signed_out();
            navigate(Page::Library.path(), NavigateOptions::default());
        },
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        sign_out.submit(Ok(()));
    };
    view! {
        <form class="sign-out" method="post" action="/logout" on:submit=submit>
            <button type="submit" class="secondary small" disabled=move || sign_out.pending().get()>
                "Sign out"
            </button>
        </form>
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
                            <SignOut />
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
