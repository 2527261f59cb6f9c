//! The account page's two-step sign-in settings: turn it on (a key shown as a QR code and as
//! text, confirmed with the password and a code, then the recovery codes shown once), turn
//! it off, make new recovery codes. Needs the page's script (the key is made on request), so
//! the account page shows it only once the script runs.
//!
//! Every request goes through one [`Submission`] (an [`Ask`], answered by an [`Answer`]):
//! each distinct submission type costs the bundle its own copy of the action machinery.

use leptos::prelude::*;
use shared::{CodeForm, TwoFactorChange, TwoFactorSetup};

use crate::api;
use crate::components::{ErrorMessage, Field};
use crate::error::ClientError;
use crate::form::Submission;

/// What the settings ask the server.
#[derive(Debug, Clone)]
enum Ask {
    Key,
    TurnOn(TwoFactorChange),
    TurnOff(TwoFactorChange),
    NewCodes(CodeForm),
}

/// What the server answered.
#[derive(Debug, Clone)]
enum Answer {
    Key(TwoFactorSetup),
    Codes(Vec<String>),
    Off,
}

async fn ask(ask: Ask) -> Result<Answer, ClientError> {
    match ask {
        Ask::Key => api::two_factor_setup().await.map(Answer::Key),
        Ask::TurnOn(change) => api::two_factor_enable(&change).await.map(|codes| Answer::Codes(codes.codes)),
        Ask::TurnOff(change) => api::two_factor_disable(&change).await.map(|_| Answer::Off),
        Ask::NewCodes(form) => api::regenerate_recovery_codes(&form).await.map(|codes| Answer::Codes(codes.codes)),
    }
}

/// Which form asked last: its fields show the answer's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    TurnOn,
    TurnOff,
    NewCodes,
}

#[component]
pub fn TwoStepSettings() -> impl IntoView {
    // Loaded by hand rather than through a resource and `<Suspense>`: this is the only
    // place either would be used for, and each costs the bundle its own machinery.
    let status = RwSignal::new(None::<Result<shared::TwoFactorStatus, ClientError>>);
    let reload = move || {
        leptos::task::spawn_local(async move { status.set(Some(api::two_factor_status().await)) });
    };
    reload();
    let offered = RwSignal::new(None::<TwoFactorSetup>);
    // Shown once, right after they are made.
    let recovery_codes = RwSignal::new(None::<Vec<String>>);
    let last = RwSignal::new(None::<Form>);
    let submission = Submission::new(ask, move |answer| {
        match answer {
            Answer::Key(setup) => offered.set(Some(setup)),
            Answer::Codes(codes) => {
                offered.set(None);
                recovery_codes.set(Some(codes));
            }
            Answer::Off => recovery_codes.set(None),
        }
        reload();
    });
    let send = move |form: Form, password: Option<String>, code: String| {
        last.set(Some(form));
        let change = |code| TwoFactorChange { password: password.clone().unwrap_or_default(), code };
        let checked = match form {
            Form::TurnOn => {
                let change = change(code);
                change.validate().map(|()| Ask::TurnOn(change))
            }
            Form::TurnOff => {
                let change = change(code);
                change.validate().map(|()| Ask::TurnOff(change))
            }
            Form::NewCodes => {
                let form = CodeForm { code };
                form.validate().map(|()| Ask::NewCodes(form))
            }
        };
        submission.submit(checked);
    };
    let form = move |form: Form, id: &'static str, title: &'static str, with_password: bool, code_label: &'static str, button: &'static str| {
        let error = Signal::derive(move || submission.error.get().filter(|_| last.get() == Some(form)));
        let field = move |name: &'static str| {
            let message = submission.field(name);
            Signal::derive(move || message.get().filter(|_| last.get() == Some(form)))
        };
        view! { <CodeForm id title with_password code_label button error password_error=field("password") code_error=field("code") on_send=move |password, code| send(form, password, code) /> }
    };

    view! {
        <section class="card narrow" data-testid="two-step">
            <h2>"Two-step sign-in"</h2>
            {move || {
                recovery_codes
                    .get()
                    .map(|codes| {
                        view! {
                            <div class="recovery-codes" role="status">
                                <p>
                                    <strong>"Save these recovery codes now."</strong>
                                    " Each signs you in once if you lose your authenticator app; they are not shown again."
                                </p>
                                <ul data-testid="recovery-codes">
                                    {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
                                </ul>
                            </div>
                        }
                    })
            }}
            {move || match status.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(result) => match result {
                            Ok(state) if state.enabled => {
                                view! {
                                    <p data-testid="two-step-state">
                                        {format!(
                                            "On: signing in asks for a code from your app. {} recovery codes left.",
                                            state.recovery_codes_left,
                                        )}
                                    </p>
                                    {form(Form::NewCodes, "new-codes", "New recovery codes", false, "Code from the app", "Make new recovery codes")}
                                    {form(Form::TurnOff, "turn-off", "Turn off", true, "Code from the app, or a recovery code", "Turn off two-step sign-in")}
                                }
                                    .into_any()
                            }
                            Ok(_) => match offered.get() {
                                None => {
                                    view! {
                                        <p data-testid="two-step-state">
                                            "Off. With it on, signing in also asks for a code from an authenticator app on your phone."
                                        </p>
                                        <ErrorMessage message=submission.error />
                                        <button type="button" on:click=move |_| { last.set(None); submission.submit(Ok(Ask::Key)) } disabled=move || submission.pending().get()>
                                            "Turn on two-step sign-in"
                                        </button>
                                    }
                                        .into_any()
                                }
                                Some(setup) => {
                                    view! {
                                        <p>"Scan this code with your authenticator app (or type the key below), then confirm with the code it shows."</p>
                                        // Markup the server drew from the key (rectangles only): no image service sees it.
                                        <div class="qr" aria-label="QR code of the key" role="img" inner_html=setup.qr_svg></div>
                                        <p>"Key: " <code data-testid="totp-secret">{setup.secret}</code></p>
                                        {form(Form::TurnOn, "turn-on", "Confirm", true, "Code from the app", "Turn on")}
                                    }
                                        .into_any()
                                }
                            },
                            Err(err) => view! { <p class="error" role="alert">{err.message()}</p> }.into_any(),
                },
            }}
        </section>
    }
}

/// A code (and the password, when asked for), sent with `on_send`.
#[component]
fn CodeForm(
    /// Prefix of the fields' ids.
    id: &'static str,
    title: &'static str,
    with_password: bool,
    code_label: &'static str,
    button: &'static str,
    error: Signal<Option<String>>,
    password_error: Signal<Option<String>>,
    code_error: Signal<Option<String>>,
    on_send: impl Fn(Option<String>, String) + Send + Sync + 'static,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_send(with_password.then(|| password.get_untracked()), code.get_untracked());
        password.set(String::new());
        code.set(String::new());
    };
    view! {
        <form on:submit=submit novalidate>
            <h3>{title}</h3>
            {with_password.then(|| view! {
                <Field name=format!("{id}-password") label="Your password" value=password error=password_error kind="password" autocomplete="current-password" required=true />
            })}
            <Field name=format!("{id}-code") label=code_label value=code error=code_error autocomplete="one-time-code" required=true />
            <ErrorMessage message=error />
            <button type="submit">{button}</button>
        </form>
    }
}
