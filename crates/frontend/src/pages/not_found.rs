//! Any other address (the server answers it with status 404).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::routes::Page;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <Title text="Not found" />
        <section class="card narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <A href=Page::Library.path()>"Back to the library"</A>
        </section>
    }
}
