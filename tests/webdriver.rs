//! The app's windows driven over WebDriver, as a test author would by hand: `tauri-driver`
//! (installed by `scripts/setup.sh`) in front of WebKitGTK's `WebKitWebDriver`, started with a
//! test's environment, and a `fantoccini` client whose session launches the app. The app's
//! stdout and stderr (its log) land in the driver's files.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::TestEnv;

/// `tauri-driver` on PATH or in cargo's bin dir; a missing one fails (never skips) the test.
pub fn tauri_driver() -> PathBuf {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|d| d.join("bin"));
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain(cargo_bin)
        .map(|d| d.join("tauri-driver"))
        .find(|p| p.is_file())
        .expect(
            "tauri-driver is missing: scripts/setup.sh installs it \
             (cargo install tauri-driver --version 2.1.0 --locked)",
        )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// A running `tauri-driver`; killed (with the app it started) when dropped.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    port: u16,
    out: PathBuf,
    err: PathBuf,
}

impl Driver {
    /// Starts the driver with `env`'s desktop, HOME, XDG dirs, config and keychain service: the
    /// app it launches inherits them.
    pub fn start(env: &TestEnv) -> Self {
        assert!(
            env.desktop().is_some(),
            "start the driver on a desktop of the test's own: TestEnv::on(&Desktop::start(), …)"
        );
        let port = free_port();
        let native_port = free_port();
        let out = env.root.path().join("tauri-driver.out");
        let err = env.root.path().join("tauri-driver.err");
        let child = env
            .command_for(&tauri_driver())
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("driver stdout file"))
            .stderr(std::fs::File::create(&err).expect("driver stderr file"))
            .spawn()
            .expect("start tauri-driver");
        // Both must listen: tauri-driver, and the WebKitWebDriver it starts behind itself.
        let start = Instant::now();
        for p in [port, native_port] {
            while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "tauri-driver or WebKitWebDriver did not listen on {p}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Self {
            child,
            port,
            out,
            err,
        }
    }

    /// A WebDriver session: launches `app` with `args`. The app must open a window at start
    /// (`--dashboard`): WebKit automation attaches to an existing browsing context.
    pub async fn session(&self, app: &Path, args: &[&str]) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".to_owned(),
            serde_json::json!({ "application": app, "args": args }),
        );
        ClientBuilder::rustls()
            .expect("rustls client")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .unwrap_or_else(|e| panic!("WebDriver session: {e}\n--- log ---\n{}", self.log()))
    }

    /// The processes the driver started (WebKitWebDriver, the app and its WebKit processes),
    /// by pid and name.
    pub fn descendants(&self) -> Vec<(u32, String)> {
        crate::desktop::descendants(self.child.id())
    }

    /// What the driver and the app it launched printed (the app logs to stderr).
    pub fn log(&self) -> String {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        format!("{}{}", read(&self.out), read(&self.err))
    }

    /// Waits until `done(log)`, or fails the test with the log.
    #[track_caller]
    pub fn wait_for_log(&self, what: &str, within: Duration, done: impl Fn(&str) -> bool) {
        let start = Instant::now();
        while !done(&self.log()) {
            assert!(
                start.elapsed() < within,
                "{what}: not within {within:?}\n--- log ---\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The test failed: what the app said is the first thing to read.
            print_log(&self.log());
        }
        // The app and WebKitWebDriver first: killed alone, the driver would leave them running
        // (and the app would keep the single-instance name on the bus).
        for (pid, _) in crate::desktop::descendants(self.child.id())
            .into_iter()
            .rev()
        {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Switches `client` to the window whose document title (`by_title`) or URL starts with
/// `prefix`, waiting for it to open.
pub async fn switch_to_window(client: &Client, prefix: &str, within: Duration) {
    let start = Instant::now();
    loop {
        let mut seen = Vec::new();
        for handle in client.windows().await.unwrap_or_default() {
            if client.switch_to_window(handle).await.is_ok() {
                let title = client.title().await.unwrap_or_default();
                let url = client
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                if title.starts_with(prefix) || url.starts_with(prefix) {
                    return;
                }
                seen.push(format!("{title} <{url}>"));
            }
        }
        assert!(
            start.elapsed() < within,
            "no window with a title or URL starting {prefix:?} within {within:?}; WebDriver sees {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The element at `css`, once the page has it: a page that is still loading or drawing
/// (a test's machine may be busy) is waited for, up to 30 s.
async fn element(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .every(Duration::from_millis(100))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css} within 30 s: {e}"))
}

/// The `value` property of the element at `css` (empty when it has none).
pub async fn value_of(client: &Client, css: &str) -> String {
    let el = element(client, css).await;
    el.prop("value").await.ok().flatten().unwrap_or_default()
}

/// The text of the element at `css`.
pub async fn text_of(client: &Client, css: &str) -> String {
    element(client, css).await.text().await.unwrap_or_default()
}

/// Polls `check` until it returns true, or fails with `what` (also when a check hangs).
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        // A WebDriver call can hang (seen once, under load, while a window closed): each check
        // is bounded by what is left of `within`, so a test fails instead of waiting forever.
        let left = within
            .saturating_sub(start.elapsed())
            .max(Duration::from_millis(500));
        match tokio::time::timeout(left, check()).await {
            Ok(true) => return,
            Ok(false) => {}
            Err(_) => panic!("{what}: not within {within:?} (the check itself hung)"),
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[allow(clippy::print_stderr)] // shown by the test harness beside the failure
fn print_log(log: &str) {
    eprintln!("--- tauri-driver and app log ---\n{log}");
}

/// Waits until the element at `css` exists and is enabled, up to 45 s.
async fn wait_until_enabled(client: &Client, css: &str) {
    eventually(
        &format!("{css} enabled"),
        Duration::from_secs(45),
        || async {
            match client.find(Locator::Css(css)).await {
                Ok(el) => el.is_enabled().await.unwrap_or(false),
                Err(_) => false,
            }
        },
    )
    .await;
}

/// Clicks the element at `css` once it exists and is enabled (the dashboard disables a
/// button while its action runs).
pub async fn click_when_enabled(client: &Client, css: &str) {
    wait_until_enabled(client, css).await;
    client
        .find(Locator::Css(css))
        .await
        .expect("element")
        .click()
        .await
        .expect("click");
}

/// Clicks the element at `css` once it is enabled, and does not wait for the page the click
/// leads to: a login form's Sign in, after which the app may close the window while the next
/// page still loads. WebDriver's click waits for that load, which then never ends (until the
/// page load timeout, 300 s); here it waits at most 1 s for it.
pub async fn click_and_leave(client: &Client, css: &str) {
    wait_until_enabled(client, css).await;
    let element = client.find(Locator::Css(css)).await.expect("element");
    let timeouts = client.get_timeouts().await.expect("the timeouts");
    client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            timeouts.script(),
            Some(Duration::from_secs(1)),
            timeouts.implicit(),
        ))
        .await
        .expect("a short page load timeout");
    match element.click().await {
        Ok(()) => {}
        // The click was made; the page it leads to loads on, or its window has closed.
        Err(fantoccini::error::CmdError::Standard(e))
            if matches!(
                e.error,
                fantoccini::error::ErrorStatus::Timeout
                    | fantoccini::error::ErrorStatus::NoSuchWindow
            ) => {}
        Err(e) => panic!("click {css}: {e}"),
    }
    // The timeouts belong to the session, which outlives a closed window.
    let _ = client.update_timeouts(timeouts).await;
}
