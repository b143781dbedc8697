// The commit a binary is built from, for `--version`: included by the build scripts of the CLI
// and the app (not a module). `SESSIONKEEPER_COMMIT` wins (a build from a tarball); else
// `git rev-parse` in the checkout; else "unknown". A checkout with changes is marked "+dirty".

/// Emits `SESSIONKEEPER_COMMIT` for `env!` and asks to be run again when HEAD moves.
fn emit_commit() {
    println!("cargo::rerun-if-env-changed=SESSIONKEEPER_COMMIT");
    let commit = std::env::var("SESSIONKEEPER_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(commit_from_git)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=SESSIONKEEPER_COMMIT={commit}");
}

fn commit_from_git() -> Option<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let git_dir = git(&["rev-parse", "--absolute-git-dir"])?;
    for watched in ["HEAD", "index"] {
        println!("cargo::rerun-if-changed={git_dir}/{watched}");
    }
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        println!("cargo::rerun-if-changed={git_dir}/{reference}");
    }
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    let dirty = git(&["-C", &top, "status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{commit}+dirty") } else { commit })
}
