//! "Add a session": the login recorder as the controller runs it. The dashboard's form gives a
//! name, the login URL and the API URL; the controller opens a login window in recording mode
//! (the same isolation as every login window, and no pre-fill: nothing is known yet), hears
//! what it shows, hands each new arrival to core's `recorder::propose` on a task, and once the
//! API told a live session from a dead one, closes the window and shows the proposal on the
//! dashboard. Confirmed (as proposed or edited), the profile is written into the config file
//! (`Config::add_profile`: it must load, or nothing is written), taken in like a reload, and the
//! captured session is validated and stored like any login's.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sessionkeeper_core::config::Profile;
use sessionkeeper_core::recorder::{Arrival, Captured, Draft, NotYet, Proposal, Recording, Sight};
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::session::{Cookie, Session};

use crate::dashboard::RecordingView;
use crate::sessions::{Op, Source};
use crate::{Controller, Done, Host, LoginWindow, Reply};

/// The recording under way (one at a time).
#[derive(Debug)]
pub(crate) struct Record {
    recording: Recording,
    /// Which recording this is: a try that began for an earlier one (cancelled, closed, of the
    /// same name) is ignored when it ends.
    serial: u64,
    /// An arrival is being tried against the API.
    trying: bool,
    /// An arrival that came while another was tried.
    waiting: Option<Arrival>,
    proposal: Option<Proposal>,
    /// Its window is open (or closing): a new recording takes another id meanwhile, so that the
    /// old window's close is never taken for the new one's.
    window_open: bool,
    state: &'static str,
    message: String,
}

/// What a try of an arrival gave.
#[derive(Debug)]
pub(crate) struct Tried {
    id: String,
    serial: u64,
    /// The API URL it was tried against (another may have been given meanwhile).
    api_url: Option<url::Url>,
    result: Result<Proposal, NotYet>,
}

impl Record {
    pub(crate) fn view(&self) -> RecordingView {
        let draft = &self.recording.draft;
        RecordingView {
            id: draft.id.clone(),
            name: draft.name.clone(),
            api_url: draft.api_url.as_ref().map(ToString::to_string),
            state: self.state.to_owned(),
            message: self.message.clone(),
            words: self
                .proposal
                .as_ref()
                .map(|p| p.words.clone())
                .unwrap_or_default(),
            toml: self.proposal.as_ref().map(|p| p.toml.clone()),
        }
    }
}

/// A profile that only opens the recording window (it is never checked or stored).
fn window_profile(draft: &Draft) -> Profile {
    let mut raw = toml_edit::DocumentMut::new();
    raw["profiles"][&draft.id]["name"] = toml_edit::value(&draft.name);
    raw["profiles"][&draft.id]["login_url"] = toml_edit::value(draft.login_url.as_str());
    raw["profiles"][&draft.id]["capture"] = toml_edit::value("manual");
    let config = sessionkeeper_core::Config::parse(&raw.to_string(), std::path::Path::new("-"))
        .expect("a name and a checked URL always load");
    let mut profile = config.profiles[&draft.id].clone();
    // The jars the window reads (besides the page's own): the login's and the API's.
    profile.cookie_urls = std::iter::once(draft.login_url.clone())
        .chain(draft.api_url.clone())
        .collect();
    profile
}

impl<H: Host> Controller<H> {
    /// Record the login: opens the recording window for a new profile.
    pub(crate) fn record_login(
        &mut self,
        name: &str,
        login_url: &str,
        api_url: &str,
        reply: Reply<Result<String, String>>,
    ) {
        let draft = match Draft::new(name, login_url, api_url, |id| {
            self.config.profiles.contains_key(id)
                || self.logins.contains_key(id)
                || self
                    .record
                    .as_ref()
                    .is_some_and(|r| r.window_open && r.recording.draft.id == id)
        }) {
            Ok(d) => d,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        if let Some(old) = self.record.take() {
            self.host.close_login(&old.recording.draft.id);
        }
        let title = format!(
            "Record the login — {}: sign in as usual; Session Keeper watches the pages and the \
             cookies",
            draft.name
        );
        tracing::info!(profile = %draft.id, "recording a login");
        self.host.open_login(LoginWindow {
            profile: window_profile(&draft),
            url: draft.login_url.clone(),
            prefill: None,
            title,
            recording: true,
        });
        let _ = reply.send(Ok(format!(
            "Sign in to {} in the window that opened (solve the captcha too); the proposal \
             appears here.",
            draft.name
        )));
        static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        self.record = Some(Record {
            recording: Recording::new(draft),
            serial: SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            trying: false,
            waiting: None,
            proposal: None,
            window_open: true,
            state: "recording",
            message: "Waiting for the login to complete in the recording window…".to_owned(),
        });
    }

    /// What the recording window shows now.
    pub(crate) fn record_seen(
        &mut self,
        id: &str,
        url: Secret,
        cookies: Vec<Cookie>,
        now: DateTime<Utc>,
    ) {
        let Some(record) = self.record.as_mut() else {
            return;
        };
        if record.recording.draft.id != id || record.proposal.is_some() {
            return;
        }
        if let Some(arrival) = record.recording.see(&Sight { url, cookies }, now) {
            if record.trying {
                record.waiting = Some(arrival);
            } else {
                self.try_arrival(arrival);
            }
        }
    }

    fn try_arrival(&mut self, arrival: Arrival) {
        let Some(record) = self.record.as_mut() else {
            return;
        };
        record.trying = true;
        let draft = record.recording.draft.clone();
        let serial = record.serial;
        tracing::info!(profile = %draft.id, "recording: trying what arrived against the API");
        self.spawn(async move {
            let result = sessionkeeper_core::recorder::propose(&draft, &arrival).await;
            Done::Tried(Box::new(Tried {
                id: draft.id,
                serial,
                api_url: draft.api_url,
                result,
            }))
        });
    }

    pub(crate) fn tried(&mut self, tried: Tried) {
        let Some(record) = self.record.as_mut() else {
            return;
        };
        if record.recording.draft.id != tried.id || record.serial != tried.serial {
            return;
        }
        record.trying = false;
        if record.recording.draft.api_url != tried.api_url {
            // Tried against a URL the human has replaced since: try the new one.
            let now = self.clock.now();
            if let Some(arrival) = record.recording.retry(now) {
                record.waiting = None;
                self.try_arrival(arrival);
            }
            return;
        }
        match tried.result {
            Ok(proposal) => {
                tracing::info!(profile = %tried.id, "recording: a profile is proposed");
                record.state = "proposed";
                record.message =
                    "The login is recorded. Check the proposal (edit it if you like), then \
                     confirm."
                        .to_owned();
                record.proposal = Some(proposal);
                record.waiting = None;
                self.host.close_login(&tried.id);
                self.host.open_dashboard(None);
            }
            Err(NotYet::Refused(why)) => {
                tracing::info!(profile = %tried.id, "recording: not yet ({why})");
                record.message = format!("Waiting for the login to complete: {why}.");
                if let Some(next) = record.waiting.take() {
                    self.try_arrival(next);
                }
            }
            Err(e @ NotYet::CannotTell { .. }) => {
                record.state = "ask-url";
                record.message = e.to_string();
            }
        }
        self.published = None;
    }

    /// Try the last arrival again with another API URL.
    pub(crate) fn record_again(
        &mut self,
        api_url: &str,
        reply: Reply<Result<String, String>>,
        now: DateTime<Utc>,
    ) {
        let Some(record) = self.record.as_mut() else {
            let _ = reply.send(Err("no login is being recorded".to_owned()));
            return;
        };
        let draft = &record.recording.draft;
        let again = match Draft::new(&draft.name, draft.login_url.as_str(), api_url, |_| false) {
            Ok(d) => d,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        record.recording.draft.api_url = again.api_url;
        record.state = "recording";
        record.message = "Trying the new API URL…".to_owned();
        let _ = reply.send(Ok("Trying the new API URL…".to_owned()));
        // While a try is under way its answer starts the new one (see `tried`).
        if !record.trying
            && let Some(arrival) = record.recording.retry(now)
        {
            self.try_arrival(arrival);
        }
        self.published = None;
    }

    /// Confirm: the (possibly edited) proposal goes into the config file, then the captured
    /// session is validated and stored.
    pub(crate) fn record_confirm(
        &mut self,
        toml: &str,
        reply: Reply<Result<String, String>>,
        now: DateTime<Utc>,
    ) {
        let Some(proposal) = self.record.as_ref().and_then(|r| r.proposal.clone()) else {
            let _ = reply.send(Err("there is no proposal to confirm".to_owned()));
            return;
        };
        let path = self.config.path.clone();
        let (config, id) = match sessionkeeper_core::Config::add_profile(&path, toml) {
            Ok(done) => done,
            Err(e) => {
                let _ = reply.send(Err(format!("Nothing was written: {e}")));
                return;
            }
        };
        tracing::info!(profile = %id, "recorded profile written to {}", path.display());
        self.record = None;
        self.config_changed(Ok(Arc::new(config)), now);
        let Some(profile) = self.config.profiles.get(&id) else {
            let _ = reply.send(Err(format!("profile {id:?} was written but did not load")));
            return;
        };
        let (cookies, token) = match proposal.captured {
            Captured::Cookies { cookies, .. } => (cookies, None),
            Captured::Token { token, .. } => (Vec::new(), Some(token)),
        };
        // As the profile now says (the human may have edited the proposal).
        let session = if profile.is_token() {
            Session::captured(profile, Vec::new(), token, now)
        } else {
            Session::captured(profile, cookies, None, now)
        };
        self.queue(
            &id,
            Op::Accept {
                session,
                source: Source::Login,
                reply: Some(reply),
            },
        );
    }

    /// Cancel: the window closes, nothing is written.
    pub(crate) fn record_cancel(&mut self) {
        if let Some(record) = self.record.take() {
            self.host.close_login(&record.recording.draft.id);
            self.published = None;
        }
    }

    /// The recording window closed: before a proposal, the recording ends with nothing written.
    pub(crate) fn record_closed(&mut self, id: &str) {
        let Some(record) = self.record.as_mut() else {
            return;
        };
        if record.recording.draft.id != id {
            return;
        }
        record.window_open = false;
        if record.proposal.is_some() {
            return;
        }
        tracing::info!(profile = %id, "recording window closed before the login completed");
        record.state = "closed";
        record.message = "The recording window was closed before the login completed: nothing \
                          was written. Record the login again to start over."
            .to_owned();
        self.published = None;
    }
}
