//! The app's command line: `--demo`, `--dashboard`, `--login PROFILE`, `--config FILE`. A
//! second launch's arguments become the running app's intent here, in one place.

use std::path::PathBuf;

use sessionkeeper_controller::Intent;

/// Session Keeper: knows when your sessions will die, and gets a new one with one click.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "sessionkeeper-app",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("SESSIONKEEPER_COMMIT"), ")")
)]
pub struct Args {
    /// Run against the built-in simulator, with a demo profile whose session expires about a
    /// minute after start (no account anywhere; a throw-away keychain service and data dir).
    #[arg(long)]
    pub demo: bool,
    /// Open the login window of PROFILE. If the app is already running, the running one opens
    /// it and this process exits.
    #[arg(long, value_name = "PROFILE")]
    pub login: Option<String>,
    /// Open the dashboard window at start (as "Open dashboard" in the tray menu does).
    #[arg(long)]
    pub dashboard: bool,
    /// The config file [default: the platform config dir's sessionkeeper/config.toml].
    #[arg(long, env = "SESSIONKEEPER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Set when the system starts the app at login (autostart).
    #[arg(long, hide = true)]
    pub autostart: bool,
}

impl Args {
    /// What a launch with these arguments asks of the app.
    pub fn intents(&self) -> Vec<Intent> {
        let mut intents = Vec::new();
        if self.dashboard {
            intents.push(Intent::OpenDashboard { profile: None });
        }
        if let Some(profile) = &self.login {
            intents.push(Intent::Reauthenticate {
                profile: profile.clone(),
            });
        }
        intents
    }

    /// What a second launch with `argv` asks of the running app.
    pub fn second_launch(argv: &[String]) -> Vec<Intent> {
        use clap::Parser as _;
        match Self::try_parse_from(argv) {
            Ok(args) => {
                let intents = args.intents();
                if intents.is_empty() {
                    vec![Intent::AlreadyRunning]
                } else {
                    intents
                }
            }
            Err(e) => {
                tracing::warn!("a second launch with arguments this app does not take: {e}");
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<String> {
        std::iter::once("sessionkeeper-app")
            .chain(args.iter().copied())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn a_second_launch_asks_for_what_its_arguments_say_or_is_told_the_app_runs() {
        let login = Args::second_launch(&argv(&["--login", "mtn"]));
        assert!(
            matches!(login.as_slice(), [Intent::Reauthenticate { profile }] if profile == "mtn"),
            "{login:?}"
        );
        let dashboard = Args::second_launch(&argv(&["--dashboard", "--config", "/nowhere"]));
        assert!(
            matches!(
                dashboard.as_slice(),
                [Intent::OpenDashboard { profile: None }]
            ),
            "{dashboard:?}"
        );
        assert!(matches!(
            Args::second_launch(&argv(&[])).as_slice(),
            [Intent::AlreadyRunning]
        ));
        assert!(Args::second_launch(&argv(&["--no-such-flag"])).is_empty());
    }
}
