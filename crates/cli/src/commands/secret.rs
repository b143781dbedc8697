//! `secret set` / `secret status` / `secret delete`: tokens and passwords in the OS keychain.
//! Values come from stdin or a no-echo prompt, never from argv, and are never printed.

use sessionkeeper_core::Secret;
use sessionkeeper_core::vault::{SecretName, Slot};

use crate::context::{Context, Failure, Outcome};

#[derive(clap::Subcommand, Debug)]
pub(crate) enum Command {
    /// Store a secret read from stdin (or a no-echo prompt): account:NAME,
    /// profile:ID:username or profile:ID:password
    Set { name: String },
    /// Which secrets and sessions are set (never their values)
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Remove a secret from the keychain
    Delete { name: String },
}

pub(crate) fn run(ctx: &Context, cmd: Command) -> Outcome {
    match cmd {
        Command::Set { name } => set(ctx, &name),
        Command::Status { json } => status(ctx, json),
        Command::Delete { name } => delete(ctx, &name),
    }
}

fn set(ctx: &Context, name: &str) -> Outcome {
    let name = SecretName::parse(name).map_err(|e| Failure::new(1, e))?;
    let value = read_secret(&name)?;
    if value.is_empty() {
        return Err(Failure::new(
            1,
            format!("nothing stored: the value for {name} is empty"),
        ));
    }
    let vault = ctx.vault()?;
    vault.set_secret(&name, &value)?;
    println!("Stored {name} in the keychain (service \"sessionkeeper\").");
    if let Ok(config) = ctx.config(1) {
        let known = match &name {
            SecretName::Account(a) | SecretName::DeployHook { account: a, .. } => {
                config.accounts.contains_key(a)
            }
            SecretName::Username(p) | SecretName::Password(p) => config.profiles.contains_key(p),
        };
        if !known {
            eprintln!(
                "sessionkeeper: note: {name} names nothing in {}",
                config.path.display()
            );
        }
    }
    Ok(0)
}

/// stdin when it is piped; otherwise a prompt that does not echo.
fn read_secret(name: &SecretName) -> Result<Secret, Failure> {
    use std::io::{IsTerminal as _, Read as _};
    if std::io::stdin().is_terminal() {
        let _quiet = super::NoEcho::on_stdin();
        let value = rpassword::prompt_password(format!("Value for {name} (not shown): "))
            .map_err(|e| Failure::new(1, format!("cannot read the value: {e}")))?;
        return Ok(Secret::new(value));
    }
    let mut value = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut value)
        .map_err(|e| Failure::new(1, format!("cannot read the value from stdin: {e}")))?;
    // `echo "$T" |` adds one newline; the value itself ends before it.
    let trimmed = value
        .strip_suffix('\n')
        .map(|v| v.strip_suffix('\r').unwrap_or(v))
        .unwrap_or(&value);
    Ok(Secret::new(trimmed))
}

fn delete(ctx: &Context, name: &str) -> Outcome {
    let name = SecretName::parse(name).map_err(|e| Failure::new(1, e))?;
    let vault = ctx.vault()?;
    if vault.delete_secret(&name)? {
        println!("Removed {name} from the keychain.");
    } else {
        println!("{name} was not set.");
    }
    Ok(0)
}

#[derive(serde::Serialize)]
struct Item {
    name: String,
    /// "keychain", an environment variable's name, or null when not set.
    source: Option<String>,
}

#[derive(serde::Serialize)]
struct SessionItem {
    profile: String,
    current: bool,
    previous: bool,
}

fn status(ctx: &Context, json: bool) -> Outcome {
    let config = ctx.config(1)?;
    let vault = ctx.vault()?;
    let items: Vec<Item> = sessionkeeper_core::vault::secret_states(&config, &vault)?
        .into_iter()
        .map(|s| Item {
            name: s.name,
            source: s.source,
        })
        .collect();
    let mut sessions = Vec::new();
    for profile in config.profiles.values() {
        sessions.push(SessionItem {
            profile: profile.id.clone(),
            current: vault.load_session(profile, Slot::Current)?.is_some(),
            previous: vault.load_session(profile, Slot::Previous)?.is_some(),
        });
    }
    if json {
        let doc = serde_json::json!({ "secrets": items, "sessions": sessions });
        println!("{doc}");
        return Ok(0);
    }
    for i in &items {
        println!(
            "{:<32} {}",
            i.name,
            i.source
                .as_deref()
                .map_or("not set".to_owned(), |s| format!("set ({s})"))
        );
    }
    for s in &sessions {
        let state = match (s.current, s.previous) {
            (true, true) => "stored (previous kept)",
            (true, false) => "stored",
            (false, true) => "only a previous one (restore it, or log in)",
            (false, false) => "none",
        };
        println!("{:<32} {state}", format!("session of {}", s.profile));
    }
    Ok(0)
}
