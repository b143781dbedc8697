//! Benchmark: what an open dashboard costs the app while nothing happens. The app runs idle for
//! a minute with the dashboard closed, then open, three times over, on the same machine in the
//! same run; the app's own CPU (its process, not WebKit's) is printed side by side, in clock
//! ticks and in the scheduler's nanoseconds, with the WebKit processes' apart and the app's
//! threads that ran. The medians are compared with the closed runs' own spread: the noise.
//! Run by `scripts/bench.sh dashboard` (release build, a private desktop session).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Duration;

use sessionkeeper_tests::desktop::{
    App, Desktop, descendants, process_ticks, thread_cpu_ns, thread_names,
};
use sessionkeeper_tests::{
    SimConfig, SimHandle, TestEnv, idle_profile_config, import_live_session, sibling_binary,
};

const IDLE: Duration = Duration::from_secs(60);
const SETTLE: Duration = Duration::from_secs(40);
const ROUNDS: usize = 3;

/// One idle minute of the app.
struct Run {
    /// The app's own process, in clock ticks and in milliseconds on a CPU.
    ticks: u64,
    ms: f64,
    /// Its WebKit processes, in clock ticks.
    webkit_ticks: u64,
    /// The app's threads that ran, by name, in milliseconds.
    threads: BTreeMap<String, f64>,
}

fn main() {
    let sim = SimHandle::start(SimConfig::default());
    let desktop = Desktop::as_packaged();
    let env = TestEnv::on(&desktop, "bench-dashboard");
    env.write_config(&idle_profile_config(&sim, "1h"));
    import_live_session(&env, &sim);
    let app = sibling_binary("sessionkeeper-app");
    let idle = |args: &[&str]| -> Run {
        let running = App::start_binary(&env, &app, args);
        running.wait_for("the first check", Duration::from_secs(30), |a| {
            a.log().contains("checked:")
        });
        if !args.is_empty() {
            running.wait_for("the dashboard", Duration::from_secs(30), |a| {
                a.log().contains("dashboard opened")
            });
        }
        // Let start-up settle, then count: the page's first draws, the give-back at rest, and
        // the one-shot timers GTK and WebKit set at start-up (seen with strace on the main
        // thread: the last fires about 35 s after the window opens; then it sleeps).
        std::thread::sleep(SETTLE);
        let pid = running.pid();
        let (ticks0, webkit0) = ticks(pid);
        let ns0 = thread_cpu_ns(pid);
        std::thread::sleep(IDLE);
        let (ticks1, webkit1) = ticks(pid);
        let ns1 = thread_cpu_ns(pid);
        let names = thread_names(pid);
        let mut threads = BTreeMap::new();
        let mut ms = 0.0;
        // A thread born in between counts whole; one that ended in between is not seen.
        for (tid, after) in &ns1 {
            let spent = after.saturating_sub(ns0.get(tid).copied().unwrap_or(0)) as f64 / 1e6;
            ms += spent;
            if spent >= 0.5 {
                let name = match names.get(tid) {
                    _ if *tid == pid => "main".to_owned(),
                    Some(name) => name.clone(),
                    None => tid.to_string(),
                };
                *threads.entry(name).or_insert(0.0) += spent;
            }
        }
        Run {
            ticks: ticks1 - ticks0,
            ms,
            webkit_ticks: webkit1 - webkit0,
            threads,
        }
    };
    let runs: Vec<(&str, Run)> = (0..ROUNDS)
        .flat_map(|_| [("closed", &[][..]), ("open", &["--dashboard"][..])])
        .map(|(name, args)| (name, idle(args)))
        .collect();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "the app idle for {} s per run, dashboard closed and open, {ROUNDS} times each (same run; {} Hz clock)",
        IDLE.as_secs(),
        clock_ticks_per_second()
    );
    let _ = writeln!(
        out,
        "{:<8}{:>12}{:>10}{:>14}   the app's threads that ran (ms)",
        "run", "app ticks", "app ms", "WebKit ticks",
    );
    for (name, run) in &runs {
        let threads: Vec<String> = run
            .threads
            .iter()
            .map(|(n, ms)| format!("{n} {ms:.1}"))
            .collect();
        let _ = writeln!(
            out,
            "{name:<8}{:>12}{:>10.1}{:>14}   {}",
            run.ticks,
            run.ms,
            run.webkit_ticks,
            threads.join(", ")
        );
    }
    let of = |which: &str, f: &dyn Fn(&Run) -> f64| -> Vec<f64> {
        let mut v: Vec<f64> = runs
            .iter()
            .filter(|(n, _)| *n == which)
            .map(|(_, r)| f(r))
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let median = |v: &[f64]| v[v.len() / 2];
    let spread = |v: &[f64]| v[v.len() - 1] - v[0];
    for (unit, f) in [
        ("ticks", &(|r: &Run| r.ticks as f64) as &dyn Fn(&Run) -> f64),
        ("ms", &|r: &Run| r.ms),
    ] {
        let (closed, open) = (of("closed", f), of("open", f));
        let extra = median(&open) - median(&closed);
        let _ = writeln!(
            out,
            "the app's own CPU, median open / closed: {:.1} / {:.1} {unit} = {:.2}×; open costs {extra:+.1} {unit}, closed runs spread over {:.1} {unit}: {}",
            median(&open),
            median(&closed),
            median(&open) / median(&closed).max(1.0),
            spread(&closed),
            if extra <= spread(&closed) {
                "within noise"
            } else {
                "above noise"
            },
        );
    }
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
