//! The team, as one member's controller runs it: the claim on a re-authentication taken before
//! a login window opens (core's `team`, a GitHub repository variable created atomically) and
//! given back when the login is captured and pushed (with the renewal recorded) or when the
//! window closes; every repository's claims and renewals read once per poll; a teammate's
//! fresh claim said in the menu, the card and instead of the "log in" notification;
//! Re-authenticate over a teammate's claim asks first (wait, or take over); a teammate's
//! renewal adopted from a target that can be read back (core's `adopt`), with no login.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sessionkeeper_core::overview;
use sessionkeeper_core::push::Credentials;
use sessionkeeper_core::session::Session;
use sessionkeeper_core::team::{Board, Claim, Member, Renewal, Taken, Team, TeamError, TeamRepo};

use crate::keychain::with_vault;
use crate::sessions::{Op, Source};
use crate::{Controller, Done, Host, NoticeKey, Topic};

/// The poll of a repository's claims, at most this often and at least this often.
const READ_FLOOR: chrono::Duration = chrono::Duration::seconds(5);
const READ_CEILING: chrono::Duration = chrono::Duration::minutes(5);
/// After the token was refused: read again this much later (a new token may come).
const REFUSED_RETRY: chrono::Duration = chrono::Duration::minutes(10);

/// Everything the controller knows of its teams.
#[derive(Debug, Default)]
pub(crate) struct Teams {
    team: Team,
    /// Repository key → its last board and when it is read next.
    repos: BTreeMap<String, Watch>,
    /// Our own claims, by profile.
    own: BTreeMap<String, Own>,
    /// Profiles whose claim is being taken.
    taking: BTreeSet<String>,
    /// Profiles whose login opens without the team (no permission, no token): why.
    blind: BTreeMap<String, String>,
    /// Profiles whose next Re-authenticate opens the window with no claim (the team could not
    /// be asked, and the human asked to log in).
    proceed: BTreeSet<String>,
    /// Profiles being adopted, and the renewal each last adopted (or tried): once each.
    adopting: BTreeSet<String>,
    tried: BTreeMap<String, Renewal>,
    /// A teammate's renewal the current session came from, by profile.
    renewed: BTreeMap<String, Renewal>,
    /// Profiles whose "log in" notification says a teammate is on it instead.
    told: BTreeSet<String>,
}

#[derive(Debug)]
struct Watch {
    repo: TeamRepo,
    board: Option<Board>,
    me: Option<Member>,
    reading: bool,
    next_read: DateTime<Utc>,
}

#[derive(Debug)]
struct Own {
    repo: TeamRepo,
    member: Member,
    /// When it was taken: past `CLAIM_TTL` teammates may take it over, so it is not kept.
    since: DateTime<Utc>,
    /// The team fingerprint of the session the login stored, once it did.
    stored: Option<String>,
}

/// A repository's board as read, or why not.
#[derive(Debug)]
pub(crate) struct Read {
    key: String,
    result: Result<(Member, Board), TeamError>,
}

/// A claim taken (or not).
#[derive(Debug)]
pub(crate) struct Claimed {
    profile: String,
    repo: TeamRepo,
    result: Result<(Member, Taken), TeamError>,
}

/// A teammate's session, read back for adoption.
#[derive(Debug)]
pub(crate) struct ReadBack {
    profile: String,
    renewal: Renewal,
    /// The session read back, or `None` when it is already the current one here.
    result: Result<Option<Session>, String>,
}

impl<H: Host> Controller<H> {
    fn team_repo(&self, id: &str) -> Option<TeamRepo> {
        let profile = self.config.profiles.get(id)?;
        TeamRepo::of(&self.config, profile)
    }

    /// Who we are on `repo` (when its board was read once).
    fn member_on(&self, repo: &TeamRepo) -> Option<&Member> {
        self.teams.repos.get(&repo.key())?.me.as_ref()
    }

    /// A teammate's fresh claim on `id`, as last read.
    pub(crate) fn teammate_claim(&self, id: &str, now: DateTime<Utc>) -> Option<&Claim> {
        if self.teams.own.contains_key(id) {
            return None;
        }
        let repo = self.team_repo(id)?;
        let watch = self.teams.repos.get(&repo.key())?;
        let claim = watch.board.as_ref()?.claim(id)?;
        let me = watch.me.as_ref()?;
        (claim.is_fresh(now) && !claim.is_by(me)).then_some(claim)
    }

    /// The team's words for `id`'s menu line and card, if any.
    pub(crate) fn team_words(&self, id: &str, now: DateTime<Utc>) -> Option<String> {
        if let Some(c) = self.teammate_claim(id, now) {
            return Some(overview::claim_words(c));
        }
        if self.login_open(id) {
            if let Some(why) = self.teams.blind.get(id) {
                return Some(format!("the team cannot see this login ({why})"));
            }
            if self.team_repo(id).is_none() {
                return Some(
                    "the team cannot see this login (it pushes to no GitHub repository, where \
                     the team keeps its claims)"
                        .to_owned(),
                );
            }
        }
        self.teams.renewed.get(id).map(overview::renewal_words)
    }

    /// When a repository is read next (for the loop's sleep).
    pub(crate) fn next_team_read(&self) -> Option<DateTime<Utc>> {
        self.teams
            .repos
            .values()
            .filter(|w| !w.reading)
            .map(|w| w.next_read)
            .min()
    }

    /// Reads every repository whose turn it is (one listing each).
    pub(crate) fn read_teams(&mut self, now: DateTime<Utc>) {
        let mut wanted: BTreeMap<String, (TeamRepo, chrono::Duration)> = BTreeMap::new();
        for profile in self.config.profiles.values() {
            if let Some(repo) = TeamRepo::of(&self.config, profile) {
                let every = profile
                    .poll_every
                    .as_chrono()
                    .clamp(READ_FLOOR, READ_CEILING);
                let entry = wanted.entry(repo.key()).or_insert((repo, every));
                entry.1 = entry.1.min(every);
            }
        }
        self.teams.repos.retain(|k, _| wanted.contains_key(k));
        for (key, (repo, every)) in wanted {
            let watch = self.teams.repos.entry(key.clone()).or_insert(Watch {
                repo: repo.clone(),
                board: None,
                me: None,
                reading: false,
                next_read: now,
            });
            watch.repo = repo.clone();
            if watch.reading || watch.next_read > now {
                continue;
            }
            watch.reading = true;
            watch.next_read = now + every;
            let me = watch.me.clone();
            let team = self.teams.team.clone();
            let vault = self.keychain.get();
            self.spawn(async move {
                let result = async {
                    let account = repo.account.clone();
                    let token = with_vault(vault, move |v| v.account_token(&account))
                        .await
                        .map_err(|e| TeamError::Failed(e.to_string()))?;
                    let me = match me {
                        Some(me) => me,
                        None => Member {
                            login: team.login(&repo, &token).await?,
                            host: sessionkeeper_core::team::host_name(),
                        },
                    };
                    Ok((me, team.board(&repo, &token).await?))
                }
                .await;
                Done::TeamRead(Read { key, result })
            });
        }
    }

    pub(crate) fn team_read(&mut self, read: Read, now: DateTime<Utc>) {
        let Some(watch) = self.teams.repos.get_mut(&read.key) else {
            return;
        };
        watch.reading = false;
        match read.result {
            Ok((me, board)) => {
                watch.me = Some(me);
                watch.board = Some(board);
            }
            Err(e) => {
                tracing::warn!(repo = %watch.repo.repo, "the team's claims could not be read: {e}");
                if matches!(e, TeamError::Permission { .. }) {
                    watch.next_read = now + REFUSED_RETRY;
                }
                return;
            }
        }
        let ids: Vec<String> = self
            .config
            .profiles
            .keys()
            .filter(|id| self.team_repo(id).is_some_and(|r| r.key() == read.key))
            .cloned()
            .collect();
        for id in ids {
            self.team_seen(&id, now);
        }
    }

    /// What the board says of `id`, acted on: a teammate's claim replaces the "log in"
    /// notification; a teammate's renewal newer than our session is adopted.
    fn team_seen(&mut self, id: &str, now: DateTime<Utc>) {
        let name = self
            .config
            .profiles
            .get(id)
            .map_or(id.to_owned(), |p| p.name.clone());
        let session_key = NoticeKey::new(id, Topic::Session);
        if let Some(claim) = self.teammate_claim(id, now).cloned() {
            tracing::info!(profile = %id, "team: {}", overview::claim_words(&claim));
            if self.shown.contains(&session_key) && self.needs_login(id) {
                self.teams.told.insert(id.to_owned());
                self.notify(session_key, &overview::teammate_on_it(&name, id, &claim));
            }
            return;
        }
        // No teammate holds it any more: "wait or take over" is moot.
        self.withdraw(&NoticeKey::new(id, Topic::Team));
        let Some(repo) = self.team_repo(id) else {
            return;
        };
        let renewal = self
            .teams
            .repos
            .get(&repo.key())
            .and_then(|w| w.board.as_ref())
            .and_then(|b| b.renewal(id))
            .cloned();
        let Some(renewal) = renewal.filter(|r| {
            self.profiles
                .get(id)
                .and_then(|w| w.current.as_ref())
                .is_none_or(|c| c.captured_at < r.at)
        }) else {
            // The teammate gave up (no renewal newer than ours): the "log in" is back.
            if self.teams.told.remove(id) && self.needs_login(id) {
                self.notify(
                    session_key,
                    &overview::notice_text(
                        &sessionkeeper_core::schedule::Notice::Invalid {
                            profile: id.to_owned(),
                        },
                        &name,
                        now,
                    ),
                );
            }
            return;
        };
        self.teams.told.remove(id);
        if self.teams.own.contains_key(id)
            || self.teams.adopting.contains(id)
            || self.teams.tried.get(id) == Some(&renewal)
        {
            return;
        }
        tracing::info!(profile = %id, "team: {}; adopting it", overview::renewal_words(&renewal));
        if self.shown.contains(&session_key) && self.needs_login(id) {
            self.notify(
                session_key,
                &overview::teammate_renewed(&name, id, &renewal),
            );
        }
        self.adopt(id, renewal);
    }

    /// Whether the profile's session is dead or dying (what a "log in" notification is for).
    fn needs_login(&self, id: &str) -> bool {
        self.monitor
            .view(id)
            .and_then(|v| v.status)
            .is_some_and(|s| {
                matches!(
                    s,
                    sessionkeeper_core::Status::Invalid | sessionkeeper_core::Status::Expiring
                )
            })
    }

    /// Reads the team's session back and, when it is the renewed one, stores it.
    fn adopt(&mut self, id: &str, renewal: Renewal) {
        let Some(profile) = self.config.profiles.get(id).cloned() else {
            return;
        };
        self.teams.adopting.insert(id.to_owned());
        self.teams.tried.insert(id.to_owned(), renewal.clone());
        let config = std::sync::Arc::clone(&self.config);
        let vault = self.keychain.get();
        let vault2 = self.keychain.get();
        let now = self.clock.now();
        self.spawn(async move {
            let result = async {
                let (accounts, targets) = (config.accounts.clone(), profile.push.clone());
                let credentials = with_vault(vault, move |v| {
                    Credentials::for_targets(&accounts, &targets, v)
                })
                .await
                .map_err(|e| e.to_string())?;
                let (_, text) =
                    sessionkeeper_core::adopt::read_back(&config, &profile, &credentials)
                        .await
                        .map_err(|e| e.to_string())?;
                let session =
                    Session::import_at(text.expose(), &profile, now).map_err(|e| e.to_string())?;
                // Already ours (adopted before a restart, or our own renewal): nothing to store.
                let p = profile.clone();
                let current = with_vault(vault2, move |v| v.current_session(&p))
                    .await
                    .ok();
                let same = current.is_some_and(|c| {
                    sessionkeeper_core::vault::team_fingerprint(&c)
                        == sessionkeeper_core::vault::team_fingerprint(&session)
                });
                Ok((!same).then_some(session))
            }
            .await;
            Done::ReadBack(Box::new(ReadBack {
                profile: profile.id.clone(),
                renewal,
                result,
            }))
        });
    }

    pub(crate) fn read_back(&mut self, back: ReadBack) {
        let id = back.profile;
        self.teams.adopting.remove(&id);
        match back.result {
            Ok(None) => {
                tracing::info!(profile = %id, "team: the renewed session is already the current one");
                self.teams.renewed.insert(id, back.renewal);
            }
            Ok(Some(session))
                if sessionkeeper_core::vault::team_fingerprint(&session).as_str()
                    == back.renewal.fingerprint =>
            {
                tracing::info!(profile = %id, "team: the renewed session read back; validating");
                self.teams.renewed.insert(id.clone(), back.renewal);
                self.queue(
                    &id,
                    Op::Accept {
                        session,
                        source: Source::Adopt,
                        reply: None,
                    },
                );
            }
            Ok(Some(_)) => {
                // The targets do not hold it yet (a push still under way): the next read
                // tries again.
                tracing::info!(profile = %id, "team: the targets do not hold the renewed session yet");
                self.teams.tried.remove(&id);
            }
            Err(why) => {
                tracing::warn!(profile = %id, "team: the renewed session cannot be adopted: {why}");
            }
        }
    }

    /// Before a login window opens: the claim. True when the window waits (the claim is being
    /// taken, or a teammate holds it and the human is asked first).
    pub(crate) fn team_gate(&mut self, id: &str, take_over: bool) -> bool {
        let now = self.clock.now();
        // A claim of ours past its time (a login left open, a release that never ran) is
        // taken again, not trusted.
        if self
            .teams
            .own
            .get(id)
            .is_some_and(|o| now - o.since >= sessionkeeper_core::team::CLAIM_TTL)
        {
            self.teams.own.remove(id);
        }
        if self.teams.own.contains_key(id) || self.teams.proceed.remove(id) {
            return false;
        }
        let Some(repo) = self.team_repo(id) else {
            return false;
        };
        if self.teams.taking.contains(id) {
            return true;
        }
        if !take_over && let Some(claim) = self.teammate_claim(id, now).cloned() {
            self.ask_first(id, &claim);
            return true;
        }
        self.teams.taking.insert(id.to_owned());
        let me = self.member_on(&repo).cloned();
        let team = self.teams.team.clone();
        let vault = self.keychain.get();
        let profile = id.to_owned();
        self.spawn(async move {
            let result = async {
                let account = repo.account.clone();
                let token = with_vault(vault, move |v| v.account_token(&account))
                    .await
                    .map_err(|e| TeamError::Failed(e.to_string()))?;
                let me = match me {
                    Some(me) => me,
                    None => Member {
                        login: team.login(&repo, &token).await?,
                        host: sessionkeeper_core::team::host_name(),
                    },
                };
                let taken = team
                    .take(&repo, &token, &profile, &me, now, take_over)
                    .await?;
                Ok((me, taken))
            }
            .await;
            Done::Claimed(Box::new(Claimed {
                profile,
                repo,
                result,
            }))
        });
        true
    }

    fn ask_first(&mut self, id: &str, claim: &Claim) {
        let name = self
            .config
            .profiles
            .get(id)
            .map_or(id.to_owned(), |p| p.name.clone());
        tracing::info!(profile = %id, "team: asking first: {}", overview::claim_words(claim));
        self.notify(
            NoticeKey::new(id, Topic::Team),
            &overview::ask_before_taking_over(&name, id, claim),
        );
    }

    pub(crate) fn claimed(&mut self, claimed: Claimed) {
        let id = claimed.profile;
        self.teams.taking.remove(&id);
        match claimed.result {
            Ok((me, Taken::Ours(claim))) => {
                tracing::info!(profile = %id, by = %claim.by, "team: claimed the re-authentication");
                self.teams.blind.remove(&id);
                self.withdraw(&NoticeKey::new(&id, Topic::Team));
                self.teams.own.insert(
                    id.clone(),
                    Own {
                        repo: claimed.repo,
                        member: me,
                        since: claim.since,
                        stored: None,
                    },
                );
                self.reauthenticate(&id);
            }
            Ok((me, Taken::Held(claim))) => {
                if let Some(w) = self.teams.repos.get_mut(&claimed.repo.key()) {
                    w.me = Some(me);
                }
                self.ask_first(&id, &claim);
            }
            Err(e) => {
                tracing::warn!(profile = %id, "team: no claim, the login goes on alone: {e}");
                self.teams.blind.insert(id.clone(), e.to_string());
                self.teams.proceed.insert(id.clone());
                self.reauthenticate(&id);
            }
        }
    }

    /// The login stored its session: the renewal's fingerprint, for when the push is done.
    pub(crate) fn team_stored(&mut self, id: &str, session: &Session) {
        if let Some(own) = self.teams.own.get_mut(id) {
            own.stored = Some(sessionkeeper_core::vault::team_fingerprint(session).to_string());
        }
    }

    /// A session of our own is current (a login, a paste, a refresh): no longer a teammate's.
    pub(crate) fn team_forget_renewal(&mut self, id: &str) {
        self.teams.renewed.remove(id);
        self.teams.told.remove(id);
    }

    /// The login's push round ended (or the window closed without a login): the claim goes,
    /// and a renewal is recorded when there was one.
    pub(crate) fn team_release(&mut self, id: &str, now: DateTime<Utc>) {
        let Some(own) = self.teams.own.remove(id) else {
            return;
        };
        let team = self.teams.team.clone();
        let vault = self.keychain.get();
        let profile = id.to_owned();
        let renewal = own.stored.map(|fingerprint| Renewal {
            by: own.member.login.clone(),
            at: sessionkeeper_core::clock::whole_seconds(now),
            fingerprint,
        });
        if let Some(r) = &renewal {
            // Our own renewal is never adopted back.
            self.teams.tried.insert(id.to_owned(), r.clone());
        }
        let (repo, me) = (own.repo, own.member);
        self.spawn(async move {
            let result = async {
                let account = repo.account.clone();
                let token = with_vault(vault, move |v| v.account_token(&account))
                    .await
                    .map_err(|e| TeamError::Failed(e.to_string()))?;
                // The release goes even when the renewal could not be recorded.
                let recorded = match &renewal {
                    Some(r) => Some(team.record_renewal(&repo, &token, &profile, r).await),
                    None => None,
                };
                team.release(&repo, &token, &profile, &me).await?;
                if let Some(Err(e)) = recorded {
                    tracing::warn!(profile = %profile, "team: the renewal was not recorded: {e}");
                }
                Ok::<_, TeamError>(renewal.is_some())
            }
            .await;
            match result {
                Ok(renewed) => {
                    tracing::info!(profile = %profile, renewed, "team: claim released");
                }
                Err(e) => {
                    tracing::warn!(profile = %profile, "team: the claim was not released: {e}")
                }
            }
            Done::TeamReleased
        });
    }

    /// Whether the login of `id` holds our claim and is still to be pushed.
    pub(crate) fn holds_claim(&self, id: &str) -> bool {
        self.teams.own.contains_key(id)
    }

    /// The window closed: before a capture, the claim is given back at once.
    pub(crate) fn team_window_closed(&mut self, id: &str, now: DateTime<Utc>) {
        if self.teams.own.get(id).is_some_and(|o| o.stored.is_none()) {
            self.team_release(id, now);
        }
    }

    /// Take over (a notification's button, the dashboard).
    pub(crate) fn take_over(&mut self, id: &str) {
        self.withdraw(&NoticeKey::new(id, Topic::Team));
        if !self.team_gate(id, true) {
            self.reauthenticate(id);
        }
    }
}
