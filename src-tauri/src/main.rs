//! The `sessionkeeper-app` binary: everything is in the library, so tests can reach it.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    for (name, value) in sessionkeeper_app::WEBKIT_ENVIRONMENT {
        // A value the person set (in the desktop file, say) stays theirs.
        if std::env::var_os(name).is_none() {
            #[allow(unsafe_code)]
            // SAFETY: this is the process's first statement: no other thread exists yet, so
            // nothing can read or write the environment while it changes.
            unsafe {
                std::env::set_var(name, value);
            }
        }
    }
    sessionkeeper_app::main()
}
