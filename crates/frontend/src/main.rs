//! Placeholder; the SPA arrives with issue 3.
fn main() {}
