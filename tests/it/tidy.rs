//! Tidy checks: architecture invariants kept true by tests.

use std::path::Path;
use std::process::Command;

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
}

/// Architecture invariant: the CLI and core build on machines without GTK/WebKit.
#[test]
fn cli_and_core_depend_on_no_tauri_gtk_or_webkit() {
    for package in ["sessionkeeper", "sessionkeeper-core"] {
        let out = Command::new(env!("CARGO"))
            .args([
                "tree",
                "-p",
                package,
                "-e",
                "normal,build",
                "--prefix",
                "none",
                "--target",
                "all",
            ])
            .current_dir(workspace_root())
            .output()
            .expect("cargo tree runs");
        assert!(
            out.status.success(),
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tree = String::from_utf8_lossy(&out.stdout);
        assert!(
            tree.contains("sessionkeeper-core"),
            "cargo tree printed nothing useful:\n{tree}"
        );
        let forbidden: Vec<&str> = tree
            .lines()
            .filter(|l| {
                let name = l.split_whitespace().next().unwrap_or_default();
                [
                    "tauri",
                    "gtk",
                    "webkit",
                    "wry",
                    "tao",
                    "gdk",
                    "javascriptcore",
                    "soup",
                ]
                .iter()
                .any(|f| {
                    name == *f
                        || name.starts_with(&format!("{f}-"))
                        || name.starts_with(&format!("{f}2"))
                })
            })
            .collect();
        assert!(forbidden.is_empty(), "{package} depends on {forbidden:?}");
    }
}

/// Every module says what it is for in a `//!` line.
#[test]
fn every_module_has_a_doc_line() {
    let mut missing = Vec::new();
    let mut stack = vec![
        workspace_root().join("crates"),
        workspace_root().join("tests"),
    ];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source");
                if !text.trim_start().starts_with("//!") {
                    missing.push(path.display().to_string());
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "modules without a //! doc line: {missing:?}"
    );
}

/// The shipped workflow keeps its promises: scheduled every 4 hours and on demand, the
/// permissions it needs, the session only through the environment.
#[test]
fn the_example_workflow_is_least_privilege_and_never_exposes_the_session() {
    let path = workspace_root().join("examples/github-workflow.yml");
    let text = std::fs::read_to_string(&path).expect("examples/github-workflow.yml");
    for needed in [
        "cron: '0 */4 * * *'",
        "workflow_dispatch:",
        "issues: write",
        "contents: read",
        "MTN_SESSION: ${{ secrets.MTN_SESSION }}",
        "--session-env MTN_SESSION",
        "--github-issue \"$GITHUB_REPOSITORY\"",
    ] {
        assert!(text.contains(needed), "the workflow lacks {needed:?}");
    }
    let code: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    for line in &code {
        assert!(
            !line.contains("GITHUB_OUTPUT") && !line.contains("::set-output"),
            "step outputs: {line}"
        );
        assert!(
            !(line.contains("echo") && line.contains("SESSION")),
            "echoes the session: {line}"
        );
        assert!(!line.contains("write-all"), "broad permissions: {line}");
    }
}
