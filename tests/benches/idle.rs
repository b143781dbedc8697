//! The tray app at rest, beside the barest tray-only Tauri app (`tray-baseline`) measured in
//! the same run: time from launch to tray ready, memory (PSS of the process and everything it
//! started), CPU ticks and context switches (wakes) over a minute of idling. Run by
//! `scripts/bench.sh idle`, which builds both in release (the app as packaged, without the
//! simulator) and provides the desktop session (Xvfb, D-Bus, gnome-keyring, dunst).

use std::io::Write as _;
use std::time::{Duration, Instant};

use sessionkeeper_tests::desktop::{
    App, Desktop, context_switches, cpu_ticks, descendants, pss_kib, pss_parts_kib, thread_names,
    wakes_between,
};
use sessionkeeper_tests::{
    SimConfig, SimHandle, TestEnv, idle_profile_config, import_live_session, sibling_binary,
};

const LAUNCHES: usize = 5;
const IDLE: Duration = Duration::from_secs(60);

fn main() {
    let sim = SimHandle::start(SimConfig::default());
    // A desktop of its own: its Xvfb, bus, keyring and dunst.
    let desktop = Desktop::as_packaged();
    let env = TestEnv::on(&desktop, "bench-idle");
    // One live session, tracked for an hour and polled every 5 minutes: after the first check
    // the app has nothing to do for the whole measured minute.
    env.write_config(&idle_profile_config(&sim, "5m"));
    import_live_session(&env, &sim);
    let app = sibling_binary("sessionkeeper-app");
    let baseline = sibling_binary("tray-baseline");

    let launch = |binary: &std::path::Path| {
        let mut times: Vec<Duration> = (0..LAUNCHES)
            .map(|_| {
                let start = Instant::now();
                let running = App::start_binary(&env, binary, &[]);
                let elapsed = start.elapsed();
                drop(running);
                elapsed
            })
            .collect();
        times.sort();
        times[LAUNCHES / 2]
    };
    let launch_app = launch(&app);
    let launch_base = launch(&baseline);

    // Both idle at once, so that they see the same machine.
    let running_app = App::start_binary(&env, &app, &[]);
    let running_base = App::start_binary(&env, &baseline, &[]);
    running_app.wait_for("the first check", Duration::from_secs(30), |a| {
        a.log().contains("checked:")
    });
    std::thread::sleep(Duration::from_secs(5));
    let (ticks_app_0, ticks_base_0) = (cpu_ticks(running_app.pid()), cpu_ticks(running_base.pid()));
    let (wakes_app_0, wakes_base_0) = (
        context_switches(running_app.pid()),
        context_switches(running_base.pid()),
    );
    std::thread::sleep(IDLE);
    let (ticks_app, ticks_base) = (
        cpu_ticks(running_app.pid()) - ticks_app_0,
        cpu_ticks(running_base.pid()) - ticks_base_0,
    );
    let (wakes_app_1, wakes_base_1) = (
        context_switches(running_app.pid()),
        context_switches(running_base.pid()),
    );
    let (wakes_app, wakes_base) = (
        wakes_between(&wakes_app_0, &wakes_app_1),
        wakes_between(&wakes_base_0, &wakes_base_1),
    );
    let (pss_app, pss_base) = (pss_kib(running_app.pid()), pss_kib(running_base.pid()));
    let (parts_app, parts_base) = (
        pss_parts_kib(running_app.pid()),
        pss_parts_kib(running_base.pid()),
    );
    let webkit = descendants(running_app.pid())
        .into_iter()
        .filter(|(_, n)| n.starts_with("WebKit"))
        .count();
    let checks = running_app.log().matches("checked:").count();
    let app_threads = by_thread(running_app.pid(), &wakes_app_0, &wakes_app_1);
    let base_threads = by_thread(running_base.pid(), &wakes_base_0, &wakes_base_1);
    drop(running_app);
    drop(running_base);

    // Then, alone, the app with no profile: no menu line counts minutes, so it has no reason
    // to wake (measured after the others, so that it shares no page with them).
    let quiet_env = TestEnv::on(&desktop, "bench-idle-quiet");
    quiet_env.write_config("");
    let running_quiet = App::start_binary(&quiet_env, &app, &[]);
    std::thread::sleep(Duration::from_secs(5));
    let wakes_quiet_0 = context_switches(running_quiet.pid());
    std::thread::sleep(IDLE);
    let quiet_threads = by_thread(
        running_quiet.pid(),
        &wakes_quiet_0,
        &context_switches(running_quiet.pid()),
    );

    let mib = |kib: u64| kib as f64 / 1024.0;
    let ratio = |a: f64, b: f64| {
        if b > 0.0 {
            format!("{:.2}", a / b)
        } else {
            "n/a".to_owned()
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "idle tray app vs bare tray-only Tauri app (same run, same machine)"
    );
    let _ = writeln!(
        out,
        "{:<34}{:>14}{:>14}{:>8}",
        "", "sessionkeeper", "baseline", "ratio"
    );
    let _ = writeln!(
        out,
        "{:<34}{:>11} ms{:>11} ms{:>8}",
        format!("launch → tray ready (median of {LAUNCHES}, ±10 ms)"),
        launch_app.as_millis(),
        launch_base.as_millis(),
        ratio(launch_app.as_secs_f64(), launch_base.as_secs_f64())
    );
    let _ = writeln!(
        out,
        "{:<34}{:>11.1} MB{:>11.1} MB{:>8}",
        "memory at rest (PSS, with children)",
        mib(pss_app),
        mib(pss_base),
        ratio(pss_app as f64, pss_base as f64)
    );
    let _ = writeln!(
        out,
        "{:<34}{:>14}{:>14}{:>8}",
        format!("CPU ticks over {} s idle", IDLE.as_secs()),
        ticks_app,
        ticks_base,
        ratio(ticks_app as f64, ticks_base as f64)
    );
    let _ = writeln!(
        out,
        "{:<34}{:>14}{:>14}{:>8}",
        format!("context switches over {} s idle", IDLE.as_secs()),
        wakes_app,
        wakes_base,
        ratio(wakes_app as f64, wakes_base as f64)
    );
    let _ = writeln!(
        out,
        "WebKit processes while idle: {webkit}; checks run: {checks}"
    );
    let _ = writeln!(out, "context switches over the idle minute, by thread:");
    for (what, threads) in [
        ("  the app", &app_threads),
        ("  the baseline", &base_threads),
        ("  the app with no profile, alone", &quiet_threads),
    ] {
        let _ = writeln!(out, "{what:<34}{threads}");
    }
    let _ = writeln!(out, "where the memory lies (PSS of the process itself):");
    for (what, app, base) in [
        ("  its own code", parts_app.own_code, parts_base.own_code),
        ("  its own data", parts_app.own_data, parts_base.own_data),
        (
            "  heap, stacks, arenas",
            parts_app.anonymous,
            parts_base.anonymous,
        ),
        (
            "  shared libraries, files",
            parts_app.files,
            parts_base.files,
        ),
    ] {
        let _ = writeln!(
            out,
            "{what:<34}{:>11.1} MB{:>11.1} MB{:>8}",
            mib(app),
            mib(base),
            ratio(app as f64, base as f64)
        );
    }
    let _ = writeln!(
        out,
        "{:<34}{:>14}{:>14}",
        "  threads", parts_app.threads, parts_base.threads
    );
}

/// The context switches between two readings of [`context_switches`], summed by thread name.
fn by_thread(
    pid: u32,
    before: &std::collections::BTreeMap<u32, u64>,
    after: &std::collections::BTreeMap<u32, u64>,
) -> String {
    let names = thread_names(pid);
    let mut by_name = std::collections::BTreeMap::<String, u64>::new();
    for (tid, n) in after {
        let name = names
            .get(tid)
            .cloned()
            .unwrap_or_else(|| "a child process".to_owned());
        *by_name.entry(name).or_default() +=
            n.saturating_sub(before.get(tid).copied().unwrap_or(0));
    }
    let parts: Vec<String> = by_name
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    parts.join(", ")
}
