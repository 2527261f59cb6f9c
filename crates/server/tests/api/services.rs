//! Real Redis and PostgreSQL servers that a test owns, so it can stop and restart them (the
//! `services` crate starts them), and how a test says it cannot run.

pub use services::{Postgres, Redis, postgres_available, redis_available};

/// Prints why a test does not run, where nobody can miss it: straight to stderr, which the
/// test harness does not capture (it captures only the print macros).
pub fn skip(test: &str, why: &str) {
    report(&format!("*** SKIPPED {test}: {why} ***"));
}

/// A line on the real stderr, shown even when the test passes.
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n{line}\n");
}
