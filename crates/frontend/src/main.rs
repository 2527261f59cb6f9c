//! The browser entry point: hydrates the server's HTML (`hydrate`) or renders the app from
//! scratch (`csr`, for `trunk serve`).

fn main() {
    console_error_panic_hook::set_once();
    #[cfg(feature = "hydrate")]
    leptos::mount::hydrate_body(frontend::App);
    #[cfg(all(feature = "csr", not(feature = "hydrate")))]
    leptos::mount::mount_to_body(frontend::App);
}
