//! A one-time link's token (password reset, invitation), read from the address's fragment
//! once the page runs: browsers never send the fragment to the server, nor put it in a
//! `Referer`. The page then takes it out of the address bar (and so out of history), asks the
//! server whether the link still works, and keeps the token only in memory for its form.

use leptos::prelude::*;
use shared::LinkStatus;
use shared::links::token_of_fragment;
use wasm_bindgen::JsValue;

use crate::api;
use crate::error::ClientError;

/// What the page knows about the link it was opened from.
#[derive(Debug, Clone, PartialEq)]
pub enum Opened {
    /// The page has not run its script yet (or is rendered on the server).
    Unread,
    /// The address carries no token.
    NoToken,
    /// Asking the server about the link.
    Checking,
    Checked {
        token: String,
        status: LinkStatus,
    },
    Failed(ClientError),
}

/// The link this page was opened from, as it becomes known.
pub fn use_opened_link() -> ReadSignal<Opened> {
    let (opened, set_opened) = signal(Opened::Unread);
    // Effects run only in the browser.
    Effect::new(move |_| {
        let location = window().location();
        let Some((token, selector)) = location
            .hash()
            .ok()
            .as_deref()
            .and_then(token_of_fragment)
            .map(|(token, selector)| (token.to_owned(), selector.to_owned()))
        else {
            set_opened.set(Opened::NoToken);
            return;
        };
        let without_fragment =
            format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default());
        if let Ok(history) = window().history() {
            // Failing leaves the token in the address bar, which is no worse than before.
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&without_fragment));
        }
        set_opened.set(Opened::Checking);
        leptos::task::spawn_local(async move {
            set_opened.set(match api::link_status(&selector).await {
                Ok(status) => Opened::Checked { token, status },
                Err(err) => Opened::Failed(err),
            });
        });
    });
    opened
}
