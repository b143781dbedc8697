//! Benchmark: one push to a repository secret, an environment secret and a Vercel env var with
//! redeploy, with 150 ms injected on every API call. Prints the parallel push's wall time
//! beside two baselines measured in the same run: the sequential sum of the requests a push
//! from a cold start sends (each request one after another, as a shell script of `gh` and
//! `curl` calls would), and each target pushed alone, one after another; and their ratios.
//! Run: `cargo bench -p sessionkeeper-tests --bench push`.

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
    // The request chain first: a redeploy that Vercel reports READY in its create answer (a
    // build takes what it takes; it is measured apart below).
    sim.set_build_time(Duration::ZERO);
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
    // The first push, from a cold start: its requests (public keys included) are the
    // baseline's requests.
    let calls_before = sim.api_calls().len();
    push(&profile.push);
    let cold_requests = sim.api_calls().len() - calls_before;
    // One request's cost with the injected latency, sent one after another.
    let client = reqwest::Client::new();
    let probe = format!(
        "{}/repos/acme/circletel/actions/secrets/public-key",
        sim.urls().github_api
    );
    let github_token = SimConfig::default().github_token;
    let one_request = {
        let started = Instant::now();
        for _ in 0..ROUNDS {
            let answer = runtime
                .block_on(
                    client
                        .get(&probe)
                        .bearer_auth(&github_token)
                        .header("User-Agent", "bench")
                        .send(),
                )
                .expect("sim answers");
            assert!(answer.status().is_success(), "{}", answer.status());
        }
        started.elapsed() / ROUNDS
    };
    let requests_sum = one_request * u32::try_from(cold_requests).expect("few requests");

    let calls_before = sim.api_calls().len();

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
    let calls = sim.api_calls().len() - calls_before;
    // Each round: one parallel push and one push per target.
    let per_push = calls as f64 / f64::from(ROUNDS) / 2.0;
    // With a 300 ms build: what following the redeploy adds beyond the build itself.
    const BUILD: Duration = Duration::from_millis(300);
    sim.set_build_time(BUILD);
    let mut with_build = Duration::ZERO;
    for _ in 0..ROUNDS {
        with_build += push(&profile.push);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(ROUNDS);
    println!("push of 3 targets with 150 ms per API call, mean of {ROUNDS} rounds:");
    println!(
        "  parallel (sessionkeeper)            {:>8.0} ms",
        ms(parallel)
    );
    println!(
        "  sequential sum of a cold push's {cold_requests} requests {:>5.0} ms  ({:.0} ms each)",
        requests_sum.as_secs_f64() * 1000.0,
        one_request.as_secs_f64() * 1000.0
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
        "  parallel, with a {} ms build           {:>7.0} ms  (floor: 2 requests, the build, 1 look: {:.0} ms)",
        BUILD.as_millis(),
        ms(with_build),
        (one_request * 3 + BUILD).as_secs_f64() * 1000.0
    );
    println!("  requests per warm push               {per_push:>7.1}  (public keys reused)");
    println!(
        "  ratio parallel / sum of requests     {:>7.2}",
        ms(parallel) / (requests_sum.as_secs_f64() * 1000.0)
    );
    println!(
        "  ratio parallel / sum of targets      {:>7.2}",
        parallel.as_secs_f64() / sequential.as_secs_f64()
    );
    println!(
        "  ratio parallel / longest chain       {:>7.2}  (1.00 is the floor)",
        parallel.as_secs_f64() / longest.as_secs_f64()
    );
}
