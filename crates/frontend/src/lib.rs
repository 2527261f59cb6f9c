//! Tracklist's pages (Leptos). The same components render on the server (feature `ssr`,
//! through leptos_axum in the server crate) and run in the browser: hydrating that HTML
//! (`hydrate`, the release build) or rendering from scratch (`csr`, the `trunk serve` loop).
//!
//! In the browser it talks to the server only through [`api`], with the browser's
//! same-origin cookie; it never sees or stores the session id (the cookie is `HttpOnly`).
//! While the server renders, a page's data comes from the server's own services instead
//! ([`PageData`]), never from an HTTP call back to itself.

mod api;
mod app;
mod auth;
mod catalogue;
mod components;
mod data;
mod error;
mod form;
mod link;
mod pages;
mod routes;

pub use app::App;
#[cfg(feature = "ssr")]
pub use catalogue::ServedPage;
pub use data::{AccountData, FormEcho, PostAnswer, ServerRender};
#[cfg(feature = "ssr")]
pub use data::{BoxFuture, PageData};
pub use error::ClientError;
pub use routes::{Page, form_action};
