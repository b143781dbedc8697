//! The `sessionkeeper-app` binary: everything is in the library, so tests can reach it.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    sessionkeeper_app::main()
}
