use leptos::prelude::*;
use leptos_router::components::A;

use crate::routes::{Page, set_title};

#[component]
pub fn NotFoundPage() -> impl IntoView {
    set_title("Not found");
    view! {
        <section class="card narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <A href=Page::Library.path()>"Back to the library"</A>
        </section>
    }
}
