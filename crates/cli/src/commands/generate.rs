//! `generate` (hidden, for packagers): the man page (`clap_mangen`) and the shell completions
//! (`clap_complete`) from the CLI's own definition, so they never drift from it.

use std::path::PathBuf;

use clap_complete::Shell;

use crate::context::{Failure, Outcome};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Write `sessionkeeper.1` into DIR.
    #[arg(long, value_name = "DIR")]
    man: Option<PathBuf>,
    /// Write `sessionkeeper.bash`, `_sessionkeeper` (zsh) and `sessionkeeper.fish` into DIR.
    #[arg(long, value_name = "DIR")]
    completions: Option<PathBuf>,
}

pub(crate) fn run(cli: &mut clap::Command, args: &Args) -> Outcome {
    let io = |what: &str, e: std::io::Error| Failure::new(1, format!("cannot write {what}: {e}"));
    if let Some(dir) = &args.man {
        std::fs::create_dir_all(dir).map_err(|e| io("the man page's dir", e))?;
        let mut page = Vec::new();
        clap_mangen::Man::new(cli.clone())
            .render(&mut page)
            .map_err(|e| io("the man page", e))?;
        std::fs::write(dir.join("sessionkeeper.1"), page).map_err(|e| io("the man page", e))?;
    }
    if let Some(dir) = &args.completions {
        std::fs::create_dir_all(dir).map_err(|e| io("the completions' dir", e))?;
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            clap_complete::generate_to(shell, cli, "sessionkeeper", dir)
                .map_err(|e| io("the completions", e))?;
        }
    }
    Ok(0)
}
