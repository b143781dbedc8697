//! Benchmark: from a completed login (the cookies read from the login window) to "all targets
//! pushed": validate the captured session, store it in the vault (gnome-keyring), push to a
//! repository secret, an environment secret and a Vercel env var with redeploy, with 150 ms
//! injected on every call to sim (the provider's API, GitHub, Vercel). Printed beside the
//! sequential baseline measured in the same run: the same steps, each target pushed after the
//! other. Needs a Secret Service: `scripts/bench.sh capture`.

use std::time::{Duration, Instant};

use sessionkeeper_core::capture::accept;
use sessionkeeper_core::push::Pusher;
use sessionkeeper_core::session::{Cookie, SameSite};
use sessionkeeper_core::vault::Vault;
use sessionkeeper_core::{Checker, Secret, Session};
use sessionkeeper_tests::{
    SessionKind, SimConfig, SimHandle, sim_credentials, three_target_config,
};

const ROUNDS: u32 = 5;
const LATENCY: Duration = Duration::from_millis(150);

fn main() {
    let sim = SimHandle::start(SimConfig::default());
    let config = three_target_config(&sim);
    let profile = config.profile("mtn").expect("mtn");
    let dir = tempfile::tempdir().expect("temp dir");
    let vault = Vault::open_isolated(
        Duration::from_secs(10),
        &format!("sessionkeeper-bench-capture-{}", std::process::id()),
        dir.path().join("sessions"),
    )
    .expect("a Secret Service: run under scripts/bench.sh capture");
    let credentials = sim_credentials();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let checker = Checker::new();
    let pusher = Pusher::new();
    // What the login window read: a fresh JSESSIONID, HttpOnly, on the API host.
    let captured = || {
        let minted = sim.mint_session(SessionKind::Cookie, None);
        let cookie = Cookie {
            name: "JSESSIONID".to_owned(),
            value: Secret::new(minted.value),
            domain: "127.0.0.1".to_owned(),
            path: "/".to_owned(),
            expires: -1.0,
            http_only: true,
            secure: false,
            same_site: SameSite::Lax,
        };
        Session::captured(profile, vec![cookie], None, chrono::Utc::now())
    };
    // Ours: core's accept (validate, store), then the parallel push.
    let ours = || {
        let session = captured();
        let started = Instant::now();
        runtime.block_on(async {
            let stored = accept(
                profile,
                session,
                &vault,
                &checker,
                None,
                "bench",
                chrono::Utc::now(),
            )
            .await
            .expect("the captured session validates");
            let results = pusher
                .push(
                    &config.accounts,
                    &profile.push,
                    &stored.session,
                    &credentials,
                    false,
                )
                .await;
            assert!(results.iter().all(|r| r.ok()), "{results:?}");
        });
        started.elapsed()
    };
    // The baseline: the same steps, one target after the other.
    let sequential = || {
        let session = captured();
        let started = Instant::now();
        runtime.block_on(async {
            let stored = accept(
                profile,
                session,
                &vault,
                &checker,
                None,
                "bench",
                chrono::Utc::now(),
            )
            .await
            .expect("the captured session validates");
            for target in &profile.push {
                let results = pusher
                    .push(
                        &config.accounts,
                        std::slice::from_ref(target),
                        &stored.session,
                        &credentials,
                        false,
                    )
                    .await;
                assert!(results.iter().all(|r| r.ok()), "{results:?}");
            }
        });
        started.elapsed()
    };
    sim.set_api_latency(LATENCY);
    // Warm up: connections, key fetches, the keychain.
    ours();
    sequential();
    let (mut parallel_total, mut sequential_total) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..ROUNDS {
        parallel_total += ours();
        sequential_total += sequential();
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(ROUNDS);
    println!(
        "login complete → all 3 targets pushed, {} ms per API call, mean of {ROUNDS} rounds:",
        LATENCY.as_millis()
    );
    println!(
        "  sessionkeeper (validate, store, parallel push) {:>7.0} ms",
        ms(parallel_total)
    );
    println!(
        "  sequential baseline (same steps, one by one)   {:>7.0} ms",
        ms(sequential_total)
    );
    println!(
        "  ratio                                          {:>7.2}",
        parallel_total.as_secs_f64() / sequential_total.as_secs_f64()
    );
}
