//! How the app's costs grow with the number of profiles: 1, 10 and 100 cookie profiles, each
//! with a live session on sim, and a history at its 2 MiB cap. For each size it measures
//!  - the tray app's memory at rest (PSS of the release binary, as packaged) after its first
//!    round of checks,
//!  - the app's CPU per poll round (every profile is polled every 10 s),
//!  - the time to build the dashboard's state (the controller in-process, answering the page),
//!  - `sessionkeeper status --json`'s wall time,
//!  - the connections the checks opened to sim's API host (bounded per origin),
//!
//! and prints each beside the 1-profile figure of the same run, with the cost per added
//! profile. Run by `scripts/bench.sh scale` (a desktop session: Xvfb, D-Bus, gnome-keyring).

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sessionkeeper_controller::{Intent, Keychain, Setup};
use sessionkeeper_core::check::{Reason, Status};
use sessionkeeper_core::clock::SystemClock;
use sessionkeeper_core::config::Config;
use sessionkeeper_core::history::{Event, History};
use sessionkeeper_core::session::Session;
use sessionkeeper_core::targets::TargetBook;
use sessionkeeper_tests::desktop::{App, cpu_ticks, pss_kib};
use sessionkeeper_tests::fixture::Fixture;
use sessionkeeper_tests::recording::RecordingHost;
use sessionkeeper_tests::{
    SessionKind, SimConfig, SimHandle, TestEnv, cookie_export, sibling_binary,
};

const SIZES: [usize; 3] = [1, 10, 100];
const POLL_EVERY_SECS: u64 = 10;
const ROUNDS: u64 = 3;
const HISTORY_BYTES: u64 = 2 * 1024 * 1024 - 4096;

/// One size's figures.
#[derive(Debug, Clone, Copy)]
struct Figures {
    pss_kib: u64,
    cpu_ms_per_round: f64,
    dashboard_ms: f64,
    status_ms: f64,
    connections: u64,
}

fn main() {
    let app = sibling_binary("sessionkeeper-app");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let figures: Vec<(usize, Figures)> = SIZES
        .iter()
        .map(|&n| (n, measure(n, &app, &runtime)))
        .collect();

    let one = figures[0].1;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "the app's costs by number of profiles (history at its 2 MiB cap; same run, same machine)"
    );
    let _ = writeln!(
        out,
        "{:>9} {:>14} {:>22} {:>18} {:>18} {:>12}",
        "profiles",
        "PSS at rest",
        "CPU per poll round",
        "dashboard state",
        "status --json",
        "connections"
    );
    for (n, f) in &figures {
        let x = |ours: f64, base: f64| {
            if base > 0.0 {
                format!("{:.1}×", ours / base)
            } else {
                "n/a".to_owned()
            }
        };
        let _ = writeln!(
            out,
            "{n:>9} {:>8.1} MB {:>5} {:>12.0} ms {:>7} {:>9.2} ms {:>6} {:>9.1} ms {:>6} {:>12}",
            f.pss_kib as f64 / 1024.0,
            x(f.pss_kib as f64, one.pss_kib as f64),
            f.cpu_ms_per_round,
            x(f.cpu_ms_per_round, one.cpu_ms_per_round),
            f.dashboard_ms,
            x(f.dashboard_ms, one.dashboard_ms),
            f.status_ms,
            x(f.status_ms, one.status_ms),
            f.connections
        );
    }
    let (last_n, last) = figures[figures.len() - 1];
    let added = (last_n - 1) as f64;
    let _ = writeln!(
        out,
        "per added profile (1 → {last_n}): {:.0} KiB of memory, {:.2} ms of CPU per poll round, \
         {:.3} ms of dashboard state, {:.2} ms of status --json",
        (last.pss_kib as f64 - one.pss_kib as f64) / added,
        (last.cpu_ms_per_round - one.cpu_ms_per_round) / added,
        (last.dashboard_ms - one.dashboard_ms) / added,
        (last.status_ms - one.status_ms) / added,
    );
}

fn measure(n: usize, app: &Path, runtime: &tokio::runtime::Runtime) -> Figures {
    let sim = SimHandle::start(SimConfig::default());
    // The bench's own keychain calls (below) go to this process's bus: the app and the CLI
    // run on the same desktop, so that they read what the bench stored.
    let env = TestEnv::on_this_desktop(&format!("bench-scale-{n}"));
    let ids: Vec<String> = (0..n).map(|i| format!("p{i:03}")).collect();
    let mut fixture = Fixture::new(&sim).accounts();
    for id in &ids {
        fixture = fixture
            .cookie_profile(id, &format!("Profile {id}"))
            .set(&["profiles", id], "tracked_ttl", "12h")
            .set(&["profiles", id], "warn_before", "15m")
            .set(
                &["profiles", id],
                "poll_every",
                format!("{POLL_EVERY_SECS}s"),
            );
    }
    let text = fixture.text();
    env.write_config(&text);
    let config = Arc::new(Config::parse(&text, &env.config_path()).expect("the fixture loads"));

    // A live session for every profile, in the keychain as `import` would leave it.
    let keychain = Keychain::isolated(&env.service, env.sessions_dir());
    let vault = keychain.open().expect("the bench keychain opens");
    for id in &ids {
        let minted = sim.mint_session(SessionKind::Cookie, None);
        let export = cookie_export(id, &[("JSESSIONID", &minted.value, "127.0.0.1")]);
        let session =
            Session::import(&export, config.profile(id).expect("profile")).expect("session");
        vault.store_session(&session).expect("store");
    }
    fill_history(&History::at(&env.state_dir()), &ids);

    // `status --json`: the median of 5.
    let mut status: Vec<Duration> = (0..5)
        .map(|_| {
            let run = env.run(&["status", "--json"]);
            run.assert_code(0);
            run.elapsed
        })
        .collect();
    status.sort();
    let status_ms = status[2].as_secs_f64() * 1000.0;

    // The dashboard's state, built by the controller (after its first round of checks).
    let dashboard_ms = {
        let host = RecordingHost::new();
        let setup = Setup {
            config: Arc::clone(&config),
            config_error: None,
            keychain: Keychain::isolated(&env.service, env.sessions_dir()),
            history: Some(History::at(&env.state_dir())),
            book: Some(TargetBook::at(&env.state_dir())),
            demo: false,
            autostart: false,
            retry: None,
        };
        let (handle, _task) = {
            let _guard = runtime.enter();
            sessionkeeper_controller::spawn(host.clone(), Arc::new(SystemClock), setup)
        };
        let ask = || {
            let (tx, rx) = tokio::sync::oneshot::channel();
            assert!(handle.send(Intent::DashboardState { reply: tx }));
            runtime.block_on(rx).expect("an answer")
        };
        let t0 = chrono::Utc::now();
        let started = Instant::now();
        while ask()
            .profiles
            .iter()
            .any(|c| c.status.last_check.is_none_or(|t| t < t0))
        {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the first round of {n} checks did not end"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        const ASKS: u32 = 20;
        let started = Instant::now();
        for _ in 0..ASKS {
            let state = ask();
            assert_eq!(state.profiles.len(), n);
        }
        let elapsed = started.elapsed();
        handle.send(Intent::Quit);
        elapsed.as_secs_f64() * 1000.0 / f64::from(ASKS)
    };

    // The app itself: memory at rest after the first round, CPU per poll round.
    let connections_before = sim.connections();
    let running = App::start_binary(&env, app, &[]);
    running.wait_for("the first round of checks", Duration::from_secs(120), |a| {
        a.log().matches("checked:").count() >= n
    });
    std::thread::sleep(Duration::from_secs(2));
    let pss_kib = pss_kib(running.pid());
    let checks_0 = running.log().matches("checked:").count();
    let ticks_0 = cpu_ticks(running.pid());
    std::thread::sleep(Duration::from_secs(POLL_EVERY_SECS * ROUNDS));
    let ticks = cpu_ticks(running.pid()) - ticks_0;
    let checks = running.log().matches("checked:").count() - checks_0;
    let rounds = (checks as f64 / n as f64).max(1.0);
    let connections = sim.connections() - connections_before;
    drop(running);
    // A clock tick is 10 ms on Linux (USER_HZ = 100).
    let cpu_ms_per_round = ticks as f64 * 10.0 / rounds;
    Figures {
        pss_kib,
        cpu_ms_per_round,
        dashboard_ms,
        status_ms,
        connections,
    }
}

/// Checks and pushes of every profile, oldest first, until the history is just under its cap.
fn fill_history(history: &History, ids: &[String]) {
    let mut at = chrono::Utc::now() - chrono::Duration::days(30);
    let mut i = 0usize;
    while std::fs::metadata(history.path()).map_or(0, |m| m.len()) < HISTORY_BYTES {
        let profile = ids[i % ids.len()].clone();
        let event = if i % 10 == 9 {
            Event::Push {
                profile,
                at,
                target: "github acme/circletel secret MTN_SESSION".to_owned(),
                account: "github".to_owned(),
                ok: true,
                detail: "updated the secret".to_owned(),
                deployment_url: None,
            }
        } else {
            Event::Check {
                profile,
                at,
                status: Status::Valid,
                reason: Reason::Accepted,
                http_status: Some(200),
                tracked_expires_at: Some(at + chrono::Duration::hours(12)),
            }
        };
        history.append(&event).expect("append");
        at += chrono::Duration::seconds(30);
        i += 1;
    }
}
