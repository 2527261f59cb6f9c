// `sqlx::migrate!` embeds the migrations when the crate compiles; Cargo does not know it read
// them, so without this a new migration would not make it into the next build.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
