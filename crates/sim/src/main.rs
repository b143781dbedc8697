//! `sessionkeeper-sim`: run the simulator as a process (for the demo and manual poking).
//! Prints its URLs as one JSON line on stdout, then serves until interrupted.

use std::time::Duration;

use anyhow::Context as _;
use sessionkeeper_sim::{Lifetime, Sim, SimConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut config = SimConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                config.port = args
                    .next()
                    .context("--port needs a number")?
                    .parse()
                    .context("--port")?
            }
            "--lifetime-secs" => {
                let secs: u64 = args
                    .next()
                    .context("--lifetime-secs needs a number")?
                    .parse()
                    .context("--lifetime-secs")?;
                config.lifetime = Lifetime::Fixed(Duration::from_secs(secs));
            }
            "-h" | "--help" => {
                println!(
                    "sessionkeeper-sim [--port N] [--lifetime-secs N]\n\n\
                     Serves a simulated SSO, provider API and token provider on 127.0.0.1.\n\
                     Login: username \"demo\", password \"demo-password\". See the crate docs for faults."
                );
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other:?} (try --help)"),
        }
    }
    let sim = Sim::start(config).await.context("cannot bind 127.0.0.1")?;
    println!("{}", serde_json::to_string(&sim.urls())?);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
