//! The CLI's build step: the commit it is built from, for `--version`.

include!("../../build/commit.rs");

fn main() {
    emit_commit();
}
