//! The one way a form submits: a [`Submission`] checks the input with the shared rules, runs
//! the call as a Leptos `Action` (so the pending state comes with it), shows the server's
//! per-field and form-wide messages, and sends a visitor whose session has ended (401
//! `not_authenticated`) to sign-in, to come back afterwards. Sign-in, sign-up, the password
//! change, the track form and the session list all go through it.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use send_wrapper::SendWrapper;
use shared::{ErrorBody, FieldErrors};

use crate::auth::use_auth;
use crate::error::ClientError;
use crate::routes::Page;

pub struct Submission<I: 'static, O: 'static> {
    action: Action<I, Result<O, ClientError>>,
    /// Per-field messages: the shared rules' before sending, the server's 422 after.
    pub fields: RwSignal<FieldErrors>,
    /// The form-wide message of the last failure.
    pub error: RwSignal<Option<String>>,
}

impl<I, O> Clone for Submission<I, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I, O> Copy for Submission<I, O> {}

impl<I, O> Submission<I, O>
where
    I: Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    /// `send` makes the call; `on_success` gets its answer.
    pub fn new<Fut>(send: impl Fn(I) -> Fut + Send + Sync + 'static, on_success: impl Fn(O) + 'static) -> Self
    where
        Fut: Future<Output = Result<O, ClientError>> + 'static,
    {
        let auth = use_auth();
        let navigate = use_navigate();
        // The calls run in the browser's one thread, so their futures need not be `Send`;
        // the action itself must be, because the server renders (never runs) it on a
        // multi-threaded runtime, and a thread-bound action would be dropped on another thread.
        let action = Action::new(move |input: &I| SendWrapper::new(send(input.clone())));
        let fields = RwSignal::new(FieldErrors::new());
        let error = RwSignal::new(None::<String>);
        Effect::new(move |_| match action.value().get() {
            Some(Ok(answer)) => on_success(answer),
            Some(Err(err)) if err.session_ended() => {
                auth.signed_out();
                let here = window().location();
                let path =
                    format!("{}{}", here.pathname().unwrap_or_default(), here.search().unwrap_or_default());
                navigate(&Page::sign_in_then(&path), NavigateOptions { replace: true, ..Default::default() });
            }
            Some(Err(err)) => {
                fields.set(err.fields());
                error.set(Some(err.message()));
            }
            None => {}
        });
        Self { action, fields, error }
    }

    /// Sends `input` if the shared rules passed it (`checked`), else shows their messages.
    pub fn submit(&self, checked: Result<I, FieldErrors>) {
        match checked {
            Ok(input) => {
                self.fields.set(FieldErrors::new());
                self.error.set(None);
                self.action.dispatch(input);
            }
            Err(errors) => self.fields.set(errors),
        }
    }

    /// Shows the server's refusal of a browser form post this page answers (see
    /// [`crate::data::FormEcho`]), as if this submission had received it.
    pub fn show(&self, refused: &ErrorBody) {
        self.fields.set(refused.fields.clone().unwrap_or_default());
        self.error.set(Some(refused.detail.clone()));
    }

    pub fn pending(&self) -> Memo<bool> {
        self.action.pending()
    }

    /// The message for field `name`.
    pub fn field(&self, name: &'static str) -> Signal<Option<String>> {
        let fields = self.fields;
        Signal::derive(move || fields.with(|fields| fields.get(name).cloned()))
    }
}
