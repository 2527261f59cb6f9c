//! The account page's two-step sign-in settings: turn it on (a key shown as a QR code and as
//! text, confirmed with the password and a code; the recovery codes are then shown once),
//! turn it off, make new recovery codes.
//!
//! Plain HTML forms posting to the API, with or without JavaScript: the server answers each
//! browser post with this page (what the post made, or the form again with why it was
//! refused, see `data::PostAnswer`) or 303 back here. So the settings work without the
//! script, and the bundle carries no client logic for them, only their markup.

use leptos::either::Either;
use leptos::prelude::*;
use shared::{TwoFactorSetup, TwoFactorStatus};

use crate::components::{ErrorMessage, Field};
use crate::data::{FormEcho, server_answer};

use crate::routes::form_action::{
    RECOVERY_CODES as NEW_CODES, TWO_STEP_DISABLE as DISABLE, TWO_STEP_ENABLE as ENABLE,
    TWO_STEP_SETUP as SETUP,
};

#[component]
pub fn TwoStepSettings(state: TwoFactorStatus) -> impl IntoView {
    let answer = server_answer();
    let echo = answer.echo;
    view! {
        <section class="card narrow" data-testid="two-step">
            <h2>"Two-step sign-in"</h2>
            {answer.recovery_codes.map(|codes| view! {
                <div class="recovery-codes" role="status">
                    <p>
                        <strong>"Save these recovery codes now."</strong>
                        " Each signs you in once if you lose your authenticator app; they are not shown again."
                    </p>
                    <ul data-testid="recovery-codes">
                        {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
                    </ul>
                </div>
            })}
            {match state {
                state if state.enabled => Either::Left(view! {
                    <p data-testid="two-step-state">
                        {format!("On: signing in asks for a code from your app. {} recovery codes left.", state.recovery_codes_left)}
                    </p>
                    {code_form(NEW_CODES, "New recovery codes", false, "Code from the app", "Make new recovery codes", echo.clone())}
                    {code_form(DISABLE, "Turn off", true, "Code from the app, or a recovery code", "Turn off two-step sign-in", echo)}
                }),
                TwoFactorStatus { offered: Some(setup), .. } => Either::Right(Either::Left(offered_key(setup, echo))),
                _ => Either::Right(Either::Right(view! {
                    <p data-testid="two-step-state">
                        "Off. With it on, signing in also asks for a code from an authenticator app on your phone."
                    </p>
                    <ErrorMessage message=Signal::stored(refusal(echo.as_ref(), SETUP)) />
                    <form method="post" action=SETUP>
                        <button type="submit">"Turn on two-step sign-in"</button>
                    </form>
                })),
            }}
        </section>
    }
}

/// The key offered for enrolment, as a QR code and as text, and the form confirming it.
fn offered_key(setup: TwoFactorSetup, echo: Option<FormEcho>) -> impl IntoView {
    view! {
        <p>"Scan this code with your authenticator app (or type the key below), then confirm with the code it shows."</p>
        // Markup the server drew from the key (rectangles only): no image service sees it.
        <div class="qr" aria-label="QR code of the key" role="img" inner_html=setup.qr_svg></div>
        <p>"Key: " <code data-testid="totp-secret">{setup.secret}</code></p>
        {code_form(ENABLE, "Confirm", true, "Code from the app", "Turn on", echo)}
    }
}

/// A form posting a code (and the password, when asked for) to `action`, with the server's
/// messages when `echo` is its refusal.
fn code_form(
    action: &'static str,
    title: &'static str,
    with_password: bool,
    code_label: &'static str,
    button: &'static str,
    echo: Option<FormEcho>,
) -> impl IntoView {
    let echo = echo.filter(|echo| echo.form == action);
    let field = |name: &str| echo.as_ref().and_then(|echo| echo.error.fields.as_ref()?.get(name).cloned());
    let (password_error, code_error) = (field("password"), field("code"));
    let error = refusal(echo.as_ref(), action);
    // The inputs' ids: the action's last segment keeps them apart across the page's forms.
    let id = action.rsplit('/').next().unwrap_or(action);
    view! {
        <form method="post" action=action novalidate>
            <h3>{title}</h3>
            {with_password.then(|| view! {
                <Field name="password" id=format!("{id}-password") label="Your password" value=RwSignal::new(String::new()) error=Signal::stored(password_error) kind="password" autocomplete="current-password" required=true />
            })}
            <Field name="code" id=format!("{id}-code") label=code_label value=RwSignal::new(String::new()) error=Signal::stored(code_error) autocomplete="one-time-code" required=true />
            <ErrorMessage message=Signal::stored(error) />
            <button type="submit">{button}</button>
        </form>
    }
}

/// The message of `echo` when it refused the form posting to `action`.
fn refusal(echo: Option<&FormEcho>, action: &str) -> Option<String> {
    echo.filter(|echo| echo.form == action).map(|echo| echo.error.detail.clone())
}
