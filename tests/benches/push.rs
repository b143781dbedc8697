//! Benchmark: one push to a repository secret, an environment secret and a Vercel env var with
//! redeploy, with 150 ms injected on every API call. Prints the parallel push's wall time
//! beside the sequential baseline (each target pushed alone, one after another) measured in
//! the same run, and their ratio. Run: `cargo bench -p sessionkeeper-tests --bench push`.

use std::time::{Duration, Instant};

use sessionkeeper_core::Session;
use sessionkeeper_core::push::Pusher;
use sessionkeeper_tests::{
    SessionKind, SimConfig, SimHandle, cookie_export, sim_credentials, three_target_config,
};

const ROUNDS: u32 = 5;

fn main() {
    let sim = SimHandle::start(SimConfig::default());
    sim.set_api_latency(Duration::from_millis(150));
    let config = three_target_config(&sim);
    let profile = config.profile("mtn").expect("mtn");
    let minted = sim.mint_session(SessionKind::Cookie, None);
    let session = Session::import(
        &cookie_export("mtn", &[("JSESSIONID", &minted.value, "127.0.0.1")]),
        profile,
    )
    .expect("session");
    let credentials = sim_credentials();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pusher = Pusher::new();
    let push = |targets: &[_]| {
        let started = Instant::now();
        let results =
            runtime.block_on(pusher.push(&config.accounts, targets, &session, &credentials, false));
        assert!(results.iter().all(|r| r.ok()), "{results:?}");
        started.elapsed()
    };
    // Warm up: connections, key fetches, code paths.
    push(&profile.push);

    let mut parallel = Duration::ZERO;
    let mut sequential = Duration::ZERO;
    let mut longest = Duration::ZERO;
    for _ in 0..ROUNDS {
        parallel += push(&profile.push);
        let mut round_longest = Duration::ZERO;
        for target in &profile.push {
            let one = push(std::slice::from_ref(target));
            sequential += one;
            round_longest = round_longest.max(one);
        }
        longest += round_longest;
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(ROUNDS);
    println!("push of 3 targets with 150 ms per API call, mean of {ROUNDS} rounds:");
    println!(
        "  parallel (sessionkeeper)            {:>8.0} ms",
        ms(parallel)
    );
    println!(
        "  sequential baseline (sum of targets) {:>7.0} ms",
        ms(sequential)
    );
    println!(
        "  longest single target chain          {:>7.0} ms",
        ms(longest)
    );
    println!(
        "  ratio parallel / sequential          {:>7.2}",
        parallel.as_secs_f64() / sequential.as_secs_f64()
    );
    println!(
        "  ratio parallel / longest chain       {:>7.2}  (1.00 is the floor)",
        parallel.as_secs_f64() / longest.as_secs_f64()
    );
}
