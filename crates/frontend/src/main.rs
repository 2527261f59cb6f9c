//! Tracklist's single-page app: Leptos, client-side rendered, built with Trunk.
//!
//! It talks to the server only through [`api`], with the browser's same-origin cookie; it
//! never sees or stores the session id (the cookie is `HttpOnly`).

mod api;
mod app;
mod auth;
mod components;
mod error;
mod form;
mod pages;
mod routes;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
