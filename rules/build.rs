//! The bundled packs are embedded by `include_dir!` (src/bundled.rs), which sees a file added
//! to a pack only when this crate is compiled again: watching the folder makes sure it is.

fn main() {
    println!("cargo::rerun-if-changed=packs");
}
