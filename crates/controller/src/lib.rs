//! `sessionkeeper-controller`: the tray app's behaviour, with no window. One [`Controller`]
//! owns everything that changes (core's [`Monitor`], one [`Checker`], one [`Pusher`], what is
//! in flight for each profile and each push target, the notifications on screen, the login
//! windows) and is fed by one channel: [`Intent`]s from the edges of the app, and the answers
//! of the work it hands to tasks. It acts on the desktop only through the [`Host`] seam.
//!
//! This is rust-analyzer's main loop in small: one state, one loop, events in. Nothing else
//! in the app decides anything, so all of it is tested in plain `cargo test` with a recording
//! host, a fake clock and the simulator (`tests/`).
//!
//! The parts: `host` (the seam), `intent` (what the edges ask), `dashboard` (the page's data),
//! `keychain` (the vault, opened lazily and used off the loop), and the controller's
//! handlers by area: `checks` (checks, health, refresh), `sessions` (captures, pastes,
//! extensions, one at a time per profile), `logins` (login windows), `recorder` ("Add a session": the login recorder), `edits`
//! (the dashboard's changes to the config and the keychain), `team` (one re-authentication
//! for the team: claims, teammates' renewals, adoption), `pushes` (every target
//! converging on the current session), `reload` (the config changed under the app) and `show`
//! (tray, dashboard, notifications).

mod checks;
mod dashboard;
mod edits;
mod host;
mod intent;
mod keychain;
mod logins;
mod pushes;
mod recorder;
mod reload;
mod sessions;
mod show;
mod team;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use sessionkeeper_core::check::Checker;
use sessionkeeper_core::clock::Clock;
use sessionkeeper_core::config::Config;
use sessionkeeper_core::error::VaultError;
use sessionkeeper_core::history::{Event, History};
use sessionkeeper_core::monitor::Monitor;
use sessionkeeper_core::push::Pusher;
use sessionkeeper_core::targets::{Book, TargetBook};
use sessionkeeper_core::vault::Vault;
use tokio::sync::mpsc;

pub use dashboard::{Card, Configuration, DashboardState, Reach, RecordingView};
pub use host::{Host, LoginWindow, NoticeKey, Topic, TrayLine, TrayModel};
pub use intent::{
    ADD_SESSION_PAGE, Intent, MENU_ADD_SESSION, MENU_AUTOSTART, MENU_DASHBOARD, MENU_QUIT,
    MENU_UNLOCK, MenuItem, Reply,
};
pub use keychain::Keychain;

/// Everything the controller needs to start.
#[derive(Debug)]
pub struct Setup {
    pub config: Arc<Config>,
    /// Why the config file did not load at start (file, line, key): shown like a broken
    /// reload, with `config` empty.
    pub config_error: Option<String>,
    pub keychain: Keychain,
    pub history: Option<History>,
    pub book: Option<TargetBook>,
    /// The demo (a badge on the dashboard).
    pub demo: bool,
    /// Whether start-at-login is on.
    pub autostart: bool,
    /// How hard each push call is tried (the default unless a test wants it quicker).
    pub retry: Option<sessionkeeper_core::push::RetryPolicy>,
}

/// How long nothing may be due for the app to count as at rest ([`Host::at_rest`]).
const REST_BEFORE_WAKE: chrono::TimeDelta = chrono::TimeDelta::seconds(20);

/// One piece of spawned work, counted in while it runs (and out when it ends, or panics).
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(count))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The profile id that arms the controller's fail point (tests only; see `handle`).
pub const PANIC_PROBE: &str = "panic-probe";

/// How to reach a running controller.
#[derive(Debug, Clone)]
pub struct Handle {
    tx: mpsc::UnboundedSender<Message>,
}

impl Handle {
    /// Sends `intent`; false when the controller has stopped.
    pub fn send(&self, intent: Intent) -> bool {
        self.tx.send(Message::Intent(intent)).is_ok()
    }
}

/// What comes down the one channel: an edge's intent, or the answer of work the controller
/// handed to a task.
#[derive(Debug)]
enum Message {
    Intent(Intent),
    Done(Done),
}

/// The answers of the controller's tasks.
#[derive(Debug)]
enum Done {
    Keychain(Result<Arc<Vault>, VaultError>),
    /// A locked keychain was asked about its lock (the vault keeps the answer).
    LockProbed,
    /// The unlock prompt was answered (the vault keeps whether it is unlocked now).
    UnlockAnswered,
    Checked(checks::Checked),
    Health(String, sessionkeeper_core::health::HealthAnswer),
    Session(sessions::Finished),
    Pushed(pushes::Pushed),
    LoginReady(logins::Ready),
    /// A recorded login's arrival, tried against the API.
    Tried(Box<recorder::Tried>),
    /// A team repository's claims and renewals, read.
    TeamRead(team::Read),
    /// The claim on a re-authentication, taken or not.
    Claimed(Box<team::Claimed>),
    /// A teammate's renewed session, read back from a target.
    ReadBack(Box<team::ReadBack>),
    TeamReleased,
    Exported(String, Result<sessionkeeper_core::secret::Secret, String>),
    /// Reading the current sessions again (after another program wrote one).
    Reread(Vec<(String, Option<sessionkeeper_core::status::SessionInfo>, u64)>),
}

/// Starts the controller on the current tokio runtime; it runs until [`Intent::Quit`] or
/// until every [`Handle`] is dropped. A panic in the controller is caught, logged and told to
/// the human once, and a fresh controller takes over from the config, the vault and the
/// history.
pub fn spawn<H: Host>(
    host: H,
    clock: Arc<dyn Clock>,
    setup: Setup,
) -> (Handle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = Handle { tx: tx.clone() };
    let task = tokio::spawn(supervise(Arc::new(host), clock, setup, tx, rx));
    (handle, task)
}

/// Runs controllers one after the other while they panic.
async fn supervise<H: Host>(
    host: Arc<H>,
    clock: Arc<dyn Clock>,
    setup: Setup,
    tx: mpsc::UnboundedSender<Message>,
    mut rx: mpsc::UnboundedReceiver<Message>,
) {
    use futures_util::FutureExt as _;
    let mut told = false;
    // The config as last reloaded, and its error: a fresh controller starts from them, not
    // from the first ones.
    let reloaded = Arc::new(std::sync::Mutex::new((
        Arc::clone(&setup.config),
        setup.config_error.clone(),
    )));
    loop {
        let mut controller =
            Controller::new(Arc::clone(&host), Arc::clone(&clock), &setup, tx.clone());
        controller.reloaded = Arc::clone(&reloaded);
        let ran = std::panic::AssertUnwindSafe(controller.run(&mut rx))
            .catch_unwind()
            .await;
        match ran {
            Ok(()) => return,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!("the controller panicked ({what}); starting a fresh one");
                if !told {
                    told = true;
                    host.notify(
                        &NoticeKey::new("", Topic::App),
                        &sessionkeeper_core::overview::restarted(
                            "Session Keeper's watch loop stopped on an internal error.",
                        ),
                    );
                }
            }
        }
    }
}

/// The one owner of the app's behaviour.
struct Controller<H: Host> {
    host: Arc<H>,
    clock: Arc<dyn Clock>,
    config: Arc<Config>,
    /// Why the config file does not load now, while it does not.
    config_error: Option<String>,
    /// Where reloads left the config (and the error of the file, while it does not load),
    /// shared with the supervisor: a controller that takes over after a panic starts there.
    reloaded: Arc<std::sync::Mutex<(Arc<Config>, Option<String>)>>,
    demo: bool,
    tx: mpsc::UnboundedSender<Message>,
    checker: Arc<Checker>,
    pusher: Arc<Pusher>,
    health_client: reqwest::Client,
    keychain: keychain::State,
    history: Option<History>,
    /// The history as last read, and how the file looked then.
    events: Vec<Event>,
    events_stamp: Option<(u64, std::time::SystemTime)>,
    book_file: Option<TargetBook>,
    book: Book,
    book_stamp: Option<(u64, std::time::SystemTime)>,
    monitor: Monitor,
    profiles: BTreeMap<String, checks::Work>,
    lanes: BTreeMap<(String, String), pushes::Lane>,
    logins: BTreeMap<String, logins::Login>,
    /// "Add a session": the login being recorded, and its proposal.
    record: Option<recorder::Record>,
    /// The team's claims and renewals.
    teams: team::Teams,
    /// Notifications on screen, by key (withdrawn when their episode ends).
    shown: BTreeSet<NoticeKey>,
    dashboard_open: bool,
    published: Option<DashboardState>,
    tray: Option<TrayModel>,
    clipboard_clear_at: Option<DateTime<Utc>>,
    autostart: bool,
    quitting: bool,
    /// Work started by [`Controller::spawn`] that has not reported back yet.
    in_flight: Arc<AtomicUsize>,
    /// Whether a message was handled since the host was last told the app is at rest.
    stirred: bool,
}

impl<H: Host> Controller<H> {
    fn new(
        host: Arc<H>,
        clock: Arc<dyn Clock>,
        setup: &Setup,
        tx: mpsc::UnboundedSender<Message>,
    ) -> Self {
        let now = clock.now();
        let monitor = Monitor::new(&setup.config, setup.history.clone(), now);
        let events = setup
            .history
            .as_ref()
            .map(History::events)
            .unwrap_or_default();
        let book = setup
            .book
            .as_ref()
            .map(TargetBook::load)
            .unwrap_or_default();
        let profiles = setup
            .config
            .profiles
            .keys()
            .map(|id| (id.clone(), checks::Work::default()))
            .collect();
        Self {
            host,
            clock,
            config: Arc::clone(&setup.config),
            config_error: None,
            reloaded: Arc::new(std::sync::Mutex::new((
                Arc::clone(&setup.config),
                setup.config_error.clone(),
            ))),
            demo: setup.demo,
            tx,
            checker: Arc::new(Checker::new()),
            pusher: Arc::new({
                let mut pusher = Pusher::new();
                pusher.retry = setup.retry.unwrap_or_default();
                pusher
            }),
            health_client: sessionkeeper_core::health::client(),
            keychain: keychain::State::new(setup.keychain.clone()),
            events_stamp: setup.history.as_ref().and_then(History::stamp),
            history: setup.history.clone(),
            events,
            book_stamp: setup.book.as_ref().and_then(TargetBook::stamp),
            book_file: setup.book.clone(),
            book,
            monitor,
            profiles,
            lanes: BTreeMap::new(),
            logins: BTreeMap::new(),
            record: None,
            teams: team::Teams::default(),
            shown: BTreeSet::new(),
            dashboard_open: false,
            published: None,
            tray: None,
            clipboard_clear_at: None,
            autostart: setup.autostart,
            quitting: false,
            in_flight: Arc::new(AtomicUsize::new(0)),
            stirred: true,
        }
    }

    /// The loop: do what is due, show what changed, sleep until the next thing is due or a
    /// message comes.
    async fn run(mut self, rx: &mut mpsc::UnboundedReceiver<Message>) {
        self.open_keychain();
        // Where the supervisor's last controller left the config (at first: the start's),
        // taken in here, under the supervisor's catch of a panic.
        let (latest, error) = self
            .reloaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if !Arc::ptr_eq(&latest, &self.config) {
            self.config_changed(Ok(latest), self.clock.now());
        }
        if let Some(why) = error {
            self.config_changed(Err(why), self.clock.now());
        }
        loop {
            let now = self.clock.now();
            self.on_time(now);
            self.render(now);
            if self.quitting {
                return;
            }
            let wake = self.next_wake(now);
            self.rest_if_idle(now, wake);
            let clock = Arc::clone(&self.clock);
            tokio::select! {
                message = rx.recv() => {
                    let Some(message) = message else { return };
                    self.handle(message);
                    // Take in everything already waiting before drawing again.
                    while let Ok(message) = rx.try_recv() {
                        self.handle(message);
                    }
                }
                () = clock.sleep_until(wake) => {}
            }
        }
    }

    fn handle(&mut self, message: Message) {
        // Where the supervisor test makes the loop panic: only a controller that watches a
        // profile named `PANIC_PROBE`, so that other controllers in the same test process
        // never meet it. Nothing at all in a build without `fail/failpoints`.
        fail::fail_point!(
            "controller::handle",
            self.config.profiles.contains_key(PANIC_PROBE),
            |_| ()
        );
        let now = self.clock.now();
        self.stirred = true;
        match message {
            Message::Intent(intent) => self.on_intent(intent, now),
            Message::Done(done) => self.on_done(done, now),
        }
        self.notice_lock(now);
    }

    fn on_done(&mut self, done: Done, now: DateTime<Utc>) {
        match done {
            Done::Keychain(result) => self.keychain_opened(result, now),
            Done::LockProbed => self.keychain.probed(now),
            Done::UnlockAnswered => {
                self.keychain.prompting = false;
                self.keychain.probed(now);
            }
            Done::Checked(checked) => self.checked(checked, now),
            Done::Health(profile, answer) => self.health_answered(&profile, answer, now),
            Done::Session(finished) => self.session_finished(finished, now),
            Done::Pushed(pushed) => self.pushed(pushed, now),
            Done::LoginReady(ready) => self.login_ready(ready),
            Done::Tried(tried) => self.tried(*tried),
            Done::TeamRead(read) => self.team_read(read, now),
            Done::Claimed(claimed) => self.claimed(*claimed),
            Done::ReadBack(back) => self.read_back(*back),
            Done::TeamReleased => {}
            Done::Exported(profile, export) => self.exported(&profile, export, now),
            Done::Reread(sessions) => self.reread(sessions, now),
        }
    }

    fn on_intent(&mut self, intent: Intent, now: DateTime<Utc>) {
        tracing::debug!("intent: {intent:?}");
        match intent {
            Intent::Validate { profile } => {
                if self.known(&profile) {
                    self.monitor.check_now(&profile, now);
                    if let Some(work) = self.profiles.get_mut(&profile)
                        && work.checking
                    {
                        work.recheck = true;
                    }
                }
            }
            Intent::Reauthenticate { profile } => self.reauthenticate(&profile),
            Intent::OpenInBrowser { profile } => self.open_in_browser(&profile),
            Intent::PushAll { profile } => self.push_again(&profile, None, now),
            Intent::PushTarget { profile, index } => self.push_again(&profile, Some(index), now),
            Intent::CopyExport { profile } => self.copy_export(&profile),
            Intent::Snooze { profile } => {
                self.monitor
                    .snooze(&profile, now + chrono::Duration::hours(1));
            }
            Intent::LoginSeen {
                profile,
                url,
                cookies,
            } => self.login_seen(&profile, url, cookies, now),
            Intent::LoginToken { profile, token } => self.login_token(&profile, token, now),
            Intent::LoginClosed { profile } => {
                self.login_closed(&profile);
                self.record_closed(&profile);
                self.team_window_closed(&profile, now);
            }
            Intent::TakeOver { profile } => self.take_over(&profile),
            Intent::Wait { profile } => self.withdraw(&NoticeKey::new(&profile, Topic::Team)),
            Intent::RecordLogin {
                name,
                login_url,
                api_url,
                reply,
            } => self.record_login(&name, &login_url, &api_url, reply),
            Intent::RecordSeen {
                profile,
                url,
                cookies,
            } => self.record_seen(&profile, url, cookies, now),
            Intent::RecordAgain { api_url, reply } => self.record_again(&api_url, reply, now),
            Intent::RecordConfirm { toml, reply } => self.record_confirm(&toml, reply, now),
            Intent::RecordCancel => self.record_cancel(),
            Intent::AddTarget {
                profile,
                target,
                token,
                reply,
            } => self.add_target(&profile, &target, token, reply, now),
            Intent::CheckTarget {
                profile,
                target,
                token,
                reply,
            } => self.check_target(&profile, &target, token, reply),
            Intent::SetSecret { name, value, reply } => self.set_secret(&name, value, reply),
            Intent::SetPrefill {
                profile,
                prefill,
                reply,
            } => self.set_prefill(&profile, &prefill, reply, now),
            Intent::SetTimings {
                profile,
                timings,
                reply,
            } => self.set_timings(&profile, &timings, reply, now),
            Intent::ApplyLearned { profile, reply } => self.apply_learned(&profile, reply, now),
            Intent::RemoveProfile { profile, reply } => self.remove_profile(&profile, reply, now),
            Intent::OpenDashboard { profile } => self.host.open_dashboard(profile.as_deref()),
            Intent::DashboardOpened => {
                self.dashboard_open = true;
                self.published = None;
            }
            Intent::DashboardClosed => self.dashboard_open = false,
            Intent::DashboardState { reply } => {
                let _ = reply.send(self.dashboard_state(now));
            }
            Intent::Paste {
                profile,
                text,
                reply,
            } => self.paste(&profile, &text, reply, now),
            Intent::Extend { profile, reply } => self.extend(&profile, reply),
            Intent::CheckTokens { profile, reply } => self.check_tokens(&profile, reply),
            Intent::Configuration { reply } => self.configuration(reply),
            Intent::ToggleAutostart => self.autostart = self.host.set_autostart(!self.autostart),
            Intent::SecretsChanged => self.secrets_changed(now),
            Intent::SessionsChanged => self.reread_sessions(),
            Intent::NetworkUp => self.network_up(now),
            Intent::ConfigChanged { config } => self.config_changed(config, now),
            Intent::UnlockKeychain => self.prompt_unlock(true),
            Intent::AlreadyRunning => self.notify(
                NoticeKey::new("", Topic::App),
                &sessionkeeper_core::overview::already_running(),
            ),
            Intent::Quit => {
                self.host.clear_clipboard();
                self.quitting = true;
                self.host.quit();
            }
        }
    }

    /// Everything that is due at `now`: checks, refreshes, health, pushes, timers.
    fn on_time(&mut self, now: DateTime<Utc>) {
        self.keychain_retry(now);
        self.probe_lock(now);
        self.reload_records();
        self.start_checks(now);
        // Refreshes and pushes need the keychain's credentials and tokens: while it is
        // locked they wait (checks go on with the session key already read).
        let locked = self.keychain.locked_since.is_some();
        if !locked {
            self.start_refreshes(now);
            self.read_teams(now);
        }
        self.start_health(now);
        self.retry_logins(now);
        if !locked {
            self.converge(now);
        }
        if self.clipboard_clear_at.is_some_and(|t| t <= now) {
            self.clipboard_clear_at = None;
            self.host.clear_clipboard();
        }
    }

    /// When something is next due.
    fn next_wake(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        [
            Some(self.monitor.next_wake(now)),
            self.keychain.retry_at(),
            self.keychain.next_probe(),
            self.next_health(),
            self.next_push(now),
            self.next_login_retry(),
            self.next_team_read(),
            self.clipboard_clear_at,
            self.next_label_change(now),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(now + chrono::Duration::minutes(5))
        .max(now)
    }

    fn known(&self, profile: &str) -> bool {
        let known = self.config.profiles.contains_key(profile);
        if !known {
            tracing::warn!("no profile {profile:?}");
        }
        known
    }

    /// Hands `work` to a task; its answer comes back down the channel.
    fn spawn(&self, work: impl std::future::Future<Output = Done> + Send + 'static) {
        let tx = self.tx.clone();
        let in_flight = InFlight::new(&self.in_flight);
        tokio::spawn(async move {
            let done = work.await;
            // Counted out before the loop hears of it, so that the loop sees it ended.
            drop(in_flight);
            let _ = tx.send(Message::Done(done));
        });
    }

    /// Tells the host once that the app is at rest: something was handled since the last
    /// time, nothing spawned is in flight, nothing is due for [`REST_BEFORE_WAKE`], and no
    /// window of the app is open (while one is, the human is using the app).
    fn rest_if_idle(&mut self, now: DateTime<Utc>, wake: DateTime<Utc>) {
        let quiet = wake - now >= REST_BEFORE_WAKE;
        let in_use = self.dashboard_open || !self.logins.is_empty() || self.record.is_some();
        if self.stirred && quiet && !in_use && self.in_flight.load(Ordering::SeqCst) == 0 {
            self.stirred = false;
            self.host.at_rest();
        }
    }

    /// The history as it is on disk now, read again only when the file changed.
    fn refresh_events(&mut self) {
        let Some(history) = &self.history else { return };
        let stamp = history.stamp();
        if stamp != self.events_stamp {
            self.events = history.events();
            self.events_stamp = stamp;
        }
    }

    /// The records of what each target holds, read again when a process changed them.
    fn reload_records(&mut self) {
        if let Some(file) = &self.book_file {
            let stamp = file.stamp();
            if stamp != self.book_stamp || stamp.is_none() {
                self.book = file.load();
                self.book_stamp = stamp;
            }
        }
    }
}
