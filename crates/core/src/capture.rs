//! What the login window does with what it sees, decided without a window: whether a login is
//! complete (`done_when`), the token a redirect carries (`redirect-param`), which cookies make
//! the session, the pre-fill script, and [`accept`]: validate, store (the previous session
//! kept), record. The shell only reads URLs and cookies and passes them here.

use chrono::{DateTime, Utc};
use url::Url;

use crate::check::{CheckOutcome, Status};
use crate::config::{Capture, Prefill, Profile, same_or_below};
use crate::history::{Event, History};
use crate::secret::Secret;
use crate::session::{Cookie, Session};
use crate::vault::{Fingerprint, Vault};

/// Whether the login in a window now on `url`, whose jar holds cookies named `cookie_names`
/// (for the profile's `cookie_urls`), is complete.
///
/// `done_when.url_prefix` must match when set, and every `done_when.cookies` name must be
/// present when listed. With neither set, the `session_id_cookie` must be present; with none
/// of the three, a login is never taken as complete (a config problem `status` reports).
pub fn is_done(profile: &Profile, url: &Url, cookie_names: &[&str]) -> bool {
    if profile.capture == Capture::RedirectParam {
        return token_in_redirect(profile, url).is_some();
    }
    let done_when = &profile.done_when;
    let prefix = done_when.url_prefix.as_ref();
    if prefix.is_some_and(|p| !same_or_below(url, p)) {
        return false;
    }
    if !done_when.cookies.is_empty() {
        return done_when
            .cookies
            .iter()
            .all(|name| cookie_names.contains(&name.as_str()));
    }
    if prefix.is_some() {
        return true;
    }
    profile
        .session_id_cookie
        .as_ref()
        .is_some_and(|name| cookie_names.contains(&name.as_str()))
}

/// The token in `url`'s `redirect_param` query parameter, for a `redirect-param` profile, when
/// the URL also matches `done_when.url_prefix` (if set). An empty value is no token.
pub fn token_in_redirect(profile: &Profile, url: &Url) -> Option<Secret> {
    if profile.capture != Capture::RedirectParam {
        return None;
    }
    let param = profile.redirect_param.as_deref()?;
    if let Some(prefix) = &profile.done_when.url_prefix
        && !same_or_below(url, prefix)
    {
        return None;
    }
    url.query_pairs()
        .find(|(k, v)| k == param && !v.is_empty())
        .map(|(_, v)| Secret::new(v.into_owned()))
}

/// The session's cookies from the jars read for each of the profile's `cookie_urls`: each
/// cookie once (by name, domain and path), in the order first seen.
pub fn session_cookies(jars: impl IntoIterator<Item = Vec<Cookie>>) -> Vec<Cookie> {
    let mut kept: Vec<Cookie> = Vec::new();
    for cookie in jars.into_iter().flatten() {
        let seen = kept
            .iter()
            .any(|k| k.name == cookie.name && k.domain == cookie.domain && k.path == cookie.path);
        if !seen {
            kept.push(cookie);
        }
    }
    kept
}

/// The cookie's domain in the session's (Playwright's) convention, from what the browser
/// reports: the `cookie` crate drops the leading dot, so a cookie whose domain is the host it
/// was read for is taken as host-only, and one on a parent domain as a domain cookie.
pub fn cookie_domain(reported: Option<&str>, read_for: &Url) -> String {
    let host = read_for.host_str().unwrap_or_default().to_ascii_lowercase();
    match reported.map(|d| d.trim_start_matches('.').to_ascii_lowercase()) {
        None => host,
        Some(d) if d.is_empty() || d == host => host,
        Some(d) => format!(".{d}"),
    }
}

/// The script that fills the login form from the keychain, or `None` when there is nothing to
/// fill. It acts only in the top frame of a page on the login URL's origin (so never in
/// another site, nor in an iframe), never overwrites what is already typed, and fires the
/// `input`/`change` events that script-driven forms listen to. Values are JSON-escaped. It
/// holds the password: it is a [`Secret`].
pub fn prefill_script(
    login_url: &Url,
    prefill: &Prefill,
    username: Option<&Secret>,
    password: Option<&Secret>,
) -> Option<Secret> {
    let origin = login_url.origin();
    if !origin.is_tuple() {
        return None;
    }
    let json = |s: &str| serde_json::to_string(s).expect("a string always serialises");
    let mut fills = Vec::new();
    for (selector, value) in [
        (prefill.username.as_deref(), username),
        (prefill.password.as_deref(), password),
    ] {
        if let (Some(selector), Some(value)) = (selector, value) {
            fills.push(format!(
                "fill({}, {});",
                json(selector),
                json(value.expose())
            ));
        }
    }
    if fills.is_empty() {
        return None;
    }
    Some(Secret::new(format!(
        r"(() => {{
  if (window.top !== window.self || window.location.origin !== {origin}) return;
  const fill = (selector, value) => {{
    const el = document.querySelector(selector);
    if (!el || el.value) return;
    const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), 'value');
    if (setter && setter.set) setter.set.call(el, value); else el.value = value;
    el.dispatchEvent(new Event('input', {{ bubbles: true }}));
    el.dispatchEvent(new Event('change', {{ bubbles: true }}));
  }};
  {fills}
}})();",
        origin = json(&origin.ascii_serialization()),
        fills = fills.join("\n  "),
    )))
}

/// Why [`accept`] stored nothing. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("the server refused the captured session ({detail}): not stored, not pushed")]
    Refused { detail: String },
    #[error("the captured session could not be validated ({detail}): not stored yet")]
    CannotTell { detail: String },
    #[error(transparent)]
    Keychain(#[from] crate::error::VaultError),
}

/// A session that validated and is stored.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub session: Session,
    /// Which session it is, for the targets that must get it.
    pub fingerprint: Fingerprint,
    pub outcome: CheckOutcome,
}

/// A captured session's way in, whatever brought it (the login window, a paste, `import`, a
/// refresh): validated first (a session that does not validate is never stored, so never
/// pushed), then stored as the current one (the previous kept for `restore`), and recorded in
/// the history as `captured` from `source`. It is [`validate`] then [`store`]; the app runs
/// the two apart, the store on a blocking thread.
pub async fn accept(
    profile: &Profile,
    session: Session,
    vault: &Vault,
    checker: &crate::check::Checker,
    history: Option<&History>,
    source: &str,
    now: DateTime<Utc>,
) -> Result<Accepted, AcceptError> {
    let outcome = validate(profile, &session, checker, history, now).await?;
    store(profile, session, vault, history, source, now).map(|(session, fingerprint)| Accepted {
        session,
        fingerprint,
        outcome,
    })
}

/// The first half of [`accept`]: the server must accept `session` now (the check is in the
/// history either way).
pub async fn validate(
    profile: &Profile,
    session: &Session,
    checker: &crate::check::Checker,
    history: Option<&History>,
    now: DateTime<Utc>,
) -> Result<CheckOutcome, AcceptError> {
    let outcome = checker.check(profile, Some(session), now).await;
    record(history, &Event::from_check(&outcome));
    match outcome.status {
        Status::Valid | Status::Expiring => Ok(outcome),
        Status::Invalid => Err(AcceptError::Refused {
            detail: outcome.detail,
        }),
        Status::Error => Err(AcceptError::CannotTell {
            detail: outcome.detail,
        }),
    }
}

/// The second half of [`accept`] (and all of `import --no-validate`, offline): stores the
/// session, the previous one kept, and records the capture.
pub fn store(
    profile: &Profile,
    session: Session,
    vault: &Vault,
    history: Option<&History>,
    source: &str,
    now: DateTime<Utc>,
) -> Result<(Session, Fingerprint), AcceptError> {
    vault.store_session(&session)?;
    let fingerprint = vault.fingerprint(&session)?;
    record(
        history,
        &Event::Captured {
            profile: profile.id.clone(),
            at: now,
            captured_at: session.captured_at,
            tracked_expires_at: session.expires_at,
            source: source.to_owned(),
        },
    );
    Ok((session, fingerprint))
}

/// Appends to the history; a failure to record is logged, never fatal.
fn record(history: Option<&History>, event: &Event) {
    if let Some(h) = history
        && let Err(e) = h.append(event)
    {
        tracing::warn!("could not write the history: {e}");
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    const CONFIG: &str = r##"
[profiles.mtn]
name = "MTN"
login_url = "https://sso.example.net/login"
cookie_urls = ["https://wholesale.example.net/"]
done_when = { url_prefix = "https://wholesale.example.net/portal", cookies = ["JSESSIONID"] }
session_id_cookie = "JSESSIONID"
prefill = { username = "#username", password = "input[name='pass\"word']" }

[profiles.prefix_only]
name = "P"
login_url = "https://sso.example.net/login"
cookie_urls = ["https://wholesale.example.net/"]
done_when = { url_prefix = "https://wholesale.example.net/portal" }

[profiles.sid_only]
name = "S"
login_url = "https://sso.example.net/login"
cookie_urls = ["https://wholesale.example.net/"]
session_id_cookie = "SID"

[profiles.breeze]
name = "Breeze"
login_url = "https://api.example.com/login?api_key=k"
capture = "redirect-param"
redirect_param = "apisession"
done_when = { url_prefix = "https://app.example.com/callback" }
"##;

    fn config() -> Config {
        Config::parse(CONFIG, Path::new("c.toml")).expect("test config parses")
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test url")
    }

    #[test]
    fn a_login_is_done_when_the_url_prefix_and_every_named_cookie_are_there() {
        let c = config();
        let mtn = &c.profiles["mtn"];
        let portal = url("https://wholesale.example.net/portal?ticket=ST-1");
        assert!(is_done(mtn, &portal, &["JSESSIONID", "other"]));
        assert!(!is_done(mtn, &portal, &["other"]), "cookie missing");
        let login = url("https://sso.example.net/login");
        assert!(!is_done(mtn, &login, &["JSESSIONID"]), "still on the SSO");

        let p = &c.profiles["prefix_only"];
        assert!(is_done(p, &portal, &[]));
        assert!(!is_done(p, &login, &["JSESSIONID"]));

        let s = &c.profiles["sid_only"];
        assert!(is_done(s, &login, &["SID"]));
        assert!(!is_done(s, &portal, &["JSESSIONID"]));
    }

    #[test]
    fn the_token_is_read_from_the_redirect_only_where_done_when_allows() {
        let c = config();
        let breeze = &c.profiles["breeze"];
        let callback = url("https://app.example.com/callback?apisession=tok%2B1&state=x");
        assert_eq!(
            token_in_redirect(breeze, &callback).map(|t| t.expose().to_owned()),
            Some("tok+1".to_owned())
        );
        assert!(is_done(breeze, &callback, &[]));
        let elsewhere = url("https://evil.example.org/callback?apisession=tok");
        assert!(token_in_redirect(breeze, &elsewhere).is_none());
        let empty = url("https://app.example.com/callback?apisession=");
        assert!(token_in_redirect(breeze, &empty).is_none());
        assert!(token_in_redirect(&c.profiles["mtn"], &callback).is_none());
    }

    /// The finding "a redirect token from anywhere": `url_prefix` was compared as a raw
    /// string, so a look-alike host or a longer path matched.
    #[test]
    fn finding_redirect_token_from_anywhere_a_look_alike_host_or_path_is_not_below_the_prefix() {
        let prefix = url("https://app.example.com/callback");
        for below in [
            "https://app.example.com/callback",
            "https://APP.example.com/callback?apisession=t",
            "https://app.example.com/callback/next",
            "https://app.example.com:443/callback",
        ] {
            assert!(same_or_below(&url(below), &prefix), "{below}");
        }
        for elsewhere in [
            "https://app.example.com.evil.org/callback",
            "https://app.example.com/callbackx",
            "http://app.example.com/callback",
            "https://app.example.com:8443/callback",
            "https://evil.org/https://app.example.com/callback",
        ] {
            assert!(!same_or_below(&url(elsewhere), &prefix), "{elsewhere}");
        }
        let host_only = url("https://app.example.com");
        assert!(!same_or_below(
            &url("https://app.example.com.evil.org/"),
            &host_only
        ));
    }

    #[test]
    fn cookies_read_for_several_urls_are_kept_once() {
        let cookie = |name: &str, domain: &str| Cookie {
            name: name.into(),
            value: Secret::new("v"),
            domain: domain.into(),
            path: "/".into(),
            expires: -1.0,
            http_only: true,
            secure: false,
            same_site: crate::session::SameSite::Lax,
        };
        let kept = session_cookies([
            vec![cookie("A", ".example.net"), cookie("B", "api.example.net")],
            vec![cookie("A", ".example.net"), cookie("C", "sso.example.net")],
        ]);
        let names: Vec<&str> = kept.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C"]);
    }

    #[test]
    fn a_reported_domain_is_host_only_on_its_own_host_and_a_domain_cookie_above_it() {
        let api = url("https://api.example.net/x");
        assert_eq!(
            cookie_domain(Some("api.example.net"), &api),
            "api.example.net"
        );
        assert_eq!(cookie_domain(None, &api), "api.example.net");
        assert_eq!(cookie_domain(Some(".example.net"), &api), ".example.net");
        assert_eq!(cookie_domain(Some("example.net"), &api), ".example.net");
    }

    #[test]
    fn the_prefill_script_is_guarded_by_origin_and_top_frame_and_escapes_values() {
        let c = config();
        let mtn = &c.profiles["mtn"];
        let prefill = mtn.prefill.as_ref().expect("prefill");
        let login = mtn.login_url.as_ref().expect("login url");
        let user = Secret::new("ann\"</script><script>alert(1)</script>");
        let pass = Secret::new("p'a\\ss\u{2028}");
        let script = prefill_script(login, prefill, Some(&user), Some(&pass)).expect("script");
        let js = script.expose();
        assert!(
            js.contains(r#"window.location.origin !== "https://sso.example.net""#),
            "{js}"
        );
        assert!(js.contains("window.top !== window.self"), "{js}");
        assert!(
            js.contains(&serde_json::to_string(user.expose()).expect("json")),
            "{js}"
        );
        assert!(
            js.contains(&serde_json::to_string(pass.expose()).expect("json")),
            "{js}"
        );
        assert!(js.contains(r#""input[name='pass\"word']""#), "{js}");
        assert!(
            !js.contains("ann\"</script>"),
            "raw value must not appear: {js}"
        );
        assert!(prefill_script(login, prefill, None, None).is_none());
        assert!(format!("{script:?}").contains("***"));
    }
}
