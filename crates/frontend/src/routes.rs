//! Every page path of the app. None of them shadows an API path (`/login`, `/logout`,
//! `/users/…`, `/tracks…`), so the server can tell pages from API calls by path alone.

/// The pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Library,
    SignIn,
    SignUp,
    Account,
}

impl Page {
    pub const fn path(self) -> &'static str {
        match self {
            Self::Library => "/",
            Self::SignIn => "/sign-in",
            Self::SignUp => "/sign-up",
            Self::Account => "/account",
        }
    }

    /// The sign-in page, coming back to `next` afterwards.
    pub fn sign_in_then(next: &str) -> String {
        format!("{}?next={}", Self::SignIn.path(), js_sys::encode_uri_component(next))
    }
}

/// Where to go after signing in: only a path of this app, never another site.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|path| path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'))
        .unwrap_or_else(|| Page::Library.path().to_owned())
}

/// Sets the document title as `"{page} · Tracklist"`.
pub fn set_title(page: &str) {
    leptos::prelude::document().set_title(&format!("{page} · Tracklist"));
}
