//! Tracklist's server: session-cookie sign-in and the tracks catalogue over axum, with
//! server-side sessions (tower-sessions, in the database or Redis) and SQLite or PostgreSQL
//! through sqlx.
//!
//! `main.rs` only parses the command line; everything else lives here so the integration
//! tests build exactly the application that runs.

pub mod auth;
pub mod catalogue_cache;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod extract;
pub mod headers;
pub mod kept_pages;
pub mod metrics;
pub mod pages;
pub mod routes;
pub mod serve;
pub mod session;
pub mod site;
pub mod startup;
pub mod state;

pub use config::Config;
pub use startup::Application;
