//! What changes a profile's stored session — a capture in the login window, a paste in the
//! dashboard, a refresh without a human, an extension of the tracked expiry — runs one at a
//! time per profile, in the order asked: the second of two quick captures waits for the first,
//! so the newer one is stored last and is the one every target ends up with. Each step that
//! touches the keychain runs on a blocking thread; the network part (the validation) does not.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sessionkeeper_core::capture::{self, AcceptError};
use sessionkeeper_core::check::Checker;
use sessionkeeper_core::clock::Clock;
use sessionkeeper_core::config::Profile;
use sessionkeeper_core::duration::HumanDuration;
use sessionkeeper_core::history::History;
use sessionkeeper_core::overview::{self, PushCause};
use sessionkeeper_core::refresh::{self, RenewError, Sleeper};
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::session::Session;
use sessionkeeper_core::status::SessionInfo;
use sessionkeeper_core::tracked::{self, ExtendError};
use sessionkeeper_core::vault::Fingerprint;

use crate::keychain::{VaultRef, with_vault};
use crate::{Controller, Done, Host, NoticeKey, Reply, Topic};

/// Where a captured session came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Login,
    Paste,
    /// A teammate's renewal, read back from a target.
    Adopt,
}

impl Source {
    fn word(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Paste => "paste",
            Self::Adopt => "pull",
        }
    }

    fn cause(self) -> PushCause {
        match self {
            Self::Login => PushCause::Login,
            Self::Paste => PushCause::Paste,
            Self::Adopt => PushCause::Adopted,
        }
    }
}

/// One change of a profile's session.
#[derive(Debug)]
pub(crate) enum Op {
    /// Validate a captured or pasted session, then store it.
    Accept {
        session: Session,
        source: Source,
        reply: Option<Reply<Result<String, String>>>,
    },
    /// Log in without a human.
    Refresh,
    /// Check, then move the tracked expiry `by` from now (Extend in the dashboard).
    Extend {
        by: HumanDuration,
        reply: Reply<Result<String, String>>,
    },
    /// The server outlived the tracked expiry: move it to `to`, if the session is still the
    /// one checked.
    AutoExtend {
        to: DateTime<Utc>,
        expected: Fingerprint,
    },
}

/// A profile's changes: the one under way, and the ones waiting.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    busy: bool,
    waiting: VecDeque<Op>,
}

/// How one change ended.
#[derive(Debug)]
pub(crate) struct Finished {
    profile: String,
    result: Outcome,
}

#[derive(Debug)]
enum Outcome {
    Accepted {
        source: Source,
        result: Result<(Session, Fingerprint), AcceptError>,
        reply: Option<Reply<Result<String, String>>>,
    },
    Refreshed(Result<(Session, Fingerprint, u32), RenewError>),
    Extended {
        result: Result<Session, ExtendError>,
        reply: Reply<Result<String, String>>,
    },
    AutoExtended {
        to: DateTime<Utc>,
        result: Result<Session, ExtendError>,
    },
}

impl<H: Host> Controller<H> {
    /// Queues `op` for `profile`; it starts when the one before it has ended.
    pub(crate) fn queue(&mut self, profile: &str, op: Op) {
        let Some(work) = self.profiles.get_mut(profile) else {
            return;
        };
        work.ops.waiting.push_back(op);
        self.start_next(profile);
    }

    pub(crate) fn queue_refresh(&mut self, profile: &str) {
        tracing::info!(%profile, "refreshing without a human");
        self.queue(profile, Op::Refresh);
    }

    pub(crate) fn queue_auto_extend(
        &mut self,
        profile: &str,
        to: DateTime<Utc>,
        expected: Fingerprint,
    ) {
        self.queue(profile, Op::AutoExtend { to, expected });
    }

    fn start_next(&mut self, id: &str) {
        let Some(profile) = self.config.profiles.get(id).cloned() else {
            return;
        };
        let Some(work) = self.profiles.get_mut(id) else {
            return;
        };
        if work.ops.busy {
            return;
        }
        let Some(op) = work.ops.waiting.pop_front() else {
            return;
        };
        work.ops.busy = true;
        let now = self.clock.now();
        let vault = self.keychain.get();
        let checker = Arc::clone(&self.checker);
        let history = self.history.clone();
        let clock = Arc::clone(&self.clock);
        let id = id.to_owned();
        self.spawn(async move {
            let result = match op {
                Op::Accept {
                    session,
                    source,
                    reply,
                } => Outcome::Accepted {
                    source,
                    result: accept(&profile, session, source, vault, &checker, history, now).await,
                    reply,
                },
                Op::Refresh => Outcome::Refreshed(
                    renew(
                        &profile,
                        vault,
                        &checker,
                        history,
                        &ClockSleeper(clock),
                        now,
                    )
                    .await,
                ),
                Op::Extend { by, reply } => Outcome::Extended {
                    result: extend(&profile, vault, &checker, history, by, now).await,
                    reply,
                },
                Op::AutoExtend { to, expected } => Outcome::AutoExtended {
                    to,
                    result: auto_extend(&profile, vault, to, expected).await,
                },
            };
            Done::Session(Finished {
                profile: id,
                result,
            })
        });
    }

    pub(crate) fn session_finished(&mut self, finished: Finished, now: DateTime<Utc>) {
        let Finished {
            profile: id,
            result,
        } = finished;
        if let Some(work) = self.profiles.get_mut(&id) {
            work.ops.busy = false;
        }
        let name = self
            .config
            .profiles
            .get(&id)
            .map_or(id.clone(), |p| p.name.clone());
        let targets = self.config.profiles.get(&id).map_or(0, |p| p.push.len());
        match result {
            Outcome::Accepted {
                source,
                result,
                reply,
            } => {
                let answer = match result {
                    Ok((session, fingerprint)) => {
                        tracing::info!(profile = %id, "{} stored: pushing", source.word());
                        self.stored(&id, &session, fingerprint, source.cause(), now);
                        if source == Source::Login {
                            self.team_stored(&id, &session);
                            self.login_stored(&id);
                        }
                        Ok(if targets == 0 {
                            "Validated and stored.".to_owned()
                        } else {
                            format!("Validated and stored; pushing to {targets} target(s).")
                        })
                    }
                    Err(e) => {
                        if source == Source::Login {
                            self.login_not_stored(&id, &e, now);
                        }
                        Err(match e {
                            AcceptError::Refused { detail } => format!(
                                "The server refused this session ({detail}). Nothing was stored."
                            ),
                            e @ AcceptError::CannotTell { .. } => {
                                format!("{e}. Nothing was stored; try again.")
                            }
                            AcceptError::Keychain(e) => format!("Nothing was stored: {e}"),
                        })
                    }
                };
                if let Some(reply) = reply {
                    let _ = reply.send(answer);
                }
            }
            Outcome::Refreshed(result) => match result {
                Ok((session, fingerprint, attempts)) => {
                    tracing::info!(profile = %id, attempts, "refreshed without a human");
                    self.monitor.refresh_finished(&id, true, now);
                    self.stored(&id, &session, fingerprint, PushCause::Refresh, now);
                }
                Err(e) if e.is_keychain_locked() => {
                    tracing::info!(profile = %id, "refresh waits for the keychain's unlock");
                    self.monitor.refresh_postponed(&id);
                }
                Err(e) => {
                    tracing::warn!(profile = %id, "refresh failed: {e}");
                    self.monitor.refresh_finished(&id, false, now);
                    self.notify(
                        NoticeKey::new(&id, Topic::Refresh),
                        &overview::refresh_failed(&name, &id, &e.to_string()),
                    );
                }
            },
            Outcome::Extended { result, reply } => {
                let answer = match result {
                    Ok(session) => {
                        self.extended(&id, &session, now);
                        Ok(format!(
                            "The server accepts the session; tracked until {}.",
                            session.expires_at.format("%Y-%m-%d %H:%M UTC")
                        ))
                    }
                    Err(e) => Err(match e {
                        ExtendError::NotAccepted(outcome) => {
                            format!("Not extended: {}", outcome.detail)
                        }
                        e => format!("Not extended: {e}"),
                    }),
                };
                let _ = reply.send(answer);
            }
            Outcome::AutoExtended { to, result } => match result {
                Ok(session) => {
                    self.monitor.extended(&id, to, now);
                    if let Some(work) = self.profiles.get_mut(&id)
                        && let Some(current) = &mut work.current
                    {
                        current.expires_at = session.expires_at;
                    }
                }
                Err(e) => tracing::warn!(profile = %id, "could not move the tracked expiry: {e}"),
            },
        }
        self.refresh_events();
        self.start_next(&id);
    }

    /// A new session of `profile` is stored: its episode starts over (the old one's
    /// notification goes), it is checked at once, and every target is pushed it.
    fn stored(
        &mut self,
        id: &str,
        session: &Session,
        fingerprint: Fingerprint,
        cause: PushCause,
        now: DateTime<Utc>,
    ) {
        if cause == PushCause::Adopted {
            // The teammate pushed it: every target holds it already.
            self.mark_held(id, &fingerprint, now);
        } else {
            self.team_forget_renewal(id);
            self.start_round(id, &fingerprint, cause, None);
        }
        if let Some(work) = self.profiles.get_mut(id) {
            work.current = Some(SessionInfo::of(session, fingerprint.clone()));
            work.read = true;
            work.generation += 1;
            work.accepted = Some(fingerprint);
        }
        self.monitor.session_replaced(id, now);
        self.withdraw(&NoticeKey::new(id, Topic::Session));
        self.withdraw(&NoticeKey::new(id, Topic::Refresh));
    }

    /// The tracked expiry moved (the session stays the same one).
    fn extended(&mut self, id: &str, session: &Session, now: DateTime<Utc>) {
        if let Some(work) = self.profiles.get_mut(id)
            && let Some(current) = &mut work.current
        {
            current.expires_at = session.expires_at;
        }
        self.monitor.extended(id, session.expires_at, now);
        self.monitor.check_now(id, now);
    }

    /// Another program stored a session of `profile` (an `import`, a `restore`): its old
    /// episode ends, and the targets get the new one.
    pub(crate) fn session_changed_elsewhere(&mut self, id: &str, _now: DateTime<Utc>) {
        tracing::info!(profile = %id, "another program stored a session");
        self.withdraw(&NoticeKey::new(id, Topic::Session));
        if let Some(fingerprint) = self
            .profiles
            .get(id)
            .and_then(|w| w.current.as_ref())
            .map(|c| c.fingerprint.clone())
        {
            self.start_round(id, &fingerprint, PushCause::Adopted, None);
        }
    }

    /// A session pasted in the dashboard: read (never echoed), then validated and stored.
    pub(crate) fn paste(
        &mut self,
        id: &str,
        text: &Secret,
        reply: Reply<Result<String, String>>,
        now: DateTime<Utc>,
    ) {
        let Some(profile) = self.config.profiles.get(id) else {
            let _ = reply.send(Err(format!("no profile {id:?}")));
            return;
        };
        match Session::import_at(text.expose(), profile, now) {
            Ok(session) => self.queue(
                id,
                Op::Accept {
                    session,
                    source: Source::Paste,
                    reply: Some(reply),
                },
            ),
            Err(e) => {
                let _ = reply.send(Err(e.to_string()));
            }
        }
    }

    /// Extend tracked expiry (the dashboard): checked first, then moved by `tracked_ttl`.
    pub(crate) fn extend(&mut self, id: &str, reply: Reply<Result<String, String>>) {
        let Some(profile) = self.config.profiles.get(id) else {
            let _ = reply.send(Err(format!("no profile {id:?}")));
            return;
        };
        let by = profile.tracked_ttl;
        self.queue(id, Op::Extend { by, reply });
    }
}

/// Validates (where the profile can be checked), then stores on a blocking thread.
async fn accept(
    profile: &Profile,
    session: Session,
    source: Source,
    vault: VaultRef,
    checker: &Checker,
    history: Option<History>,
    now: DateTime<Utc>,
) -> Result<(Session, Fingerprint), AcceptError> {
    tracing::info!(
        profile = %profile.id,
        cookies = session.cookies.len(),
        "{}: validating",
        source.word()
    );
    // A profile with no `validate` table (recorded without an API URL) can never be checked:
    // what its login window captured is stored as it is, as `import --no-validate` would.
    if profile.validate.is_some() || source != Source::Login {
        capture::validate(profile, &session, checker, history.as_ref(), now).await?;
    } else {
        tracing::info!(profile = %profile.id, "no [validate]: stored without a check");
    }
    let profile = profile.clone();
    with_vault(vault, move |v| {
        capture::store(&profile, session, v, history.as_ref(), source.word(), now)
    })
    .await
}

/// The refresh's waits between attempts, on the controller's clock.
struct ClockSleeper(Arc<dyn Clock>);

impl Sleeper for ClockSleeper {
    fn sleep(&self, d: std::time::Duration) -> impl std::future::Future<Output = ()> + Send {
        let clock = Arc::clone(&self.0);
        let until = clock.now() + chrono::Duration::from_std(d).unwrap_or_default();
        async move { clock.sleep_until(until).await }
    }
}

/// Credentials (blocking), the refresh and its validation (network), the store (blocking).
async fn renew(
    profile: &Profile,
    vault: VaultRef,
    checker: &Checker,
    history: Option<History>,
    sleeper: &ClockSleeper,
    now: DateTime<Utc>,
) -> Result<(Session, Fingerprint, u32), RenewError> {
    let p = profile.clone();
    let credentials = with_vault(vault.clone(), move |v| refresh::login_credentials(v, &p))
        .await
        .inspect_err(|e| refresh::failure_recorded(history.as_ref(), profile, e, now))?;
    let fresh = refresh::renew_session(
        profile,
        &credentials,
        checker,
        history.as_ref(),
        sleeper,
        now,
    )
    .await?;
    let attempts = fresh.attempts;
    let p = profile.clone();
    let (session, fingerprint) = with_vault(vault, move |v| {
        capture::store(&p, fresh.session, v, history.as_ref(), "refresh", now)
            .map_err(RenewError::from)
    })
    .await?;
    Ok((session, fingerprint, attempts))
}

/// Reads the current session (blocking), checks it (network), moves its expiry (blocking).
async fn extend(
    profile: &Profile,
    vault: VaultRef,
    checker: &Checker,
    history: Option<History>,
    by: HumanDuration,
    now: DateTime<Utc>,
) -> Result<Session, ExtendError> {
    let p = profile.clone();
    let (session, checked) = with_vault(vault.clone(), move |v| {
        let s = v.current_session(&p)?;
        let f = v.fingerprint(&s)?;
        Ok::<_, ExtendError>((s, f))
    })
    .await?;
    let outcome = checker.check(profile, Some(&session), now).await;
    if let Some(h) = &history
        && let Err(e) = h.append(&sessionkeeper_core::history::Event::from_check(&outcome))
    {
        tracing::warn!("could not write the history: {e}");
    }
    let p = profile.clone();
    with_vault(vault, move |v| {
        tracked::extend_checked(
            v,
            &p,
            session,
            &checked,
            &outcome,
            by,
            now,
            history.as_ref(),
        )
    })
    .await
}

/// Moves the tracked expiry of the current session to `to`, if it is still `expected`.
async fn auto_extend(
    profile: &Profile,
    vault: VaultRef,
    to: DateTime<Utc>,
    expected: Fingerprint,
) -> Result<Session, ExtendError> {
    let p = profile.clone();
    with_vault(vault, move |v| {
        let mut session = v.current_session(&p)?;
        session.expires_at = to;
        if v.update_session_if(&session, &expected)? {
            Ok(session)
        } else {
            Err(ExtendError::Replaced)
        }
    })
    .await
}
