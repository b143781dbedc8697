//! A locked keychain under a real Secret Service, with a prompt nobody answers: the tray app's
//! controller keeps checking, raises one prompt for the locked spell (never one per tick),
//! and goes on by itself once the keychain is unlocked.
//!
//! A test binary of its own, because it locks the keychain: it first starts a private D-Bus
//! session with a gnome-keyring of its own and runs itself again inside it, so that the
//! keychain of every other test stays unlocked. Run by `cargo test` like the others (a
//! filter that does not name it skips it, as libtest would).

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sessionkeeper_controller::{Intent, Keychain, NoticeKey, Setup, Topic};
use sessionkeeper_core::clock::FakeClock;
use sessionkeeper_core::config::Config;
use sessionkeeper_core::history::{Event, History};
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::session::Session;
use sessionkeeper_core::targets::TargetBook;
use sessionkeeper_core::vault::{SecretName, Slot};
use sessionkeeper_tests::fixture::Fixture;
use sessionkeeper_tests::recording::{Call, RecordingHost};
use sessionkeeper_tests::{SessionKind, SimConfig, SimHandle, TestEnv, cookie_export};

const NAME: &str = "a_locked_keychain_is_asked_once_checks_go_on_and_the_unlock_resumes_everything";
/// Set in the run inside the private session.
const INSIDE: &str = "SESSIONKEEPER_TEST_PRIVATE_BUS";
const PASSWORD: &str = "sessionkeeper-locked-test";
const LOGIN: &str = "/org/freedesktop/secrets/collection/login";
const WAIT: Duration = Duration::from_secs(20);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("{NAME}: test");
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| NAME.contains(f.as_str())) {
        println!("running 0 tests (filtered out: {NAME})");
        return;
    }
    if std::env::var_os(INSIDE).is_some() {
        // A failure ends the run at once: a runtime unwinding would wait forever for the
        // thread of an unanswered prompt.
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            report(info);
            std::process::exit(101);
        }));
        locked_keychain();
        println!("test {NAME} ... ok");
        return;
    }
    println!("running 1 test");
    let session = PrivateSession::start();
    let status = Command::new(std::env::current_exe().expect("this test's path"))
        .args(&args)
        .env("DBUS_SESSION_BUS_ADDRESS", &session.address)
        .env("GNOME_KEYRING_CONTROL", &session.control)
        .env(INSIDE, "1")
        .status()
        .expect("the test runs again inside its session");
    drop(session);
    std::process::exit(status.code().unwrap_or(1));
}

/// A D-Bus session of its own with an unlocked gnome-keyring (login keyring, [`PASSWORD`]).
struct PrivateSession {
    bus: Child,
    address: String,
    control: String,
    _home: tempfile::TempDir,
}

impl PrivateSession {
    fn start() -> Self {
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon (dbus-bin) is installed by scripts/setup.sh");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("stdout"))
            .read_line(&mut address)
            .expect("dbus-daemon prints its address");
        let address = address.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        let home = tempfile::tempdir().expect("a home for the keyring");
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--daemonize"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("gnome-keyring-daemon is installed by scripts/setup.sh");
        keyring
            .stdin
            .take()
            .expect("stdin")
            .write_all(PASSWORD.as_bytes())
            .expect("the password");
        let out = keyring.wait_with_output().expect("gnome-keyring starts");
        let control = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("GNOME_KEYRING_CONTROL=").map(str::to_owned))
            .expect("gnome-keyring prints its control directory");
        Self {
            bus,
            address,
            control,
            _home: home,
        }
    }
}

impl Drop for PrivateSession {
    fn drop(&mut self) {
        // The keyring daemon and any prompter leave with their bus.
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

/// The Secret Service's login collection, as the test's own client sees it.
struct LoginKeyring {
    bus: zbus::blocking::Connection,
}

impl LoginKeyring {
    fn connect() -> Self {
        Self {
            bus: zbus::blocking::Connection::session().expect("the private session bus"),
        }
    }

    fn locked(&self) -> bool {
        let reply = self
            .bus
            .call_method(
                Some("org.freedesktop.secrets"),
                LOGIN,
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &("org.freedesktop.Secret.Collection", "Locked"),
            )
            .expect("Locked");
        let value: zbus::zvariant::OwnedValue = reply.body().deserialize().expect("a variant");
        bool::try_from(value).expect("a boolean")
    }

    /// Locks it, as a screen lock or `Lock` in Seahorse does (no prompt).
    fn lock(&self) {
        let paths = vec![zbus::zvariant::ObjectPath::try_from(LOGIN).expect("path")];
        self.bus
            .call_method(
                Some("org.freedesktop.secrets"),
                "/org/freedesktop/secrets",
                Some("org.freedesktop.Secret.Service"),
                "Lock",
                &(paths,),
            )
            .expect("Lock");
        assert!(self.locked(), "the login keyring locks");
    }

    /// Unlocks it with its password, as the desktop's unlock does, without any prompt:
    /// gnome-keyring's own interface for that.
    fn unlock(&self) {
        let reply = self
            .bus
            .call_method(
                Some("org.freedesktop.secrets"),
                "/org/freedesktop/secrets",
                Some("org.freedesktop.Secret.Service"),
                "OpenSession",
                &("plain", zbus::zvariant::Value::from("")),
            )
            .expect("OpenSession");
        let (_, session): (zbus::zvariant::OwnedValue, zbus::zvariant::OwnedObjectPath) =
            reply.body().deserialize().expect("a session");
        let secret = (
            session,
            Vec::<u8>::new(),
            PASSWORD.as_bytes().to_vec(),
            "text/plain",
        );
        self.bus
            .call_method(
                Some("org.freedesktop.secrets"),
                "/org/freedesktop/secrets",
                Some("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"),
                "UnlockWithMasterPassword",
                &(
                    zbus::zvariant::ObjectPath::try_from(LOGIN).expect("path"),
                    secret,
                ),
            )
            .expect("UnlockWithMasterPassword");
        assert!(!self.locked(), "the login keyring unlocks");
    }
}

/// Counts the unlock prompts raised on the bus (each client's call to `Prompt`).
struct PromptCounter {
    child: Child,
    out: std::path::PathBuf,
}

impl PromptCounter {
    fn start(dir: &std::path::Path) -> Self {
        let out = dir.join("prompts.out");
        let child = Command::new("dbus-monitor")
            .args([
                "--session",
                "type='method_call',interface='org.freedesktop.Secret.Prompt',member='Prompt'",
            ])
            .stdout(std::fs::File::create(&out).expect("monitor file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor");
        let started = Instant::now();
        while !std::fs::read_to_string(&out)
            .unwrap_or_default()
            .contains("NameAcquired")
        {
            assert!(started.elapsed() < WAIT, "dbus-monitor did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, out }
    }

    fn count(&self) -> usize {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .matches("member=Prompt")
            .count()
    }
}

impl Drop for PromptCounter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn locked_keychain() {
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("locked");
    // breeze logs in by itself (its refresh needs the keychain's password); mtn only checks.
    let text = Fixture::new(&sim)
        .token_profile("breeze", "Breeze Locked")
        .refresh("breeze")
        .set(&["profiles", "breeze"], "tracked_ttl", "60m")
        .set(&["profiles", "breeze"], "refresh_before", "15m")
        .set(&["profiles", "breeze"], "poll_every", "1m")
        .cookie_profile("mtn", "MTN Locked")
        .set(&["profiles", "mtn"], "tracked_ttl", "2h")
        .set(&["profiles", "mtn"], "poll_every", "1m")
        .text();
    env.write_config(&text);
    let config = Arc::new(Config::parse(&text, &env.config_path()).expect("the fixture loads"));
    let keychain = Keychain::isolated(&env.service, env.sessions_dir());
    // The test's own vault prompts like the CLI's; the keychain is unlocked now.
    let vault = sessionkeeper_core::vault::Vault::open_isolated(
        Duration::from_secs(10),
        &env.service,
        env.sessions_dir(),
    )
    .expect("the private keychain opens");
    for (item, value) in [
        ("profile:breeze:username", "demo"),
        ("profile:breeze:password", "demo-password"),
    ] {
        vault
            .set_secret(&SecretName::parse(item).expect("name"), &Secret::new(value))
            .expect("set");
    }
    let token = sim.mint_session(SessionKind::Token, Some(Duration::from_secs(6 * 3600)));
    let mut breeze = Session::captured(
        &config.profiles["breeze"],
        Vec::new(),
        Some(Secret::new(token.value.clone())),
        chrono::Utc::now(),
    );
    breeze.expires_at = breeze.captured_at + chrono::Duration::minutes(30);
    vault.store_session(&breeze).expect("store");
    let cookie = sim.mint_session(SessionKind::Cookie, Some(Duration::from_secs(6 * 3600)));
    let export = cookie_export("mtn", &[("JSESSIONID", &cookie.value, "127.0.0.1")]);
    env.run_stdin(&["import", "mtn"], &export).assert_code(0);

    let clock = FakeClock::new(chrono::Utc::now());
    let host = RecordingHost::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let state = env.state_dir();
    let history = History::at(&state);
    let setup = Setup {
        config: Arc::clone(&config),
        config_error: None,
        keychain,
        history: Some(history.clone()),
        book: Some(TargetBook::at(&state)),
        demo: false,
        autostart: false,
        retry: None,
    };
    let (handle, _task) = {
        let _guard = runtime.enter();
        sessionkeeper_controller::spawn(host.clone(), Arc::new(clock.clone()), setup)
    };
    let checks = |profile: &str| {
        history
            .events()
            .iter()
            .filter(|e| matches!(e, Event::Check { profile: p, .. } if p == profile))
            .count()
    };
    let advance = |by: Duration| {
        sim.advance(by);
        clock.advance(chrono::Duration::from_std(by).expect("duration"));
    };
    // Each minute of the fake clock is a round of checks of both profiles.
    let minute = |what: &str| {
        let (m, b) = (checks("mtn"), checks("breeze"));
        advance(Duration::from_secs(60));
        host.wait_for(what, WAIT, |_| {
            (checks("mtn") > m && checks("breeze") > b).then_some(())
        });
    };
    host.wait_for("both checked", WAIT, |_| {
        (checks("mtn") > 0 && checks("breeze") > 0).then_some(())
    });

    let keyring = LoginKeyring::connect();
    let prompts = PromptCounter::start(env.root.path());
    keyring.lock();
    // Ten minutes on, breeze's tracked expiry is 20 minutes away: not yet due for refresh.
    for _ in 0..10 {
        minute("checks go on while locked, before anything needs the keychain");
    }
    assert_eq!(
        prompts.count(),
        0,
        "nothing needed the keychain yet: no prompt"
    );
    assert_eq!(sim.logins(), 0);
    // Within refresh_before: the refresh needs the password, and the keychain is locked.
    for _ in 0..6 {
        minute("checks go on while locked");
    }
    let locked = "Session Keeper: the keychain is locked".to_owned();
    host.wait_for("the locked notification", WAIT, |calls| {
        calls
            .iter()
            .any(|c| matches!(c, Call::Notify { summary, .. } if *summary == locked))
            .then_some(())
    });
    let started = Instant::now();
    while prompts.count() == 0 {
        assert!(
            started.elapsed() < WAIT,
            "the spell's one prompt was not raised"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let tray = host.tray().expect("a tray");
    assert!(
        tray.keychain
            .as_deref()
            .is_some_and(|l| l.contains("Keychain locked")),
        "{tray:?}"
    );
    // Ten minutes of ticks with the prompt unanswered: checks go on, no second prompt, no
    // refresh attempt, no "refresh failed".
    for _ in 0..10 {
        minute("checks go on with the prompt unanswered");
    }
    assert_eq!(prompts.count(), 1, "one prompt for the locked spell");
    assert_eq!(
        sim.logins(),
        0,
        "no refresh while its password cannot be read"
    );
    let notified = host.summaries();
    assert_eq!(
        notified.iter().filter(|s| **s == locked).count(),
        1,
        "{notified:#?}"
    );
    assert!(
        !notified.iter().any(|s| s.contains("refresh failed")),
        "a locked keychain is no failed refresh: {notified:#?}"
    );
    assert!(keyring.locked(), "nothing unlocked it meanwhile");

    // The human unlocks (the desktop's unlock): within one probe, everything goes on.
    keyring.unlock();
    advance(Duration::from_secs(30));
    host.wait_for("the refresh that waited", WAIT, |_| {
        (sim.logins() > 0).then_some(())
    });
    let renewed = host.wait_for("a refreshed session stored", WAIT, |_| {
        vault
            .load_session(&config.profiles["breeze"], Slot::Current)
            .ok()
            .flatten()
            .filter(|s| s.token.as_ref().map(Secret::expose) != Some(token.value.as_str()))
    });
    assert!(renewed.expires_at > breeze.expires_at);
    host.wait_for("the locked notification withdrawn", WAIT, |calls| {
        calls
            .iter()
            .any(|c| matches!(c, Call::Withdraw(k) if *k == NoticeKey::new("", Topic::Keychain)))
            .then_some(())
    });
    host.wait_for("the tray without the keychain line", WAIT, |_| {
        host.tray().filter(|t| t.keychain.is_none()).map(drop)
    });
    assert_eq!(prompts.count(), 1, "the unlock raised no prompt");
    assert!(handle.send(Intent::Quit));
    // The unanswered prompt's thread still waits: leave it behind.
    runtime.shutdown_background();
}
