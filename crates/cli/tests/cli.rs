//! Smoke tests of the binary itself. Their presence also makes `cargo test --workspace` build
//! the `sessionkeeper` binary before the workspace tests in `tests/` run it.

use std::process::Command;

#[test]
fn help_lists_every_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_sessionkeeper"))
        .arg("--help")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in [
        "validate", "status", "export", "import", "restore", "extend", "secret",
    ] {
        assert!(
            help.contains(command),
            "--help does not list {command}:\n{help}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_sessionkeeper"))
        .arg("frobnicate")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}
