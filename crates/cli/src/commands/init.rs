//! `sessionkeeper init`: a profile from questions in the terminal, for machines without a
//! display (no login recorder there). The answers become the same `[profiles.ID]` table the
//! app's recorder proposes (`Config::add_profile`: the file must load, or nothing is written);
//! an optional GitHub target goes in with `Config::add_target`; the SSO password and the token
//! are read without echo and go into the keychain only, after the file is written.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use sessionkeeper_core::config::{
    Config, NewProfile, NewTarget, check_github_secret_name, parse_http_url,
};
use sessionkeeper_core::recorder::slug;
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::vault::SecretName;

use crate::context::{Context, Failure, Outcome};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {}

/// The terminal the questions are asked in.
struct Terminal {
    lines: std::io::Lines<std::io::StdinLock<'static>>,
}

impl Terminal {
    /// One answer; an empty one is `default`. End of input is a failure (nothing written).
    fn ask(&mut self, question: &str, default: &str) -> Result<String, Failure> {
        if default.is_empty() {
            print!("{question}: ");
        } else {
            print!("{question} [{default}]: ");
        }
        let _ = std::io::stdout().flush();
        let line = self
            .lines
            .next()
            .ok_or_else(|| Failure::new(1, "input ended: nothing was written"))?
            .map_err(|e| Failure::new(1, format!("cannot read the answer: {e}")))?;
        let line = line.trim();
        Ok(if line.is_empty() { default } else { line }.to_owned())
    }

    /// Asks again until `check` accepts the answer (it says why not).
    fn ask_until<T>(
        &mut self,
        question: &str,
        default: &str,
        check: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, Failure> {
        loop {
            let answer = self.ask(question, default)?;
            match check(&answer) {
                Ok(value) => return Ok(value),
                Err(why) => println!("  {why}"),
            }
        }
    }

    /// A secret, read without echo; empty is none. Echo goes off before the prompt is
    /// printed: what is typed (or pasted) as soon as the prompt shows is never echoed.
    fn secret(question: &str) -> Result<Option<Secret>, Failure> {
        let _quiet = super::NoEcho::on_stdin();
        let value = rpassword::prompt_password(format!("{question} (not shown, empty to skip): "))
            .map_err(|e| Failure::new(1, format!("cannot read the answer: {e}")))?;
        Ok((!value.is_empty()).then(|| Secret::new(value)))
    }
}

fn url(answer: &str) -> Result<String, String> {
    parse_http_url(answer).map(|u| u.to_string())
}

fn optional_url(answer: &str) -> Result<Option<String>, String> {
    if answer.is_empty() {
        Ok(None)
    } else {
        url(answer).map(Some)
    }
}

fn statuses(answer: &str) -> Result<Vec<u16>, String> {
    answer
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<u16>()
                .ok()
                .filter(|c| (100..600).contains(c))
                .ok_or_else(|| format!("{s:?} is not an HTTP status (e.g. 200, or 401,403)"))
        })
        .collect()
}

pub(crate) fn run(ctx: &Context, _args: &Args) -> Outcome {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            1,
            "init asks its questions in a terminal; in a script, write the profile into the \
             config file (README, \"Config\")",
        ));
    }
    let path = ctx.config_path(1)?;
    let existing = match Config::load(&path) {
        Ok(config) => Some(config),
        Err(_) if !path.exists() => None,
        Err(e) => return Err(Failure::new(1, format!("fix the config file first: {e}"))),
    };
    let taken = |id: &str| {
        existing
            .as_ref()
            .is_some_and(|c| c.profiles.contains_key(id))
    };
    let mut t = Terminal {
        lines: std::io::stdin().lock().lines(),
    };
    println!(
        "A new profile for {} (Ctrl-C: nothing is written).",
        path.display()
    );
    let name = t.ask_until("Name of the session (e.g. MTN Wholesale)", "", |a| {
        if a.is_empty() {
            Err("a name, please".to_owned())
        } else {
            Ok(a.to_owned())
        }
    })?;
    let id = t.ask_until("Profile id", &slug(&name), |a| {
        let ok = !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !ok {
            Err("lowercase letters, digits, '-' and '_' only".to_owned())
        } else if taken(a) {
            Err(format!("a profile {a:?} exists already"))
        } else {
            Ok(a.to_owned())
        }
    })?;
    let login_url = t.ask_until("Login page URL", "", url)?;
    let api_url = t.ask_until(
        "API URL your app calls with the session (it proves the session works; empty: none)",
        "",
        optional_url,
    )?;
    let capture = t.ask_until(
        "How does the login give the session: cookies, redirect-param or manual",
        "cookies",
        |a| match a {
            "cookies" | "redirect-param" | "manual" => Ok(a.to_owned()),
            _ => Err("one of cookies, redirect-param, manual".to_owned()),
        },
    )?;
    let mut profile = NewProfile {
        id: id.clone(),
        name,
        login_url: login_url.clone(),
        capture: capture.clone(),
        api_url: api_url.clone(),
        ..NewProfile::default()
    };
    match capture.as_str() {
        "cookies" => {
            profile.landing = t.ask_until(
                "Page a completed login lands on (empty: skip)",
                "",
                optional_url,
            )?;
            let jar = api_url
                .as_deref()
                .or(profile.landing.as_deref())
                .and_then(|u| url::Url::parse(u).ok())
                .map(|u| format!("{}/", u.origin().ascii_serialization()))
                .unwrap_or_default();
            profile.cookie_url =
                Some(t.ask_until("URL whose cookies are the session", &jar, url)?);
            profile.session_cookie =
                Some(
                    t.ask_until("Name of the session cookie (e.g. JSESSIONID)", "", |a| {
                        if a.is_empty() {
                            Err("a cookie name, please".to_owned())
                        } else {
                            Ok(a.to_owned())
                        }
                    })?,
                );
        }
        "redirect-param" => {
            profile.redirect_param = Some(t.ask_until(
                "Query parameter of the redirect that carries the token",
                "",
                |a| {
                    if a.is_empty() {
                        Err("a parameter name, please".to_owned())
                    } else {
                        Ok(a.to_owned())
                    }
                },
            )?);
            profile.landing =
                t.ask_until("Page the redirect goes to (empty: any)", "", optional_url)?;
            if api_url.is_some() {
                profile.token_header =
                    Some(t.ask("Header the API takes the token in", "Authorization")?);
            }
        }
        _ => {}
    }
    if api_url.is_some() {
        profile.valid_status = t.ask_until("Status of a live session", "200", statuses)?;
        profile.invalid_status = t.ask_until("Status of a dead one", "401,403", statuses)?;
    }
    let username = t.ask(
        "SSO username (pre-filled in the login window; empty to skip)",
        "",
    )?;
    let password = if username.is_empty() {
        None
    } else {
        Terminal::secret("SSO password")?
    };
    if !username.is_empty() {
        let user = t.ask(
            "CSS selector of the login form's username field",
            "#username",
        )?;
        let pass = t.ask("CSS selector of its password field", "#password")?;
        profile.prefill = Some((user, pass));
    }
    let repo = t.ask_until(
        "Push it to a GitHub Actions secret: repository OWNER/REPO (empty: no)",
        "",
        |a| {
            if a.is_empty() || a.split('/').filter(|p| !p.is_empty()).count() == 2 {
                Ok(a.to_owned())
            } else {
                Err("OWNER/REPO, please".to_owned())
            }
        },
    )?;
    let github = if repo.is_empty() {
        None
    } else {
        let default = format!("{}_SESSION", id.to_ascii_uppercase().replace('-', "_"));
        let secret = t.ask_until("Secret name", &default, |a| {
            check_github_secret_name(a).map(|()| a.to_owned())
        })?;
        let api = t.ask_until("GitHub API URL", "https://api.github.com", url)?;
        let token = Terminal::secret("GitHub token (secrets: write)")?;
        Some((
            NewTarget::Github {
                api_url: Some(api),
                repo: Some(repo),
                environment: None,
                org: None,
                secret,
            },
            token,
        ))
    };

    let (mut config, _) = Config::add_profile(&path, &profile.to_toml())
        .map_err(|e| Failure::new(1, format!("nothing was written: {e}")))?;
    let mut account = None;
    if let Some((target, _)) = &github {
        let (c, a) = Config::add_target(&path, &id, target).map_err(|e| {
            Failure::new(
                1,
                format!("the profile is written, its GitHub target is not: {e}"),
            )
        })?;
        config = c;
        account = Some(a);
    }
    println!("Profile {id} written to {}.", path.display());
    let mut secrets = Vec::new();
    if !username.is_empty() {
        secrets.push((SecretName::Username(id.clone()), Secret::new(username)));
    }
    if let Some(p) = password {
        secrets.push((SecretName::Password(id.clone()), p));
    }
    if let (Some(account), Some((_, Some(token)))) = (&account, github) {
        secrets.push((SecretName::Account(account.clone()), token));
    }
    if !secrets.is_empty() {
        let vault = ctx.vault()?;
        for (name, value) in &secrets {
            vault.set_secret(name, value).map_err(|e| {
                Failure::new(
                    1,
                    format!("{name} is not stored: {e}; `sessionkeeper secret set {name}`"),
                )
            })?;
            println!("{name} is in the keychain.");
        }
    }
    let problems = sessionkeeper_core::config::problems(&config.profiles[&id]);
    for p in &problems {
        println!("  note: {p}");
    }
    println!(
        "Next: log in from the tray app (Re-authenticate), or `sessionkeeper import {id}` a \
         session; then `sessionkeeper validate {id}`."
    );
    Ok(0)
}
