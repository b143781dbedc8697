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

/// Every Rust source of the workspace (crates, the app, the tests), with its text.
fn workspace_sources() -> Vec<(std::path::PathBuf, String)> {
    let mut sources = Vec::new();
    let mut stack = vec![
        workspace_root().join("crates"),
        workspace_root().join("src-tauri/src"),
        workspace_root().join("tests"),
    ];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source");
                sources.push((path, text));
            }
        }
    }
    sources
}

/// Every module says what it is for in a `//!` line.
#[test]
fn every_module_has_a_doc_line() {
    let missing: Vec<String> = workspace_sources()
        .into_iter()
        .filter(|(_, text)| !text.trim_start().starts_with("//!"))
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a //! doc line: {missing:?}"
    );
}

/// Unsafe code is denied everywhere and allowed in two places only, where its safety is
/// argued: the app's memory at rest (`madvise` on its own executable's mappings), and the
/// app binary's first statement (WebKit's environment, set before any thread exists).
#[test]
fn unsafe_code_is_allowed_only_where_its_safety_is_argued() {
    let allowed = [
        workspace_root().join("src-tauri/src/memory.rs"),
        workspace_root().join("src-tauri/src/main.rs"),
    ];
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).expect("manifest");
    assert!(
        manifest.contains("unsafe_code = \"deny\""),
        "the workspace denies unsafe code"
    );
    let mut found = Vec::new();
    for (path, text) in workspace_sources() {
        // (Spelt in two, so that this test is not a match of its own.)
        if !code(&text).contains(concat!("allow(", "unsafe_code)")) {
            continue;
        }
        if !allowed.contains(&path) {
            found.push(path.display().to_string());
        }
        assert!(
            text.contains("// SAFETY:"),
            "{}: an unsafe block without its SAFETY argument",
            path.display()
        );
    }
    assert!(found.is_empty(), "unsafe code allowed in {found:?}");
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

/// Finding: the example workflow pinned actions to tags (which can be moved), installed
/// Session Keeper from `main` (unreviewed code in a job that holds the session and may write
/// issues) and left `persist-credentials` at its default.
#[test]
fn finding_the_example_workflow_pins_what_it_runs() {
    let path = workspace_root().join("examples/github-workflow.yml");
    let text = std::fs::read_to_string(&path).expect("examples/github-workflow.yml");
    let code: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    let uses: Vec<&str> = code
        .iter()
        .filter_map(|l| l.split("uses:").nth(1))
        .map(str::trim)
        .collect();
    assert!(!uses.is_empty(), "the workflow uses actions");
    for action in &uses {
        let (_, rev) = action.split_once('@').expect("action@rev");
        let rev = rev.split_whitespace().next().unwrap_or_default();
        assert!(
            rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit()),
            "{action}: pin the commit, not a tag"
        );
    }
    assert!(
        code.iter()
            .any(|l| l.trim() == "persist-credentials: false"),
        "checkout leaves no token behind"
    );
    let install = code
        .iter()
        .find(|l| l.contains("cargo install"))
        .expect("the install step");
    assert!(
        install.contains("--tag") || install.contains("--rev"),
        "{install}"
    );
    for branch in [": main", ": master"] {
        assert!(
            !code
                .iter()
                .any(|l| l.contains("SESSIONKEEPER_") && l.ends_with(branch)),
            "installs from a branch"
        );
    }
}

/// The modules of one crate, and which of them each one's code names (`crate::x`, or, in the
/// crate root, `x::`): the graph a cycle would show in.
fn module_graph(
    src: &Path,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    let root_file = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .find(|p| p.exists())
        .expect("a crate root");
    // Top-level modules: the files and directories beside the root.
    let modules: BTreeSet<String> = std::fs::read_dir(src)
        .expect("src")
        .flatten()
        .filter_map(|e| {
            let path = e.path();
            let name = path.file_stem()?.to_string_lossy().into_owned();
            let is_module = path.is_dir() || path.extension().is_some_and(|x| x == "rs");
            (is_module && name != "lib" && name != "main" && name != "bin").then_some(name)
        })
        .collect();
    let root_text = code(&std::fs::read_to_string(&root_file).expect("root"));
    // What the root re-exports (`pub use m::{A, B};`, over several lines too) is an alias of
    // m's items, not a use of m by the root's own code.
    let mut aliases: BTreeMap<String, String> = BTreeMap::new();
    let mut root_code = String::new();
    for statement in root_text.split_inclusive(';') {
        let trimmed = statement.trim();
        if let Some(rest) = trimmed.strip_prefix("pub use ") {
            let (module, items) = rest.split_once("::").unwrap_or((rest, ""));
            for item in items
                .trim_end_matches(';')
                .trim()
                .trim_matches(|c| c == '{' || c == '}')
                .split(',')
            {
                let name = item.trim().rsplit("::").next().unwrap_or_default();
                let name = name.rsplit(" as ").next().unwrap_or(name).trim();
                if !name.is_empty() {
                    aliases.insert(name.to_owned(), module.trim().to_owned());
                }
            }
        } else {
            root_code.push_str(statement);
        }
    }
    // `mod x;` declares, it does not use.
    let root_code: String = root_code
        .lines()
        .filter(|l| !l.trim_start().starts_with("mod ") && !l.trim_start().starts_with("pub mod "))
        .collect::<Vec<_>>()
        .join("\n");
    let target = |name: &str| -> Option<String> {
        if modules.contains(name) {
            Some(name.to_owned())
        } else {
            aliases
                .get(name)
                .cloned()
                .or_else(|| Some("crate root".to_owned()))
        }
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let named = |text: &str, prefix: &str| -> Vec<String> {
        let mut found = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
        found
    };
    // The root's own code names modules without `crate::` (`tray::build`).
    let mentions = |text: &str, module: &str| {
        let path = format!("{module}::");
        text.match_indices(&path).any(|(at, _)| {
            !text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
        })
    };
    let root_edges: BTreeSet<String> = modules
        .iter()
        .filter(|m| mentions(&root_code, m))
        .cloned()
        .collect();
    graph.insert("crate root".to_owned(), root_edges);
    for module in &modules {
        let mut edges = BTreeSet::new();
        let file = src.join(format!("{module}.rs"));
        let files: Vec<std::path::PathBuf> = if file.exists() {
            vec![file]
        } else {
            let mut all = Vec::new();
            let mut stack = vec![src.join(module)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).expect("dir").flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "rs") {
                        all.push(p);
                    }
                }
            }
            all
        };
        for f in files {
            let text = code(&std::fs::read_to_string(&f).expect("source"));
            for name in named(&text, "crate::") {
                if let Some(t) = target(&name)
                    && t != *module
                {
                    edges.insert(t);
                }
            }
        }
        graph.insert(module.clone(), edges);
    }
    graph
}

/// `text` without its comments (doc comments included), so that prose naming a module is
/// no dependency.
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A cycle in `graph`, as the path that closes it, if there is one.
fn find_cycle(
    graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

/// Architecture invariant: no circle of imports among a crate's modules (the shell's, the
/// controller's, core's), so that each can be read, changed and tested from the bottom up.
#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    for krate in [
        "crates/core/src",
        "crates/controller/src",
        "crates/cli/src",
        "crates/sim/src",
        "src-tauri/src",
    ] {
        let graph = module_graph(&workspace_root().join(krate));
        assert!(graph.len() > 2, "{krate}: no modules found: {graph:?}");
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "{krate}: modules import each other in a circle: {}",
                cycle.join(" → ")
            );
        }
    }
}

/// The cycle check finds a cycle where there is one.
#[test]
fn the_cycle_check_sees_a_circle() {
    let graph = std::collections::BTreeMap::from([
        (
            "a".to_owned(),
            std::collections::BTreeSet::from(["b".to_owned()]),
        ),
        (
            "b".to_owned(),
            std::collections::BTreeSet::from(["c".to_owned()]),
        ),
        (
            "c".to_owned(),
            std::collections::BTreeSet::from(["a".to_owned()]),
        ),
        ("d".to_owned(), std::collections::BTreeSet::new()),
    ]);
    assert_eq!(
        find_cycle(&graph),
        Some(vec![
            "a".to_owned(),
            "b".to_owned(),
            "c".to_owned(),
            "a".to_owned()
        ])
    );
    let mut acyclic = graph;
    acyclic.insert("c".to_owned(), std::collections::BTreeSet::new());
    assert_eq!(find_cycle(&acyclic), None);
}

/// Finding: no toolchain pin and no check of the declared `rust-version`. The pin
/// (rust-toolchain.toml) and the MSRV (Cargo.toml) are one release, and the compiler that
/// runs these tests is not older than it.
#[test]
fn finding_the_toolchain_is_pinned_and_the_msrv_is_what_is_built() {
    let root = workspace_root();
    let pin = std::fs::read_to_string(root.join("rust-toolchain.toml")).expect("the pin");
    let channel = pin
        .lines()
        .find_map(|l| l.trim().strip_prefix("channel = "))
        .map(|c| c.trim_matches('"').to_owned())
        .expect("a channel");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let msrv = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("rust-version = "))
        .map(|c| c.trim_matches('"').to_owned())
        .expect("a rust-version");
    assert!(
        channel.starts_with(&format!("{msrv}.")),
        "rust-toolchain.toml pins {channel}, Cargo.toml declares {msrv}"
    );
    let version = |v: &str| -> Vec<u32> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
    let out = std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .expect("rustc --version");
    let running = String::from_utf8_lossy(&out.stdout);
    let running = running.split_whitespace().nth(1).expect("rustc X.Y.Z");
    assert!(
        version(running) >= version(&msrv),
        "rustc {running} is older than the declared rust-version {msrv}"
    );
}

/// `--version` on both binaries: the version and the commit they were built from.
#[test]
fn both_binaries_say_their_version_and_the_commit_they_were_built_from() {
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(workspace_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    for (binary, name) in [
        (sessionkeeper_tests::cli_binary(), "sessionkeeper"),
        (
            sessionkeeper_tests::desktop::app_binary(),
            "sessionkeeper-app",
        ),
    ] {
        let out = std::process::Command::new(&binary)
            .arg("--version")
            .output()
            .expect("the binary runs");
        assert!(out.status.success(), "{name} --version");
        let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let expected = format!("{name} {} (", env!("CARGO_PKG_VERSION"));
        assert!(line.starts_with(&expected) && line.ends_with(')'), "{line}");
        let commit = &line[expected.len()..line.len() - 1];
        let commit = commit.strip_suffix("+dirty").unwrap_or(commit);
        // Built from this checkout (the build script runs again when HEAD moves): its HEAD.
        assert_eq!(Some(commit), head.as_deref().or(Some("unknown")), "{line}");
    }
}
