//! The API, black-box: each test starts the real application on port 0 against a fresh
//! temporary SQLite database and talks HTTP to it.

mod helpers;
mod services;

mod account;
mod audit;
mod cli;
mod connections;
mod errors;
mod faults;
mod fuzz;
mod links;
mod login;
mod openapi;
mod operations;
mod page_cache;
mod pages;
mod reliability;
mod revocation;
mod scale_out;
mod security;
mod sessions;
mod site;
mod throttling;
mod tracks;
mod two_factor;
mod users;
