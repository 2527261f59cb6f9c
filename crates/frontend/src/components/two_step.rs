//! The account page's two-step sign-in settings: turn it on (a key shown as a QR code and as
//! text, confirmed with the password and a code, then the recovery codes shown once), turn
//! it off, make new recovery codes. Needs the page's script (the key is made on request), so
//! the account page shows it only once the script runs.

use leptos::prelude::*;
use shared::{CodeForm, TwoFactorChange, TwoFactorSetup};

use crate::api;
use crate::components::{ErrorMessage, Field};
use crate::form::Submission;

#[component]
pub fn TwoStepSettings() -> impl IntoView {
    let status = LocalResource::new(api::two_factor_status);
    let offered = RwSignal::new(None::<TwoFactorSetup>);
    // Shown once, right after they are made.
    let recovery_codes = RwSignal::new(None::<Vec<String>>);
    let begin = Submission::new(
        |()| async move { api::two_factor_setup().await },
        move |setup| {
            offered.set(Some(setup));
        },
    );
    let on_begin = move |_| begin.submit(Ok(()));

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
            <ErrorMessage message=begin.error />
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    status
                        .get()
                        .map(|result| match result {
                            Ok(state) if state.enabled => {
                                view! {
                                    <p data-testid="two-step-state">
                                        {format!(
                                            "On: signing in asks for a code from your app. {} recovery codes left.",
                                            state.recovery_codes_left,
                                        )}
                                    </p>
                                    <NewRecoveryCodes on_done=move |codes| {
                                        recovery_codes.set(Some(codes));
                                        status.refetch();
                                    } />
                                    <TurnOff on_done=move || {
                                        recovery_codes.set(None);
                                        status.refetch();
                                    } />
                                }
                                    .into_any()
                            }
                            Ok(_) => match offered.get() {
                                None => {
                                    view! {
                                        <p data-testid="two-step-state">
                                            "Off. With it on, signing in also asks for a code from an authenticator app on your phone."
                                        </p>
                                        <button type="button" on:click=on_begin disabled=move || begin.pending().get()>
                                            "Turn on two-step sign-in"
                                        </button>
                                    }
                                        .into_any()
                                }
                                Some(setup) => {
                                    view! {
                                        <TurnOn setup on_done=move |codes| {
                                            offered.set(None);
                                            recovery_codes.set(Some(codes));
                                            status.refetch();
                                        } />
                                    }
                                        .into_any()
                                }
                            },
                            Err(err) => view! { <p class="error" role="alert">{err.message()}</p> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

/// The offered key as a QR code and as text, and the form that confirms it.
#[component]
fn TurnOn(
    setup: TwoFactorSetup,
    on_done: impl Fn(Vec<String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let enable = Submission::new(
        |change: TwoFactorChange| async move { api::two_factor_enable(&change).await },
        move |codes: shared::RecoveryCodes| on_done(codes.codes),
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = TwoFactorChange { password: password.get_untracked(), code: code.get_untracked() };
        password.set(String::new());
        code.set(String::new());
        enable.submit(form.validate().map(|()| form.clone()));
    };
    view! {
        <p>"Scan this code with your authenticator app (or type the key below), then confirm with the code it shows."</p>
        // Markup the server drew from the key (rectangles only): no image service sees it.
        <div class="qr" aria-label="QR code of the key" role="img" inner_html=setup.qr_svg></div>
        <p>"Key: " <code data-testid="totp-secret">{setup.secret}</code></p>
        <form on:submit=submit novalidate>
            <Field name="enable-password" label="Your password" value=password error=enable.field("password") kind="password" autocomplete="current-password" required=true />
            <Field name="enable-code" label="Code from the app" value=code error=enable.field("code") autocomplete="one-time-code" required=true />
            <ErrorMessage message=enable.error />
            <button type="submit" disabled=move || enable.pending().get()>"Turn on"</button>
        </form>
    }
}

/// Turning it off: the password and a code.
#[component]
fn TurnOff(on_done: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let disable = Submission::new(
        |change: TwoFactorChange| async move { api::two_factor_disable(&change).await },
        move |_| on_done(),
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = TwoFactorChange { password: password.get_untracked(), code: code.get_untracked() };
        password.set(String::new());
        code.set(String::new());
        disable.submit(form.validate().map(|()| form.clone()));
    };
    view! {
        <form on:submit=submit novalidate>
            <h3>"Turn off"</h3>
            <Field name="disable-password" label="Your password" value=password error=disable.field("password") kind="password" autocomplete="current-password" required=true />
            <Field name="disable-code" label="Code from the app, or a recovery code" value=code error=disable.field("code") autocomplete="one-time-code" required=true />
            <ErrorMessage message=disable.error />
            <button type="submit" class="danger" disabled=move || disable.pending().get()>"Turn off two-step sign-in"</button>
        </form>
    }
}

/// Ten new recovery codes in place of the old ones: needs a code.
#[component]
fn NewRecoveryCodes(on_done: impl Fn(Vec<String>) + Copy + Send + Sync + 'static) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let regenerate = Submission::new(
        |form: CodeForm| async move { api::regenerate_recovery_codes(&form).await },
        move |codes: shared::RecoveryCodes| on_done(codes.codes),
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = CodeForm { code: code.get_untracked() };
        code.set(String::new());
        regenerate.submit(form.validate().map(|()| form.clone()));
    };
    view! {
        <form on:submit=submit novalidate>
            <h3>"New recovery codes"</h3>
            <Field name="regenerate-code" label="Code from the app" value=code error=regenerate.field("code") autocomplete="one-time-code" required=true />
            <ErrorMessage message=regenerate.error />
            <button type="submit" class="secondary" disabled=move || regenerate.pending().get()>"Make new recovery codes"</button>
        </form>
    }
}
