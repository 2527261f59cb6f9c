//! Where a page's data comes from. In the browser: the JSON API ([`crate::api`]). While the
//! server renders: the server's own services, handed to the components as a
//! [`ServerRender`] in context. Pages load through [`Source`] into a `Resource`; leptos
//! writes what the server loaded into the page, so the browser hydrates with the same rows
//! instead of asking for them again.

use std::future::Future;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use shared::{ErrorBody, ListQuery, SessionInfo, TwoFactorStatus, User};

use crate::catalogue::TrackPage;
use crate::error::ClientError;

/// A browser's form post that failed, answered with the page again: which form (its
/// action's path, for a page with several), what was typed (never a password or a code), and
/// why it was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormEcho {
    pub form: String,
    pub username: String,
    pub error: ErrorBody,
}

/// What a page shows because it answers a browser's form post (no JavaScript needed): the
/// form refused, or what the post made that is shown this once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostAnswer {
    pub echo: Option<FormEcho>,
    /// Recovery codes just made (two-step sign-in turned on, or new codes).
    pub recovery_codes: Option<Vec<String>>,
}

/// A `Send` boxed future, the shape [`PageData`] answers in.
#[cfg(feature = "ssr")]
pub type BoxFuture<T> = std::pin::Pin<Box<dyn Future<Output = T> + Send>>;

/// The server's services, as the pages need them, for the user of this request.
#[cfg(feature = "ssr")]
pub trait PageData: Send + Sync {
    /// A page of the catalogue, as the server keeps it (see [`crate::ServedPage`]).
    fn tracks(&self, query: ListQuery) -> BoxFuture<Result<crate::ServedPage, ClientError>>;
    /// The signed-in user's sessions and two-step sign-in (an error without one).
    fn account(&self) -> BoxFuture<Result<AccountData, ClientError>>;
}

/// What the account page loads: the user's sessions, and their two-step sign-in with the
/// key offered on this session, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountData {
    pub sessions: Vec<SessionInfo>,
    pub two_step: TwoFactorStatus,
}

/// What the server knows before it renders a page, provided as context for that rendering.
#[derive(Clone)]
pub struct ServerRender {
    /// The signed-in user, read before rendering (rendering never touches the session).
    pub user: Option<User>,
    /// What this page shows because it answers a form post.
    pub answer: PostAnswer,
    #[cfg(feature = "ssr")]
    pub data: std::sync::Arc<dyn PageData>,
}

/// Where this page's data is loaded from: the server's services or the JSON API.
#[derive(Clone)]
pub struct Source {
    #[cfg(feature = "ssr")]
    data: Option<std::sync::Arc<dyn PageData>>,
}

impl Source {
    /// The source for the component calling it (reads context).
    pub fn here() -> Self {
        Self {
            #[cfg(feature = "ssr")]
            data: use_context::<ServerRender>().map(|render| render.data),
        }
    }

    pub fn tracks(
        &self,
        query: ListQuery,
    ) -> impl Future<Output = Result<TrackPage, ClientError>> + Send + use<> {
        #[cfg(feature = "ssr")]
        {
            let data = self.data.clone();
            async move { Ok(Self::server(data)?.tracks(query).await?.into()) }
        }
        #[cfg(not(feature = "ssr"))]
        send_wrapper::SendWrapper::new(async move { Ok(crate::api::list_tracks(&query).await?.into()) })
    }

    pub fn account(&self) -> impl Future<Output = Result<AccountData, ClientError>> + Send + use<> {
        #[cfg(feature = "ssr")]
        {
            let data = self.data.clone();
            async move { Self::server(data)?.account().await }
        }
        #[cfg(not(feature = "ssr"))]
        send_wrapper::SendWrapper::new(async {
            let sessions = crate::api::sessions().await?;
            Ok(AccountData { sessions, two_step: crate::api::two_factor_status().await? })
        })
    }

    #[cfg(feature = "ssr")]
    fn server(
        data: Option<std::sync::Arc<dyn PageData>>,
    ) -> Result<std::sync::Arc<dyn PageData>, ClientError> {
        data.ok_or_else(|| ClientError::Network("rendered without the server's data".into()))
    }
}

/// A value the server decided while rendering, carried to the browser inside the page so
/// hydration starts from the same state (`csr` has no server: `on_server` gets `None`).
pub fn from_server<T>(on_server: impl FnOnce(Option<&ServerRender>) -> T) -> T
where
    T: Serialize + for<'de> Deserialize<'de> + Clone + Send + Sync + 'static,
{
    SharedValue::new(move || on_server(use_context::<ServerRender>().as_ref())).into_inner()
}

/// Who the server rendered the page for. A struct, not `Option<Option<User>>`, so that
/// "signed out" and "no server render" stay apart in JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenderedFor {
    pub user: Option<User>,
}

/// The signed-in user as the server saw it; `None` in the browser without a server render.
pub fn server_user() -> Option<RenderedFor> {
    from_server(|render| render.map(|render| RenderedFor { user: render.user.clone() }))
}

/// What the server's page says about the form post it answers.
pub fn server_answer() -> PostAnswer {
    from_server(|render| render.map(|render| render.answer.clone()).unwrap_or_default())
}

/// The failed form the server is answering, if any.
pub fn server_echo() -> Option<FormEcho> {
    server_answer().echo
}
