//! The current user, shared through context: as the server saw it when it rendered the
//! page, or (in `csr`, with no server render) loaded once from `GET /users/me`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::User;

use crate::api;
use crate::data::{self, RenderedFor};
use crate::error::ClientError;

#[derive(Debug, Clone, PartialEq)]
pub enum AuthState {
    Loading,
    SignedOut,
    SignedIn(User),
    /// `/users/me` failed for another reason than 401 (server down, say).
    Failed(ClientError),
}

/// Provided at the root; `use_auth()` gets it.
#[derive(Debug, Clone, Copy)]
pub struct Auth {
    state: RwSignal<AuthState>,
}

impl Auth {
    pub fn provide() -> Self {
        let initial = match data::server_user() {
            Some(RenderedFor { user: Some(user) }) => AuthState::SignedIn(user),
            Some(RenderedFor { user: None }) => AuthState::SignedOut,
            None => AuthState::Loading,
        };
        let loading = initial == AuthState::Loading;
        let auth = Self { state: RwSignal::new(initial) };
        provide_context(auth);
        // Only a browser without a server render asks; the server never calls itself.
        if loading && cfg!(not(feature = "ssr")) {
            auth.refresh();
        }
        auth
    }

    pub fn state(&self) -> AuthState {
        self.state.get()
    }

    pub fn user(&self) -> Option<User> {
        match self.state.get() {
            AuthState::SignedIn(user) => Some(user),
            _ => None,
        }
    }

    /// Reloads the current user (after sign-in, say).
    pub fn refresh(&self) {
        let state = self.state;
        spawn_local(async move {
            state.set(match api::me().await {
                Ok(Some(user)) => AuthState::SignedIn(user),
                Ok(None) => AuthState::SignedOut,
                Err(err) => AuthState::Failed(err),
            });
        });
    }

    pub fn signed_out(&self) {
        self.state.set(AuthState::SignedOut);
    }

    /// Any call's 401 means the session is gone: the app returns to the signed-out state.
    pub fn notice(&self, err: &ClientError) {
        if err.is_unauthorized() {
            self.signed_out();
        }
    }
}

pub fn use_auth() -> Auth {
    use_context::<Auth>().unwrap_or_else(Auth::provide)
}
