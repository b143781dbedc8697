//! Time as the app sees it: the system clock, or a fake one that tests move by hand. Whatever
//! decides by the time (the schedule, the controller's timers, a session's capture time) asks
//! a [`Clock`], so a test can run an hour of the app's life in a second.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};

/// A source of `now`, and a way to wait until a given instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Resolves once `now() >= at`.
    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that only moves when told to ([`FakeClock::advance`]); sleepers wake when it
/// passes their instant.
#[derive(Debug, Clone)]
pub struct FakeClock {
    now: Arc<tokio::sync::watch::Sender<DateTime<Utc>>>,
}

impl FakeClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(tokio::sync::watch::Sender::new(start)),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        self.now.send_modify(|now| *now += by);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock, so wait_for only ends when `at` is reached.
            let _ = rx.wait_for(|now| *now >= at).await;
        })
    }
}

/// `now` to the whole second, as the export format keeps it.
pub fn whole_seconds(now: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fake_sleeper_wakes_when_the_clock_passes_its_instant() {
        let clock = FakeClock::new(DateTime::from_timestamp(1_000, 0).expect("time"));
        let at = clock.now() + chrono::Duration::minutes(5);
        let woke = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sleeper = {
            let (clock, woke) = (clock.clone(), woke.clone());
            tokio::spawn(async move {
                clock.sleep_until(at).await;
                woke.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        tokio::task::yield_now().await;
        clock.advance(chrono::Duration::minutes(4));
        tokio::task::yield_now().await;
        assert!(!woke.load(std::sync::atomic::Ordering::SeqCst), "not yet");
        clock.advance(chrono::Duration::minutes(1));
        sleeper.await.expect("sleeper");
        assert!(woke.load(std::sync::atomic::Ordering::SeqCst));
    }
}
