//! The username and password inputs that sign-in and sign-up share.

use leptos::prelude::*;
use shared::validate;

use super::Field;

#[component]
pub fn CredentialFields(
    username: RwSignal<String>,
    password: RwSignal<String>,
    #[prop(into)] username_error: Signal<Option<String>>,
    #[prop(into)] password_error: Signal<Option<String>>,
    /// `current-password` to sign in, `new-password` to sign up (password managers read it).
    password_autocomplete: &'static str,
    #[prop(default = None)] password_hint: Option<Signal<String>>,
) -> impl IntoView {
    view! {
        <Field
            name="username"
            label="Username"
            value=username
            error=username_error
            autocomplete="username"
            required=true
        />
        <Field
            name="password"
            label="Password"
            value=password
            error=password_error
            kind="password"
            autocomplete=password_autocomplete
            required=true
            hint=password_hint
        />
    }
}

/// What a new password's field says under it as it is typed: its length as counted (after
/// NFKC, as the server counts) against the rule.
pub fn new_password_hint(password: RwSignal<String>) -> Signal<String> {
    Signal::derive(move || {
        let length = validate::normalize_password(&password.get()).chars().count();
        format!("{length} / at least {} characters; any characters, spaces welcome", validate::PASSWORD_MIN)
    })
}
