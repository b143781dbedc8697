//! The login window of a profile (`login-<profile>`): a webview on the profile's `login_url`
//! where the human solves the captcha; the app does the rest. It is incognito (no cookie file
//! on disk) and in no capability (no IPC). The form is pre-filled from the keychain, on the
//! login origin only. A background task watches for the completed login (`done_when`, polled
//! from the window's URL and cookie jar; a `redirect-param` token is taken from the redirect
//! in `on_navigation`, which stops it), captures the cookies (HttpOnly included) or the token,
//! has core validate and store them, closes the window and pushes. Closing the window cancels.
//! The window's title says what is expected and what is happening (the app's own text, never
//! injected into the page).

use std::hash::{Hash as _, Hasher as _};
use std::time::Duration;

use sessionkeeper_core::capture::{self, AcceptError};
use sessionkeeper_core::config::Capture;
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::session::{Cookie, SameSite, Session};
use sessionkeeper_core::vault::SecretName;
use sessionkeeper_core::{Checker, Profile};
use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Manager as _, Url, WebviewUrl, WebviewWindow, WebviewWindowBuilder};
use tokio::sync::mpsc;

/// How often the window's URL and cookies are looked at while a login is under way.
const POLL: Duration = Duration::from_millis(300);
/// How long to wait before validating again when the server could not tell.
const RETRY_UNSURE: Duration = Duration::from_secs(5);
/// Set to `off` to let WebDriver drive the login window (automation needs a persistent WebKit
/// context). Cookies then land in WebKit's plaintext cookie file: for e2e tests only.
pub(crate) const INCOGNITO_ENV: &str = "SESSIONKEEPER_LOGIN_INCOGNITO";

pub(crate) fn label(profile: &str) -> String {
    format!("login-{profile}")
}

/// Opens (or focuses) the login window of `profile`. Returns at once: the keychain is read
/// and the window built on Tauri's runtime, never inside a menu or notification handler.
pub(crate) fn open(app: &AppHandle, profile: &str) {
    if focus(app, profile) {
        return;
    }
    let shared = crate::shared(app);
    let Some(p) = shared.config.profiles.get(profile).cloned() else {
        tracing::warn!("no profile {profile:?} to log in to");
        return;
    };
    let Some(url) = p.login_url.clone() else {
        crate::notifier::inform(
            app,
            profile,
            format!("{}: no login page", p.name),
            format!("Set login_url in [profiles.{profile}] to log in from Session Keeper."),
        );
        return;
    };
    if p.capture == Capture::Manual {
        crate::dashboard::open(app, Some(profile));
        return;
    }
    if !shared
        .logins_opening
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(p.id.clone())
    {
        tracing::info!(%profile, "login window already opening");
        return;
    }
    let keychain = shared.keychain.clone();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let prefill = match p.prefill.clone() {
            Some(prefill) => {
                let id = p.id.clone();
                let login_url = url.clone();
                tokio::task::spawn_blocking(move || {
                    let vault = keychain.vault().ok()?;
                    let get = |name| vault.get_secret(&name).ok().flatten();
                    let username = get(SecretName::Username(id.clone()));
                    let password = get(SecretName::Password(id));
                    capture::prefill_script(
                        &login_url,
                        &prefill,
                        username.as_ref(),
                        password.as_ref(),
                    )
                })
                .await
                .ok()
                .flatten()
            }
            None => None,
        };
        let id = p.id.clone();
        build(&app, p, url, prefill);
        crate::shared(&app)
            .logins_opening
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&id);
    });
}

/// The fallback for providers that refuse embedded browsers: the login page in the system
/// browser, and the dashboard's paste form for the session or token the human brings back.
pub(crate) fn open_in_browser(app: &AppHandle, profile: &str) {
    use tauri_plugin_opener::OpenerExt as _;
    let Some(p) = crate::shared(app).config.profiles.get(profile).cloned() else {
        return;
    };
    let Some(url) = p.login_url else {
        return;
    };
    if let Err(e) = app.opener().open_url(url.as_str(), None::<&str>) {
        tracing::warn!(%profile, "cannot open the system browser: {e}");
        crate::notifier::inform(
            app,
            profile,
            format!("{}: cannot open the browser", p.name),
            format!("{e}. Open {url} yourself, then paste the session in the dashboard."),
        );
    }
    crate::dashboard::open(app, Some(profile));
}

/// Brings the open login window of `profile` forward; false when there is none.
fn focus(app: &AppHandle, profile: &str) -> bool {
    let Some(window) = app.get_webview_window(&label(profile)) else {
        return false;
    };
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
    tracing::info!(%profile, "login window focused");
    true
}

fn incognito() -> bool {
    std::env::var(INCOGNITO_ENV).map_or(true, |v| v != "off")
}

fn build(app: &AppHandle, p: Profile, url: Url, prefill: Option<Secret>) {
    if focus(app, &p.id) {
        return;
    }
    let incognito = incognito();
    if !incognito {
        tracing::warn!(
            profile = %p.id,
            "{INCOGNITO_ENV}=off: the login window keeps cookies in WebKit's cookie file"
        );
    }
    let login_origin = url.origin();
    let (redirects, redirected) = mpsc::unbounded_channel::<Secret>();
    let nav_profile = p.clone();
    let built = WebviewWindowBuilder::new(app, label(&p.id), WebviewUrl::External(url))
        .title(title(
            &p,
            "sign in; Session Keeper captures the session when you are in",
        ))
        .inner_size(960.0, 760.0)
        .incognito(incognito)
        .focused(true)
        // Main thread, for every navigation and redirect (iframes too): stay cheap.
        .on_navigation(
            move |url| match capture::token_in_redirect(&nav_profile, url) {
                Some(token) => {
                    let _ = redirects.send(token);
                    false // the callback page never loads with the token in its URL
                }
                None => true,
            },
        )
        .on_page_load(move |window, payload| {
            // Only a page of the login origin ever receives the script (it holds the
            // password); the script checks the origin and the frame again, in the page.
            if payload.event() == PageLoadEvent::Finished
                && payload.url().origin() == login_origin
                && let Some(script) = &prefill
            {
                let _ = window.eval(script.expose());
            }
        })
        .build();
    match built {
        Ok(window) => {
            tracing::info!(profile = %p.id, "login window opened");
            let app = app.clone();
            tauri::async_runtime::spawn(watch_login(app, window, p, redirected));
        }
        Err(e) => tracing::warn!(profile = %p.id, "cannot open the login window: {e}"),
    }
}

fn title(p: &Profile, what: &str) -> String {
    format!("Log in — {}: {what}", p.name)
}

/// Watches one login window until the session is captured and stored, or the window closes.
async fn watch_login(
    app: AppHandle,
    window: WebviewWindow,
    p: Profile,
    mut redirected: mpsc::UnboundedReceiver<Secret>,
) {
    let checker = Checker::new();
    // The jar that was refused (a fingerprint of its values), so it is not sent again and again.
    let mut refused: Option<u64> = None;
    // A token whose validation could not tell: seen once, in the redirect, so it is tried
    // again (losing it would lose the login) until it is stored, refused or the window closes.
    let mut unsure_token: Option<Secret> = None;
    loop {
        let session = match unsure_token.take() {
            Some(token) => {
                if app.get_webview_window(window.label()).is_none() {
                    tracing::info!(profile = %p.id, "login window closed: nothing captured");
                    return;
                }
                Some(Session::captured(&p, Vec::new(), Some(token)))
            }
            None => tokio::select! {
                token = redirected.recv() => {
                    // None: the webview is gone (its page was closed: by the human, by a page
                    // script, or over WebDriver). Whatever is left of the window goes too.
                    let Some(token) = token else {
                        let _ = window.destroy();
                        tracing::info!(profile = %p.id, "login window closed: nothing captured");
                        return;
                    };
                    Some(Session::captured(&p, Vec::new(), Some(token)))
                }
                () = tokio::time::sleep(POLL) => {
                    if app.get_webview_window(window.label()).is_none() {
                        tracing::info!(profile = %p.id, "login window closed: nothing captured");
                        return;
                    }
                    if p.capture == Capture::Cookies {
                        match read_jar(&window, &p).await {
                            Some(cookies) if refused != Some(fingerprint(&cookies)) => {
                                Some(Session::captured(&p, cookies, None))
                            }
                            _ => None,
                        }
                    } else {
                        None
                    }
                }
            },
        };
        let Some(session) = session else { continue };
        let _ = window.set_title(&title(&p, "signed in; validating the session…"));
        tracing::info!(profile = %p.id, cookies = session.cookies.len(), "login complete: validating");
        let accepted = crate::actions::accept_and_push(
            &app,
            &p,
            session.clone(),
            &checker,
            "login",
            "logged in; ",
        )
        .await;
        match accepted {
            Ok(()) => {
                let _ = window.close();
                return;
            }
            Err(AcceptError::Refused { detail }) => {
                tracing::warn!(profile = %p.id, "captured session refused: {detail}");
                refused = Some(fingerprint(&session.cookies));
                let _ = window.set_title(&title(
                    &p,
                    &format!("the server refused this session ({detail}); sign in again"),
                ));
            }
            Err(e) => {
                tracing::warn!(profile = %p.id, "captured session not stored: {e}");
                let _ = window.set_title(&title(&p, &format!("{e}; retrying")));
                if let AcceptError::Keychain(_) = &e {
                    crate::notifier::inform(
                        &app,
                        &p.id,
                        format!("{}: the session could not be stored", p.name),
                        e.to_string(),
                    );
                }
                tokio::time::sleep(RETRY_UNSURE).await;
                // A jar is read again from the window; a token only lives here.
                unsure_token = session.token;
            }
        }
    }
}

/// The session's cookies once the login is complete by `done_when`, or `None` while it is not
/// (or the window went away). Read on a blocking thread: the getters wait for the event loop.
async fn read_jar(window: &WebviewWindow, p: &Profile) -> Option<Vec<Cookie>> {
    let window = window.clone();
    let p = p.clone();
    tokio::task::spawn_blocking(move || {
        let url = window.url().ok()?;
        let mut jars = Vec::new();
        for cookie_url in &p.cookie_urls {
            // The getter panics instead of failing if the webview is gone (tauri-runtime-wry
            // unwraps a closed channel): a window closed at this moment is "not done".
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                window.cookies_for_url(cookie_url.clone())
            }));
            let cookies = read.ok()?.ok()?;
            jars.push(cookies.iter().map(|c| to_cookie(c, cookie_url)).collect());
        }
        let cookies = capture::session_cookies(jars);
        let names: Vec<&str> = cookies.iter().map(|c| c.name.as_str()).collect();
        capture::is_done(&p, &url, &names).then_some(cookies)
    })
    .await
    .ok()
    .flatten()
}

/// Tells one jar from another without keeping a copy of the values.
fn fingerprint(cookies: &[Cookie]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for c in cookies {
        c.name.hash(&mut hasher);
        c.value.expose().hash(&mut hasher);
    }
    hasher.finish()
}

/// WebKit's cookie (the `cookie` crate's) as the session keeps it.
fn to_cookie(c: &tauri::webview::Cookie<'static>, read_for: &Url) -> Cookie {
    use tauri::webview::cookie::SameSite as S;
    #[allow(clippy::cast_precision_loss)] // Unix seconds fit an f64 exactly for millennia
    let expires = c
        .expires_datetime()
        .map_or(-1.0, |t| t.unix_timestamp() as f64);
    Cookie {
        name: c.name().to_owned(),
        value: Secret::new(c.value()),
        domain: capture::cookie_domain(c.domain(), read_for),
        path: c.path().unwrap_or("/").to_owned(),
        expires,
        http_only: c.http_only().unwrap_or(false),
        secure: c.secure().unwrap_or(false),
        same_site: match c.same_site() {
            Some(S::Strict) => SameSite::Strict,
            Some(S::None) => SameSite::None,
            _ => SameSite::Lax,
        },
    }
}
