//! Benchmark: what an open dashboard costs the app while nothing happens. The app runs idle for
//! a minute twice, once with the dashboard open and once without, on the same machine in the
//! same run; the app's own CPU ticks (its process, not WebKit's) are printed side by side,
//! with the WebKit processes' apart. The page is told of changes by event and counts down by
//! itself, so the app should do as little with it open as with it closed. Run by
//! `scripts/bench.sh dashboard` (release build, a private desktop session).

use std::io::Write as _;
use std::time::Duration;

use sessionkeeper_tests::desktop::{App, descendants, process_ticks, thread_ticks};
use sessionkeeper_tests::{
    SimConfig, SimHandle, TestEnv, idle_profile_config, import_live_session, sibling_binary,
};

const IDLE: Duration = Duration::from_secs(60);

/// One idle minute: the app's own CPU ticks, its WebKit processes', and the app's threads
/// that took CPU (by name, with their ticks).
type Run = (u64, u64, Vec<(String, u64)>);

fn main() {
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("bench-dashboard");
    env.write_config(&idle_profile_config(&sim, "1h"));
    import_live_session(&env, &sim);
    let app = sibling_binary("sessionkeeper-app");
    let idle = |args: &[&str]| {
        let running = App::start_binary(&env, &app, args);
        running.wait_for("the first check", Duration::from_secs(30), |a| {
            a.log().contains("checked:")
        });
        if !args.is_empty() {
            running.wait_for("the dashboard", Duration::from_secs(30), |a| {
                a.log().contains("dashboard opened")
            });
        }
        // Let start-up settle (the page's first draws), then count.
        std::thread::sleep(Duration::from_secs(10));
        let (own0, webkit0) = ticks(running.pid());
        let threads0 = thread_ticks(running.pid());
        std::thread::sleep(IDLE);
        let (own1, webkit1) = ticks(running.pid());
        let busy: Vec<(String, u64)> = thread_ticks(running.pid())
            .into_iter()
            .map(|(name, t)| {
                let before = threads0.get(&name).copied().unwrap_or(0);
                (name, t.saturating_sub(before))
            })
            .filter(|(_, t)| *t > 0)
            .collect();
        (own1 - own0, webkit1 - webkit0, busy)
    };
    // Closed, open, closed, open: the two runs of each tell the noise apart from a cost.
    let runs: Vec<(&str, Run)> = [("closed", &[][..]), ("open", &["--dashboard"][..])]
        .iter()
        .cycle()
        .take(4)
        .map(|(name, args)| (*name, idle(args)))
        .collect();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "the app idle for {} s per run, dashboard closed and open, twice each (same run; {} Hz clock)",
        IDLE.as_secs(),
        clock_ticks_per_second()
    );
    let _ = writeln!(
        out,
        "{:<10}{:>32}{:>36}   the app's busy threads",
        "run", "CPU ticks, the app's process", "CPU ticks, its WebKit processes",
    );
    for (name, (own, webkit, busy)) in &runs {
        let threads: Vec<String> = busy.iter().map(|(n, t)| format!("{n} {t}")).collect();
        let _ = writeln!(
            out,
            "{name:<10}{own:>32}{webkit:>36}   {}",
            threads.join(", ")
        );
    }
    let sum = |which: &str| -> u64 {
        runs.iter()
            .filter(|(n, _)| *n == which)
            .map(|(_, (own, _, _))| own)
            .sum()
    };
    let (open, closed) = (sum("open"), sum("closed"));
    let spread = |which: &str| -> u64 {
        let v: Vec<u64> = runs
            .iter()
            .filter(|(n, _)| *n == which)
            .map(|(_, (own, _, _))| *own)
            .collect();
        v.iter().max().unwrap_or(&0) - v.iter().min().unwrap_or(&0)
    };
    let _ = writeln!(
        out,
        "the app's own CPU, open / closed: {open} / {closed} ticks = {:.2}× (run-to-run spread: closed {} ticks, open {} ticks)",
        open as f64 / closed.max(1) as f64,
        spread("closed"),
        spread("open"),
    );
}

/// utime + stime of `pid` itself, and of its WebKit descendants, in clock ticks.
fn ticks(pid: u32) -> (u64, u64) {
    let own = process_ticks(pid).unwrap_or(0);
    let webkit = descendants(pid)
        .into_iter()
        .filter(|(_, name)| name.starts_with("WebKit"))
        .filter_map(|(p, _)| process_ticks(p))
        .sum();
    (own, webkit)
}

fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}
