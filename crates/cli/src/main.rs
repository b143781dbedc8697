//! `sessionkeeper`: the headless CLI (CI runners, servers, scripts). Thin over
//! `sessionkeeper-core`; it builds and runs without GTK or WebKit.
//!
//! Human output goes to stdout, diagnostics to stderr; `--json` prints one stable object.
//! Exit codes: `validate` and `extend` use 0 (valid), 1 (invalid), 2 (could not tell); other
//! commands use 0 for success and 1 for failure; usage errors are 2.

// The CLI's job is to print; diagnostics go to stderr on purpose.
#![allow(clippy::print_stderr)]

mod commands;
mod context;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "sessionkeeper",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("SESSIONKEEPER_COMMIT"), ")"),
    about = "Keep fragile third-party sessions alive: validate, import, export."
)]
struct Cli {
    /// Config file [default: $XDG_CONFIG_HOME/sessionkeeper/config.toml]
    #[arg(long, global = true, env = "SESSIONKEEPER_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Add a profile by answering questions (for machines without a display).
    Init(commands::init::Args),
    /// Check validity now. Exit 0: all valid; 1: any invalid/expired; 2: could not tell.
    Validate(commands::validate::Args),
    /// Every profile: status, last check, tracked expiry, time left, config check.
    Status(commands::status::Args),
    /// Print the stored session as the export (base64 of the session JSON).
    Export(commands::session::ExportArgs),
    /// Read a session or token from stdin (export, JSON or raw token), validate it, store it.
    Import(commands::session::ImportArgs),
    /// Make the previous session current again (undo the last import or capture).
    Restore(commands::session::RestoreArgs),
    /// Move the tracked expiry after a successful validation (the session outlived its clock).
    Extend(commands::session::ExtendArgs),
    /// Push the stored session to the profile's targets (GitHub, Vercel, files), in parallel.
    Push(commands::push::Args),
    /// Log in without a human (where the profile has [refresh]), validate, store and push.
    Refresh(commands::refresh::Args),
    /// How long sessions really live (from the history); --apply sets tracked_ttl from it.
    Learn(commands::learn::Args),
    /// CI mode: validate; open one labelled GitHub issue on expiry, close it on recovery.
    Check(commands::check::Args),
    /// Take the team's claim on re-authenticating PROFILE (exit 1 naming the holder).
    Claim(commands::team::ClaimArgs),
    /// Give back your claim on PROFILE.
    Release(commands::team::ReleaseArgs),
    /// Adopt the team's current session from a target that can be read back (Vercel
    /// encrypted/plain env var, file), validated and stored; the previous one is kept.
    Pull(commands::team::PullArgs),
    /// Store or inspect tokens and passwords in the OS keychain.
    #[command(subcommand)]
    Secret(commands::secret::Command),
    /// For packagers: write the man page and the bash, zsh and fish completions.
    #[command(hide = true)]
    Generate(commands::generate::Args),
}

fn main() -> ExitCode {
    init_logging();
    if let Err(e) = sessionkeeper_core::process::disable_core_dumps() {
        tracing::warn!("cannot turn core dumps off: {e}");
    }
    let cli = Cli::parse();
    let ctx = context::Context::new(cli.config);
    let result = match cli.command {
        Command::Init(args) => commands::init::run(&ctx, &args),
        Command::Validate(args) => commands::validate::run(&ctx, &args),
        Command::Status(args) => commands::status::run(&ctx, &args),
        Command::Export(args) => commands::session::export(&ctx, &args),
        Command::Import(args) => commands::session::import(&ctx, &args),
        Command::Restore(args) => commands::session::restore(&ctx, &args),
        Command::Extend(args) => commands::session::extend(&ctx, &args),
        Command::Push(args) => commands::push::run(&ctx, &args),
        Command::Refresh(args) => commands::refresh::run(&ctx, &args),
        Command::Learn(args) => commands::learn::run(&ctx, &args),
        Command::Check(args) => commands::check::run(&ctx, &args),
        Command::Claim(args) => commands::team::claim(&ctx, &args),
        Command::Release(args) => commands::team::release(&ctx, &args),
        Command::Pull(args) => commands::team::pull(&ctx, &args),
        Command::Secret(cmd) => commands::secret::run(&ctx, cmd),
        Command::Generate(args) => {
            commands::generate::run(&mut <Cli as clap::CommandFactory>::command(), &args)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("sessionkeeper: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// `RUST_LOG` sets the level (default: warnings). Logs go to stderr and never hold secrets.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::env::var_os("NO_COLOR").is_none())
        .init();
}
