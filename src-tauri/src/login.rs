//! The login window of a profile (`login-<profile>`): a webview on the profile's `login_url`
//! where the human solves the captcha; the controller does the rest. It is incognito (no
//! cookie file on disk) and in no capability (no IPC). The pre-fill script (from the
//! controller) runs on pages of the login origin only. What the window shows — its URL and
//! the cookies of the profile's `cookie_urls`, HttpOnly included — goes to the controller when
//! it changes; a `redirect-param` token is taken from the main frame's URL only (a page load,
//! or the URL as polled), never from an iframe's navigation, so an embedded page cannot
//! plant its own session. In recording mode (the login recorder) the window captures nothing
//! itself: it reports each main-frame URL and the cookies of the page's, the login's and the
//! API's jars to the controller, which works out the profile. The window goes nowhere but `https` (and plain `http` to loopback),
//! opens no other window and downloads nothing. The window's title is the controller's
//! banner.

use std::hash::{Hash as _, Hasher as _};
use std::time::Duration;

use sessionkeeper_controller::{Intent, LoginWindow};
use sessionkeeper_core::capture;
use sessionkeeper_core::config::{Capture, Profile};
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::session::{Cookie, SameSite};
use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Manager as _, Url, WebviewUrl, WebviewWindow, WebviewWindowBuilder};
use tokio::sync::mpsc;

/// How often the window's URL and cookies are looked at while a login is under way.
const POLL: Duration = Duration::from_millis(300);
/// Set to `off` to let WebDriver drive the login window (automation needs a persistent WebKit
/// context). Cookies then land in WebKit's plaintext cookie file: for e2e tests only, so a
/// release build ignores it.
pub(crate) const INCOGNITO_ENV: &str = "SESSIONKEEPER_LOGIN_INCOGNITO";

pub(crate) fn label(profile: &str) -> String {
    format!("login-{profile}")
}

fn incognito() -> bool {
    !cfg!(debug_assertions) || std::env::var(INCOGNITO_ENV).map_or(true, |v| v != "off")
}

/// Where a login window may go: `https`, plain `http` to this machine only (local
/// simulators), and the page-internal schemes. Never `file:`, the app's own `tauri:` pages
/// or any other scheme a page could use to reach the machine or the app.
fn may_navigate(url: &Url) -> bool {
    match url.scheme() {
        "https" | "about" | "data" | "blob" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// Opens the login window the controller asked for.
pub(crate) fn open(app: &AppHandle, window: LoginWindow) {
    let LoginWindow {
        profile,
        url,
        prefill,
        title,
        recording,
    } = window;
    let id = profile.id.clone();
    if let Some(existing) = app.get_webview_window(&label(&id)) {
        focus_window(&existing);
        return;
    }
    let incognito = incognito();
    if !incognito {
        tracing::warn!(
            profile = %id,
            "{INCOGNITO_ENV}=off: the login window keeps cookies in WebKit's cookie file"
        );
    }
    let login_origin = url.origin();
    let (tokens, mut redirected) = mpsc::unbounded_channel::<Secret>();
    let (loads, loaded) = mpsc::unbounded_channel::<Url>();
    let load_profile = profile.clone();
    let (nav_id, window_id, download_id) = (id.clone(), id.clone(), id.clone());
    let built = WebviewWindowBuilder::new(app, label(&id), WebviewUrl::External(url))
        .title(title)
        .inner_size(960.0, 760.0)
        .incognito(incognito)
        .focused(true)
        // Main thread, for every navigation of every frame: stay cheap.
        .on_navigation(move |url| {
            let allowed = may_navigate(url);
            if !allowed {
                tracing::warn!(profile = %nav_id, scheme = url.scheme(), "refused a navigation");
            }
            allowed
        })
        .on_new_window(move |url, _| {
            tracing::warn!(profile = %window_id, scheme = url.scheme(), "refused a new window");
            tauri::webview::NewWindowResponse::Deny
        })
        .on_download(move |_, event| {
            if let tauri::webview::DownloadEvent::Requested { .. } = event {
                tracing::warn!(profile = %download_id, "refused a download");
            }
            false
        })
        .on_page_load(move |window, payload| {
            if recording {
                // Read with the jars on the poll's thread (cookie getters wait for this one).
                let _ = loads.send(payload.url().clone());
                return;
            }
            // A page load is the main frame's: its URL may carry the token.
            if let Some(token) = capture::token_in_redirect(&load_profile, payload.url()) {
                let _ = tokens.send(token);
            }
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
    let window = match built {
        Ok(window) => window,
        Err(e) => {
            tracing::warn!(profile = %id, "cannot open the login window: {e}");
            crate::state::send(app, Intent::LoginClosed { profile: id });
            return;
        }
    };
    refuse_downloads(&window, &id);
    tracing::info!(profile = %id, recording, "login window opened");
    let app = app.clone();
    if recording {
        tauri::async_runtime::spawn(record(app, window, profile, loaded));
        return;
    }
    tauri::async_runtime::spawn(async move {
        let mut last_seen = None;
        let mut last_token = None;
        let mut offer = |token: Secret| {
            // Each token once, whichever of the load event and the poll saw it first.
            let seen = hash_of(token.expose());
            if last_token != Some(seen) {
                last_token = Some(seen);
                crate::state::send(
                    &app,
                    Intent::LoginToken {
                        profile: id.clone(),
                        token,
                    },
                );
            }
        };
        loop {
            tokio::select! {
                token = redirected.recv() => {
                    // None: the webview is gone (its page was closed: by the human, by a page
                    // script, or over WebDriver). Whatever is left of the window goes too.
                    let Some(token) = token else { break };
                    offer(token);
                }
                () = tokio::time::sleep(POLL) => {
                    if app.get_webview_window(window.label()).is_none() {
                        break;
                    }
                    match profile.capture {
                        // The main frame's URL, in case the token came without a page load.
                        Capture::RedirectParam => {
                            if let Some(token) = main_frame_url(&window)
                                .await
                                .and_then(|url| capture::token_in_redirect(&profile, &url))
                            {
                                offer(token);
                            }
                        }
                        Capture::Cookies => {
                            let Some((url, cookies)) = read(&window, &profile).await else {
                                continue;
                            };
                            let seen = fingerprint(&url, &cookies);
                            if last_seen != Some(seen) {
                                last_seen = Some(seen);
                                crate::state::send(&app, Intent::LoginSeen { profile: id.clone(), url, cookies });
                            }
                        }
                        Capture::Manual => {}
                    }
                }
            }
        }
        let _ = window.destroy();
        crate::state::send(&app, Intent::LoginClosed { profile: id });
    });
}

/// The recording window's loop: each page load's URL, and the window as polled, with the jars
/// of the page, the login and the API, to the controller whenever what it shows changed.
async fn record(
    app: AppHandle,
    window: WebviewWindow,
    profile: Profile,
    mut loaded: mpsc::UnboundedReceiver<Url>,
) {
    let id = profile.id.clone();
    let mut last_seen = None;
    loop {
        let url = tokio::select! {
            url = loaded.recv() => match url {
                Some(url) => Some(url),
                None => break,
            },
            () = tokio::time::sleep(POLL) => {
                if app.get_webview_window(window.label()).is_none() {
                    break;
                }
                None
            }
        };
        let mut jars = profile.clone();
        let Some((current, mut cookies)) = read(&window, &jars).await else {
            continue;
        };
        let url = url.unwrap_or(current);
        // The page's own jar too (where the login landed).
        jars.cookie_urls = vec![url.clone()];
        if let Some((_, page)) = read(&window, &jars).await {
            cookies = capture::session_cookies([cookies, page]);
        }
        let seen = fingerprint(&url, &cookies);
        if last_seen != Some(seen) {
            last_seen = Some(seen);
            crate::state::send(
                &app,
                Intent::RecordSeen {
                    profile: id.clone(),
                    url: Secret::new(url.as_str()),
                    cookies,
                },
            );
        }
    }
    let _ = window.destroy();
    crate::state::send(&app, Intent::LoginClosed { profile: id });
}

/// The main frame's URL (blocking getter, off the runtime), `None` if the window went away.
async fn main_frame_url(window: &WebviewWindow) -> Option<Url> {
    let window = window.clone();
    tokio::task::spawn_blocking(move || window.url().ok())
        .await
        .ok()
        .flatten()
}

fn hash_of(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// Cancels every download the login window's WebKit context starts, as it starts: on Linux
/// wry hands only some downloads to `on_download` (seen: an attachment link was saved to the
/// working directory without it being asked).
fn refuse_downloads(window: &WebviewWindow, profile: &str) {
    #[cfg(target_os = "linux")]
    {
        use webkit2gtk::{DownloadExt as _, WebContextExt as _, WebViewExt as _};
        let profile = profile.to_owned();
        let hooked = window.with_webview(move |webview| {
            if let Some(context) = webview.inner().context() {
                context.connect_download_started(move |_, download| {
                    download.cancel();
                    tracing::warn!(profile = %profile, "refused a download");
                });
            }
        });
        if let Err(e) = hooked {
            tracing::warn!("cannot watch the login window's downloads: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (window, profile);
}

/// Brings the open login window of `profile` forward.
pub(crate) fn focus(app: &AppHandle, profile: &str) {
    if let Some(window) = app.get_webview_window(&label(profile)) {
        focus_window(&window);
    }
}

fn focus_window(window: &WebviewWindow) {
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
}

/// The controller's words for what is happening, as the window's title.
pub(crate) fn banner(app: &AppHandle, profile: &str, title: &str) {
    if let Some(window) = app.get_webview_window(&label(profile)) {
        let _ = window.set_title(title);
    }
}

pub(crate) fn close(app: &AppHandle, profile: &str) {
    if let Some(window) = app.get_webview_window(&label(profile)) {
        let _ = window.close();
    }
}

/// The window's URL and the cookies of the profile's `cookie_urls` (HttpOnly included), read
/// on a blocking thread (the getters wait for the event loop); `None` if the window went away.
async fn read(window: &WebviewWindow, p: &Profile) -> Option<(Url, Vec<Cookie>)> {
    let window = window.clone();
    let p = p.clone();
    tokio::task::spawn_blocking(move || {
        let url = window.url().ok()?;
        let mut jars = Vec::new();
        for cookie_url in &p.cookie_urls {
            // The getter panics instead of failing if the webview is gone (tauri-runtime-wry
            // unwraps a closed channel): a window closed at this moment reads as nothing.
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                window.cookies_for_url(cookie_url.clone())
            }));
            let cookies = read.ok()?.ok()?;
            jars.push(cookies.iter().map(|c| to_cookie(c, cookie_url)).collect());
        }
        Some((url, capture::session_cookies(jars)))
    })
    .await
    .ok()
    .flatten()
}

/// Tells one look at the window from the next without keeping a copy of the values.
fn fingerprint(url: &Url, cookies: &[Cookie]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    url.as_str().hash(&mut hasher);
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
