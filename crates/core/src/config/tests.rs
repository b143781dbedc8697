//! The config's tests: the contract's example, every located error, the in-place edit.

use std::path::Path;

use super::*;
use crate::duration::HumanDuration;
use crate::error::ConfigError;

const GOOD: &str = r##"
[accounts.github]
kind = "github"
api_url = "https://api.github.com"

[accounts.vercel]
kind = "vercel"
team_id = "team_abc"

[profiles.mtn]
name = "MTN Wholesale"
login_url = "https://sso.example.net/login"
capture = "cookies"
cookie_urls = ["https://wholesale.example.net/"]
done_when = { url_prefix = "https://wholesale.example.net/portal", cookies = ["JSESSIONID"] }
session_id_cookie = "JSESSIONID"
prefill = { username = "#username", password = "#password" }
tracked_ttl = "60m"
warn_before = "60m"
poll_every = "5m"

[profiles.mtn.validate]
url = "https://wholesale.example.net/api/products"
method = "GET"
valid_status = [200]
invalid_status = [401, 403]
invalid_redirect_prefix = "https://sso.example.net/"

[[profiles.mtn.push]]
to = "github"
repo = "acme/circletel"
secret = "MTN_SESSION"

[[profiles.mtn.push]]
to = "vercel"
project = "circletel"
env = "MTN_SESSION"
targets = ["production"]
type = "encrypted"
redeploy = true
smoke_url = "https://circletel.example.app/api/mtn-wholesale/products"

[[profiles.mtn.push]]
to = "file"
path = "~/.cache/mtn-session.json"
format = "json"

[profiles.breeze]
name = "ICICI Breeze"
login_url = "https://api.example.in/apiuser/login?api_key=KEY"
capture = "redirect-param"
redirect_param = "apisession"
tracked_ttl = "24h"
refresh_before = "15m"
"##;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/sk/config.toml"))
}

#[test]
fn the_contract_example_parses() {
    let c = parse(GOOD).expect("contract example is valid");
    let mtn = c.profile("mtn").expect("mtn");
    assert_eq!(mtn.tracked_ttl.to_string(), "1h");
    assert_eq!(mtn.push.len(), 3);
    assert!(matches!(&mtn.push[0], PushTarget::Github(g) if g.secret == "MTN_SESSION"));
    let breeze = c.profile("breeze").expect("breeze");
    assert!(breeze.is_token());
    assert_eq!(breeze.warn_before.to_string(), "30m");
}

/// Replaces `from` in the good config and returns the error, which must name `line` and `key`.
fn broken(from: &str, to: &str, line: usize, key: &str) -> String {
    assert!(GOOD.contains(from), "test setup: {from:?} not in GOOD");
    let text = GOOD.replacen(from, to, 1);
    let err = parse(&text).expect_err("must be rejected");
    let shown = err.to_string();
    assert_eq!(err.line, Some(line), "wrong line in: {shown}");
    assert_eq!(err.key.as_deref(), Some(key), "wrong key in: {shown}");
    assert!(
        shown.starts_with(&format!("/etc/sk/config.toml:{line}:")),
        "{shown}"
    );
    shown
}

#[test]
fn bad_duration_names_file_line_key_and_the_valid_form() {
    let e = broken(
        "tracked_ttl = \"60m\"",
        "tracked_ttl = \"60x\"",
        18,
        "profiles.mtn.tracked_ttl",
    );
    assert!(e.contains("\"24h\""), "{e}");
}

#[test]
fn unknown_key_is_an_error_listing_the_valid_ones() {
    let e = broken(
        "poll_every = \"5m\"",
        "pol_every = \"5m\"",
        20,
        "profiles.mtn.pol_every",
    );
    assert!(e.contains("poll_every"), "{e}");
}

#[test]
fn plain_http_is_refused_except_loopback() {
    let e = broken(
        "url = \"https://wholesale.example.net/api/products\"",
        "url = \"http://wholesale.example.net/api/products\"",
        23,
        "profiles.mtn.validate.url",
    );
    assert!(e.contains("loopback"), "{e}");
    let ok = GOOD.replace(
        "https://wholesale.example.net/api/products",
        "http://127.0.0.1:8080/api/products",
    );
    parse(&ok).expect("loopback http is allowed");
}

#[test]
fn push_to_an_unknown_account_lists_the_valid_ones() {
    let e = broken(
        "to = \"vercel\"",
        "to = \"vercell\"",
        35,
        "profiles.mtn.push[1].to",
    );
    assert!(e.contains("github, vercel, file"), "{e}");
}

#[test]
fn wrong_types_and_enums_are_located() {
    broken(
        "capture = \"cookies\"",
        "capture = \"cookie\"",
        13,
        "profiles.mtn.capture",
    );
    broken(
        "valid_status = [200]",
        "valid_status = [\"200\"]",
        25,
        "profiles.mtn.validate.valid_status[0]",
    );
    broken(
        "kind = \"vercel\"",
        "kind = \"netlify\"",
        7,
        "accounts.vercel.kind",
    );
    broken(
        "secret = \"MTN_SESSION\"",
        "secret = \"GITHUB_TOKEN\"",
        32,
        "profiles.mtn.push[0].secret",
    );
}

#[test]
fn a_syntax_error_is_located() {
    let text = GOOD.replacen("tracked_ttl = \"60m\"", "tracked_ttl = \"60m", 1);
    let err = parse(&text).expect_err("unterminated string");
    assert_eq!(err.line, Some(18), "{err}");
}

#[test]
fn missing_file_says_what_to_do() {
    let err = Config::load(Path::new("/nonexistent/sk.toml")).expect_err("missing");
    assert!(err.to_string().contains("--config"), "{err}");
}

fn refresh_error(table: &str) -> String {
    let text = format!(
        "[profiles.b]\ncapture = \"redirect-param\"\nredirect_param = \"t\"\n\n[profiles.b.refresh]\n{table}"
    );
    Config::parse(&text, Path::new("c.toml"))
        .expect_err("refused")
        .to_string()
}

#[test]
fn refresh_is_read_with_its_exchange_and_defaults() {
    let text = "[profiles.b]\ncapture = \"redirect-param\"\nredirect_param = \"t\"\n\n\
        [profiles.b.refresh]\nurl = \"https://api.example/login\"\n\
        fields = { user = \"{username}\", pw = \"{password}\" }\ncapture = \"json:a.b\"\n\n\
        [profiles.b.refresh.exchange]\nurl = \"https://api.example/x\"\nformat = \"json\"\n\
        fields = { tok = \"{value}\" }\ncapture = \"json:Success.session_token\"\n";
    let config = Config::parse(text, Path::new("c.toml")).expect("parses");
    let b = &config.profiles["b"];
    let refresh = b.refresh.as_ref().expect("refresh");
    assert_eq!(refresh.steps.len(), 2);
    assert_eq!(refresh.steps[0].format, BodyFormat::Form);
    assert_eq!(
        refresh.steps[1].capture,
        RefreshCapture::Json(vec!["Success".into(), "session_token".into()])
    );
    assert_eq!(
        b.refresh_before.map(|d| d.to_string()).as_deref(),
        Some("15m")
    );
}

#[test]
fn refresh_mistakes_are_located_and_explained() {
    let e = refresh_error("url = \"https://a.example/\"\ncapture = \"header:X\"\n");
    assert!(e.contains("c.toml:7") && e.contains("json:PATH"), "{e}");
    let e = refresh_error(
        "url = \"https://a.example/\"\nfields = { u = \"{user}\" }\ncapture = \"json:t\"\n",
    );
    assert!(e.contains("{user}") && e.contains("{username}"), "{e}");
    let e = refresh_error("url = \"https://a.example/\"\ncapture = \"cookie:SID\"\n");
    assert!(e.contains("token"), "{e}");
    let e = refresh_error("url = \"http://a.example/\"\ncapture = \"json:t\"\n");
    assert!(e.contains("c.toml:6"), "{e}");
}

#[test]
fn tracked_ttl_is_set_in_place_keeping_comments_and_refused_for_an_unknown_profile() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.toml");
    let text = GOOD.replace(
        "tracked_ttl = \"60m\"",
        "# the portal says 60 minutes\ntracked_ttl = \"60m\"   # conservative",
    );
    std::fs::write(&path, &text).expect("write");
    let four_hours: HumanDuration = "4h".parse().expect("duration");
    let config = Config::set_tracked_ttl(&path, "mtn", four_hours).expect("set");
    assert_eq!(config.profiles["mtn"].tracked_ttl, four_hours);
    let after = std::fs::read_to_string(&path).expect("read");
    assert!(
        after.contains("# the portal says 60 minutes\ntracked_ttl = \"4h\"   # conservative"),
        "{after}"
    );
    assert_eq!(
        after.replace("\"4h\"", "\"60m\""),
        text,
        "nothing else changed"
    );

    let e = Config::set_tracked_ttl(&path, "nope", four_hours).expect_err("unknown profile");
    assert!(e.to_string().contains("[profiles.nope]"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), after);
}

/// Finding: a refresh storm. `refresh_before` (15m by default) was never compared with
/// `tracked_ttl`: with `tracked_ttl = "10m"` every new session was due for a refresh at once.
#[test]
fn finding_refresh_storm_a_tracked_ttl_within_refresh_before_is_refused_at_load() {
    let text = "[profiles.b]\ncapture = \"redirect-param\"\nredirect_param = \"t\"\n\
        tracked_ttl = \"10m\"\n\n[profiles.b.refresh]\nurl = \"https://api.example/login\"\n\
        fields = { user = \"{username}\", pw = \"{password}\" }\ncapture = \"json:a\"\n";
    let err = Config::parse(text, Path::new("/etc/sk/config.toml")).expect_err("refused");
    let shown = err.to_string();
    // No refresh_before written: the error points at the tracked_ttl it clashes with.
    assert_eq!(err.line, Some(4), "{shown}");
    assert_eq!(
        err.key.as_deref(),
        Some("profiles.b.tracked_ttl"),
        "{shown}"
    );
    assert!(
        shown.starts_with("/etc/sk/config.toml:4:") && shown.contains("refresh_before = \"15m\""),
        "{shown}"
    );
    // Written, it is what the error names.
    let written = text.replace(
        "tracked_ttl = \"10m\"\n",
        "tracked_ttl = \"10m\"\nrefresh_before = \"12m\"\n",
    );
    let err = Config::parse(&written, Path::new("c.toml")).expect_err("refused");
    assert_eq!(
        err.key.as_deref(),
        Some("profiles.b.refresh_before"),
        "{err}"
    );
    // Below tracked_ttl it loads.
    let fine = text.replace(
        "tracked_ttl = \"10m\"\n",
        "tracked_ttl = \"10m\"\nrefresh_before = \"4m\"\n",
    );
    Config::parse(&fine, Path::new("c.toml")).expect("loads");
}

/// Finding: durations overflowed. Anything above about 95,000,000 days panicked in chrono;
/// every duration is now bounded at load (ten years).
#[test]
fn finding_durations_overflow_a_duration_beyond_ten_years_is_refused_at_load() {
    for huge in ["99999999d", "3651d", "18446744073709551615s"] {
        let text = GOOD.replacen(
            "tracked_ttl = \"60m\"",
            &format!("tracked_ttl = \"{huge}\""),
            1,
        );
        let err = parse(&text).expect_err(huge);
        assert_eq!(
            err.key.as_deref(),
            Some("profiles.mtn.tracked_ttl"),
            "{err}"
        );
    }
    let text = GOOD.replacen("tracked_ttl = \"60m\"", "tracked_ttl = \"3650d\"", 1);
    parse(&text).expect("ten years is the bound");
}

/// Finding: `timeout = "0s"` was accepted (a check that can never succeed).
#[test]
fn finding_zero_timeout_is_refused_at_load() {
    let e = broken(
        "method = \"GET\"",
        "method = \"GET\"\ntimeout = \"0s\"",
        25,
        "profiles.mtn.validate.timeout",
    );
    assert!(e.contains("100ms"), "{e}");
}

/// Finding: `validate.headers` were not validated at load: a header that carries a credential
/// (Cookie, Authorization) or names the token header would be sent as plain config.
#[test]
fn finding_headers_are_validated_at_load() {
    for header in ["Cookie", "Authorization", "Host", "Bad Name"] {
        let text = GOOD.replacen(
            "method = \"GET\"",
            &format!("method = \"GET\"\nheaders = {{ \"{header}\" = \"x\" }}"),
            1,
        );
        let err = parse(&text).expect_err(header);
        assert!(
            err.key
                .as_deref()
                .is_some_and(|k| k.starts_with("profiles.mtn.validate.headers")),
            "{header}: {err}"
        );
    }
}

const PROPOSED: &str = r#"[profiles.portal]
name = "Portal"
login_url = "https://sso.example.net/login"
capture = "cookies"
cookie_urls = ["https://portal.example.net/"]
done_when = { url_prefix = "https://portal.example.net/home", cookies = ["SID"] }
session_id_cookie = "SID"

[profiles.portal.validate]
url = "https://portal.example.net/api/me"
valid_status = [200]
invalid_status = [401]
"#;

#[test]
fn a_proposed_profile_is_added_after_what_the_file_holds_or_creates_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.toml");
    let text = format!("# my sessions\n{GOOD}");
    std::fs::write(&path, &text).expect("write");
    let (config, id) = Config::add_profile(&path, PROPOSED).expect("added");
    assert_eq!(id, "portal");
    assert!(config.profiles.contains_key("mtn") && config.profiles.contains_key("portal"));
    let after = std::fs::read_to_string(&path).expect("read");
    assert!(
        after.starts_with(&text),
        "the file kept, the profile after it:\n{after}"
    );
    assert!(after.contains("[profiles.portal.validate]"), "{after}");

    // Twice: refused, nothing written.
    let e = Config::add_profile(&path, PROPOSED).expect_err("exists");
    assert!(e.to_string().contains("exists already"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), after);
    // A broken edit of the proposal points at its line; nothing written.
    let e = Config::add_profile(
        &path,
        &PROPOSED
            .replace("profiles.portal", "profiles.other")
            .replace("capture = \"cookies\"", "capture = \"cookie\""),
    )
    .expect_err("bad capture");
    assert!(e.to_string().contains("capture"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), after);
    // Two profiles, or anything else, are not one proposal.
    let e = Config::add_profile(
        &path,
        &format!("{PROPOSED}\n[accounts.x]\nkind = \"github\"\n"),
    )
    .expect_err("stray");
    assert!(e.to_string().contains("exactly one"), "{e}");

    // No file yet (the first launch): created, private.
    let fresh = dir.path().join("new/config.toml");
    let (config, _) = Config::add_profile(&fresh, PROPOSED).expect("created");
    assert_eq!(config.profiles.len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&fresh)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
}

#[test]
fn a_target_is_added_with_its_account_reused_or_created_and_checked_before_writing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.toml");
    Config::add_profile(&path, PROPOSED).expect("added");
    let github = NewTarget::Github {
        api_url: Some("http://127.0.0.1:9/github/".to_owned()),
        repo: Some("acme/app".to_owned()),
        environment: None,
        org: None,
        secret: "PORTAL_SESSION".to_owned(),
    };
    let (config, account) = Config::add_target(&path, "portal", &github).expect("added");
    assert_eq!(account, "github");
    assert_eq!(
        config.accounts["github"].api_url.as_str(),
        "http://127.0.0.1:9/github"
    );
    // The same API again: the same account; another: a second one.
    let (_, again) = Config::add_target(&path, "portal", &github).expect("again");
    assert_eq!(again, "github");
    let public = NewTarget::Github {
        api_url: None,
        repo: Some("acme/app".to_owned()),
        environment: Some("production".to_owned()),
        org: None,
        secret: "PORTAL".to_owned(),
    };
    let (config, second) = Config::add_target(&path, "portal", &public).expect("public");
    assert_eq!(second, "github-2");
    assert_eq!(config.profiles["portal"].push.len(), 3);
    let vercel: NewTarget = serde_json::from_value(serde_json::json!({
        "to": "vercel", "project": "app", "env": "PORTAL_SESSION",
        "targets": ["production"], "type": "encrypted", "redeploy": true
    }))
    .expect("the form's JSON");
    let (config, v) = Config::add_target(&path, "portal", &vercel).expect("vercel");
    assert_eq!(
        (v.as_str(), config.profiles["portal"].push.len()),
        ("vercel", 4)
    );

    // A secret name GitHub refuses: nothing written.
    let before = std::fs::read_to_string(&path).expect("read");
    let bad = NewTarget::Github {
        api_url: None,
        repo: Some("acme/app".to_owned()),
        environment: None,
        org: None,
        secret: "GITHUB_TOKEN".to_owned(),
    };
    let e = Config::add_target(&path, "portal", &bad).expect_err("refused");
    assert!(e.to_string().contains("GITHUB_"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
}

#[test]
fn timings_are_set_or_reset_and_a_profile_is_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, GOOD).expect("write");
    let timings = Timings {
        tracked_ttl: Some("2h".parse().expect("d")),
        warn_before: Some("20m".parse().expect("d")),
        poll_every: None,
        refresh_before: None,
    };
    let config = Config::set_timings(&path, "mtn", &timings).expect("set");
    let mtn = &config.profiles["mtn"];
    assert_eq!(mtn.tracked_ttl, "2h".parse().expect("d"));
    assert_eq!(mtn.warn_before, "20m".parse().expect("d"));
    assert_eq!(mtn.poll_every, "5m".parse().expect("d"), "left as it was");
    // A poll every second does not load: nothing written.
    let before = std::fs::read_to_string(&path).expect("read");
    let bad = Timings {
        poll_every: Some("1s".parse().expect("d")),
        ..timings.clone()
    };
    assert!(Config::set_timings(&path, "mtn", &bad).is_err());
    assert_eq!(std::fs::read_to_string(&path).expect("read"), before);

    let ids: Vec<String> = config.profiles.keys().cloned().collect();
    let config = Config::remove_profile(&path, &ids[0]).expect("removed");
    assert!(!config.profiles.contains_key(&ids[0]));
    assert_eq!(config.profiles.len(), ids.len() - 1);
    assert!(
        !std::fs::read_to_string(&path)
            .expect("read")
            .contains(&format!("[profiles.{}]", ids[0]))
    );
    assert!(Config::remove_profile(&path, &ids[0]).is_err());
}

#[test]
fn a_proposed_profile_keeps_the_profiles_of_an_inline_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "profiles = { old = { name = \"Old\", capture = \"manual\" } }\n",
    )
    .expect("write");
    let (config, _) = Config::add_profile(&path, PROPOSED).expect("added");
    assert!(
        config.profiles.contains_key("old"),
        "the inline table's profile stays"
    );
    assert!(config.profiles.contains_key("portal"));
}
