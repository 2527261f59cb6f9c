//! A labelled input with its error message.

use leptos::prelude::*;

/// `<label>` + `<input>` bound to `value`, with `error` shown underneath and announced.
#[component]
pub fn Field(
    /// The input's name, and its id unless `id` is given.
    #[prop(into)]
    name: String,
    /// The input's id, when several forms on a page have a field of the same name.
    #[prop(optional, into)]
    id: Option<String>,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] required: bool,
    /// Shown under the input, e.g. what the rules ask for.
    #[prop(default = None)]
    hint: Option<Signal<String>>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| name.clone());
    let error_id = format!("{id}-error");
    let described = error_id.clone();
    let label_for = id.clone();
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=label_for>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described
                // The server-rendered value (a failed form's username); the property follows
                // the signal from then on.
                value=value.get_untracked()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            {hint.map(|hint| view! { <p class="hint">{move || hint.get()}</p> })}
            <p class="field-error" id=error_id role="alert">{move || error.get()}</p>
        </div>
    }
    .into_any()
}

/// A form-level error, announced to screen readers.
#[component]
pub fn ErrorMessage(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="error" role="alert" data-testid="error">{move || message.get()}</p>
        </Show>
    }
}
