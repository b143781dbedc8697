//! Sessions through the keychain vault: import, export, restore, extend.

use base64::Engine as _;
use sessionkeeper_tests::*;

fn decode(export: &str) -> serde_json::Value {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(export.trim())
        .expect("export is base64");
    serde_json::from_slice(&bytes).expect("export decodes to JSON")
}

#[test]
fn export_then_import_round_trips_byte_for_byte() {
    require_keychain();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("s-roundtrip");
    env.write_config(&sim_config(&sim));
    let minted = sim.mint_session(SessionKind::Cookie, None);
    let original = cookie_export("mtn", &[("JSESSIONID", &minted.value, "127.0.0.1")]);
    // Wrapped and padded with whitespace, as it arrives from a terminal or a file.
    let wrapped: String = original
        .as_bytes()
        .chunks(60)
        .map(|c| format!("  {}\n", String::from_utf8_lossy(c)))
        .collect();
    env.run_stdin(&["import", "mtn"], &wrapped).assert_code(0);
    let first = env.run(&["export", "mtn", "--output-only"]);
    first.assert_code(0);
    assert_eq!(
        first.stdout.lines().count(),
        1,
        "--output-only prints one line"
    );

    // The export holds the fields the original scripts' consumers read.
    let json = decode(&first.stdout);
    assert_eq!(json["version"], 1);
    assert_eq!(json["profile"], "mtn");
    assert_eq!(
        json["sessionId"],
        minted.value.as_str(),
        "sessionId is the session_id_cookie's value"
    );
    assert!(json["capturedAt"].is_string() && json["expiresAt"].is_string());
    let cookie = &json["cookies"][0];
    assert_eq!(cookie["name"], "JSESSIONID");
    assert_eq!(cookie["httpOnly"], true);
    assert_eq!(cookie["expires"], -1);
    assert_eq!(cookie["sameSite"], "Lax");
    assert_eq!(decode(&original)["expiresAt"], json["expiresAt"]);

    // Import the export into a fresh environment and export again: the same bytes.
    let other = TestEnv::new("s-roundtrip2");
    other.write_config(&sim_config(&sim));
    other
        .run_stdin(&["import", "mtn"], &first.stdout)
        .assert_code(0);
    let second = other.run(&["export", "mtn", "--output-only"]);
    second.assert_code(0);
    assert_eq!(second.stdout, first.stdout);
}

#[test]
fn a_rejected_session_is_not_stored_and_the_old_one_survives() {
    require_keychain();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("s-rejected");
    env.write_config(&sim_config(&sim));
    let good = sim.mint_session(SessionKind::Cookie, None);
    let dead = sim.mint_session(SessionKind::Cookie, None);
    sim.expire_session(&dead.value);
    let good_export = cookie_export("mtn", &[("JSESSIONID", &good.value, "127.0.0.1")]);
    env.run_stdin(&["import", "mtn"], &good_export)
        .assert_code(0);
    let before = env.run(&["export", "mtn", "--output-only"]).stdout;
    let run = env.run_stdin(
        &["import", "mtn"],
        &cookie_export("mtn", &[("JSESSIONID", &dead.value, "127.0.0.1")]),
    );
    run.assert_code(1);
    assert!(run.stderr.contains("not stored"), "{}", run.stderr);
    assert_eq!(env.run(&["export", "mtn", "--output-only"]).stdout, before);

    // A provider that cannot answer: exit 2 and nothing stored, unless asked to.
    sim.set_fault(Fault::status(500));
    let other = sim.mint_session(SessionKind::Cookie, None);
    let other_export = cookie_export("mtn", &[("JSESSIONID", &other.value, "127.0.0.1")]);
    let run = env.run_stdin(&["import", "mtn"], &other_export);
    run.assert_code(2);
    assert!(run.stderr.contains("--no-validate"), "{}", run.stderr);
    assert_eq!(env.run(&["export", "mtn", "--output-only"]).stdout, before);
    env.run_stdin(&["import", "mtn", "--no-validate"], &other_export)
        .assert_code(0);
    assert_ne!(env.run(&["export", "mtn", "--output-only"]).stdout, before);
}

#[test]
fn garbage_on_stdin_is_rejected_clearly_and_stores_nothing() {
    require_keychain();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("s-garbage");
    env.write_config(&sim_config(&sim));
    for (input, expect) in [
        ("", "empty"),
        ("this is not base64 at all!", "not a session"),
        ("aGVsbG8gd29ybGQ=", "not to UTF-8 JSON"),
        ("{\"cookies\": 5}", "malformed"),
    ] {
        let run = env.run_stdin(&["import", "mtn"], input);
        run.assert_code(1);
        assert!(
            run.stderr.contains(expect),
            "{input:?}: want {expect:?} in {}",
            run.stderr
        );
    }
    assert!(
        !env.data_dir().join("sessionkeeper/sessions").exists(),
        "nothing may be written"
    );
}

#[test]
fn import_keeps_the_previous_session_and_restore_brings_it_back() {
    require_keychain();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("s-restore");
    env.write_config(&sim_config(&sim));
    let exports: Vec<String> = (0..2)
        .map(|_| {
            let m = sim.mint_session(SessionKind::Cookie, None);
            cookie_export("mtn", &[("JSESSIONID", &m.value, "127.0.0.1")])
        })
        .collect();
    env.run_stdin(&["import", "mtn"], &exports[0])
        .assert_code(0);
    let first = env.run(&["export", "mtn", "--output-only"]).stdout;
    env.run_stdin(&["import", "mtn"], &exports[1])
        .assert_code(0);
    let second = env.run(&["export", "mtn", "--output-only"]).stdout;
    assert_ne!(first, second);
    env.run(&["restore", "mtn"]).assert_code(0);
    assert_eq!(env.run(&["export", "mtn", "--output-only"]).stdout, first);
    env.run(&["restore", "mtn"]).assert_code(0);
    assert_eq!(env.run(&["export", "mtn", "--output-only"]).stdout, second);
}

#[test]
fn a_20_kb_cookie_jar_round_trips_and_no_file_holds_it_in_plaintext() {
    require_keychain();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("s-large");
    env.write_config(&sim_config(&sim));
    let live = sim.mint_session(SessionKind::Cookie, None);
    let filler: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("tracking_{i}"),
                format!("LARGEJARVALUE{i:03}{}", "x".repeat(480)),
            )
        })
        .collect();
    let mut cookies: Vec<(&str, &str, &str)> = filler
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str(), "127.0.0.1"))
        .collect();
    cookies.push(("JSESSIONID", &live.value, "127.0.0.1"));
    let export = cookie_export("mtn", &cookies);
    assert!(
        export.len() > 20 * 1024,
        "the jar is {} bytes",
        export.len()
    );
    env.run_stdin(&["import", "mtn"], &export).assert_code(0);
    let out = env.run(&["export", "mtn", "--output-only"]);
    out.assert_code(0);
    assert_eq!(
        decode(&out.stdout)["cookies"].as_array().map(Vec::len),
        Some(41)
    );
    for needle in ["LARGEJARVALUE", live.value.as_str(), out.stdout.trim()] {
        assert!(
            env.files_containing(needle).is_empty(),
            "plaintext on disk: {:?}",
            env.files_containing(needle)
        );
    }
    let home = std::env::var_os("SESSIONKEEPER_TEST_KEYRING_HOME")
        .expect("set by scripts/with-desktop.sh");
    // The keyring daemon's own files (scripts/with-desktop.sh keeps them in a temp dir).
    assert!(files_containing(std::path::Path::new(&home), "LARGEJARVALUE").is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let file = env.data_dir().join("sessionkeeper/sessions/mtn.current");
        let mode = std::fs::metadata(&file)
            .expect("session file")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
}

#[test]
fn extend_moves_the_tracked_expiry_only_for_a_valid_session() {
    require_keychain();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("s-extend");
    env.write_config(&sim_config(&sim));
    let live = import_live_session(&env, &sim);
    let before = decode(&env.run(&["export", "mtn", "--output-only"]).stdout)["expiresAt"].clone();
    env.run(&["extend", "mtn", "--by", "24h"]).assert_code(0);
    let after = decode(&env.run(&["export", "mtn", "--output-only"]).stdout)["expiresAt"].clone();
    let parse = |v: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("string")).expect("time")
    };
    let moved = parse(&after) - parse(&before);
    assert!(moved > chrono::Duration::hours(22), "moved by {moved}");
    sim.expire_session(&live);
    let run = env.run(&["extend", "mtn"]);
    run.assert_code(1);
    assert!(run.stderr.contains("not extended"), "{}", run.stderr);
}

#[test]
fn status_reports_sessions_and_last_checks() {
    require_keychain();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("s-status");
    env.write_config(&sim_config(&sim));
    let live = import_live_session(&env, &sim);
    sim.expire_session(&live);
    env.run(&["validate", "mtn"]).assert_code(1);
    let run = env.run(&["status", "--json"]);
    run.assert_code(0);
    let json = run.json();
    let profiles = json["profiles"].as_array().expect("profiles");
    let mtn = profiles
        .iter()
        .find(|p| p["profile"] == "mtn")
        .expect("mtn");
    assert_eq!(mtn["status"], "invalid");
    assert_eq!(mtn["hasSession"], true);
    let breeze = profiles
        .iter()
        .find(|p| p["profile"] == "breeze")
        .expect("breeze");
    assert_eq!(breeze["hasSession"], false);
    assert!(breeze["status"].is_null());
    assert!(!run.stdout.contains(&live));
}

#[test]
fn status_shows_the_learned_lifetime_once_sessions_have_ended() {
    require_keychain();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("s-learned");
    env.write_config(&sim_config(&sim));
    for round in 0..3 {
        let live = import_live_session(&env, &sim);
        env.run(&["validate", "mtn"]).assert_code(0);
        let before = env.run(&["status", "--json"]).json();
        let mtn = before["profiles"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["profile"] == "mtn"))
            .cloned();
        assert!(
            mtn.expect("mtn")["learnedLifetime"].is_null(),
            "round {round}: too early to learn"
        );
        sim.expire_session(&live);
        // A network fault is no death; only the refusal that follows is.
        sim.set_fault(Fault::status(503).times(2));
        env.run(&["validate", "mtn"]).assert_code(2);
        env.run(&["validate", "mtn"]).assert_code(1);
    }
    let json = env.run(&["status", "--json"]).json();
    let mtn = json["profiles"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["profile"] == "mtn"))
        .cloned()
        .expect("mtn");
    let learned = &mtn["learnedLifetime"];
    assert_eq!(learned["ended"], 3, "{mtn}");
    assert!(
        learned["medianSecs"].as_i64().is_some_and(|s| s >= 0),
        "{learned}"
    );
    assert!(
        learned["suggestedTrackedTtlSecs"].as_i64().is_some(),
        "{learned}"
    );
    let human = env.run(&["status"]);
    assert!(
        human.stdout.contains("sessions really live"),
        "{}",
        human.stdout
    );
}

#[test]
fn learn_offers_the_learned_tracked_ttl_and_apply_writes_it_keeping_comments() {
    use chrono::{Duration, Utc};
    use sessionkeeper_core::check::{Reason, Status};
    use sessionkeeper_core::history::{Event, History};

    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("s-learn");
    let config = sim_config(&sim).replace(
        "tracked_ttl = \"60m\"",
        "# the portal claims an hour\ntracked_ttl = \"60m\"",
    );
    env.write_config(&config);

    let too_early = env.run(&["learn", "mtn"]);
    too_early.assert_code(1);
    assert!(
        too_early.stderr.contains("0 session(s) seen to end"),
        "{}",
        too_early.stderr
    );

    // Ten sessions that lived 3 h … 12 h: seen accepted 5 min before the end, refused 5 min after.
    let history = History::at(&env.root.path().join("state/sessionkeeper"));
    let check = |at, status, reason| Event::Check {
        profile: "mtn".into(),
        at,
        status,
        reason,
        http_status: None,
        tracked_expires_at: None,
    };
    let mut start = Utc::now() - Duration::days(30);
    for hours in 3..=12 {
        let life = Duration::hours(hours);
        for event in [
            Event::Captured {
                profile: "mtn".into(),
                at: start,
                captured_at: start,
                tracked_expires_at: start + Duration::hours(1),
                source: "import".into(),
            },
            check(
                start + life - Duration::minutes(5),
                Status::Valid,
                Reason::Accepted,
            ),
            check(
                start + life + Duration::minutes(5),
                Status::Invalid,
                Reason::Rejected,
            ),
        ] {
            history.append(&event).expect("history");
        }
        start += Duration::days(1);
    }

    let offer = env.run(&["learn", "mtn", "--json"]);
    offer.assert_code(0);
    let json = offer.json();
    assert_eq!(json["learnedLifetime"]["ended"], 10, "{json}");
    assert_eq!(json["learnedLifetime"]["medianSecs"], 7 * 3600, "{json}");
    assert_eq!(json["suggestedTrackedTtl"], "3h", "{json}");
    assert_eq!(json["applied"], false, "{json}");
    assert_eq!(
        std::fs::read_to_string(env.config_path()).expect("config"),
        config
    );
    let human = env.run(&["status"]);
    assert!(
        human.stdout.contains("`sessionkeeper learn mtn --apply`"),
        "{}",
        human.stdout
    );

    env.run(&["learn", "mtn", "--apply"]).assert_code(0);
    let after = std::fs::read_to_string(env.config_path()).expect("config");
    assert!(
        after.contains("# the portal claims an hour\ntracked_ttl = \"3h\""),
        "{after}"
    );
    assert_eq!(
        after.replacen("\"3h\"", "\"60m\"", 1),
        config,
        "only that value changed"
    );
    let status = env.run(&["status", "--json"]).json();
    let mtn = status["profiles"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["profile"] == "mtn"))
        .cloned()
        .expect("mtn");
    assert_eq!(mtn["trackedTtlSecs"], 3 * 3600, "{mtn}");
    assert!(
        env.run(&["learn", "mtn"]).stdout.contains("already \"3h\""),
        "a second --apply has nothing left to do"
    );
}

/// A crash loses nothing: 200 SIGKILLs at random moments of `import`, `restore` and
/// `extend`. After each kill a current session is there, the session that was current
/// before the killed command is still the current or the previous one, and an import that
/// finished made its session the current one.
#[test]
fn two_hundred_kills_mid_import_restore_or_extend_lose_no_stored_session() {
    use sessionkeeper_core::vault::{Slot, Vault};
    use std::process::Stdio;
    use std::time::Duration;
    require_keychain();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("s-kills");
    let text = sim_config(&sim);
    env.write_config(&text);
    import_live_session(&env, &sim);
    let config = sessionkeeper_core::Config::parse(&text, &env.config_path()).expect("loads");
    let profile = &config.profiles["mtn"];
    let vault = Vault::open_isolated(Duration::from_secs(10), &env.service, env.sessions_dir())
        .expect("the test keychain opens");
    // What a slot holds, by its cookie's value (each minted session has its own).
    let held = |slot| {
        vault
            .load_session(profile, slot)
            .expect("the slot reads")
            .map(|s| s.cookies[0].value.expose().to_owned())
    };
    let mut current = held(Slot::Current).expect("the first import stored a session");
    let mut rng_state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state
    };
    let mut finished = [0usize; 3];
    // How long a command takes on this machine now (the tests around it load it): every
    // tenth runs to its end and tells; the kills fall anywhere within that span.
    let mut typical = Duration::from_millis(50);
    let mut interrupted = 0;
    for round in 0..200 {
        let choice = (next() % 3) as usize;
        let minted = sim.mint_session(SessionKind::Cookie, None);
        let args: &[&str] = match choice {
            0 => &["import", "mtn"],
            1 => &["restore", "mtn"],
            _ => &["extend", "mtn"],
        };
        let started = std::time::Instant::now();
        let mut child = env
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        if choice == 0 {
            use std::io::Write as _;
            let export = cookie_export("mtn", &[("JSESSIONID", &minted.value, "127.0.0.1")]);
            let _ = stdin.write_all(export.as_bytes());
        }
        drop(stdin);
        let status = if round % 10 == 9 {
            let status = child.wait().expect("ends");
            typical = (typical + started.elapsed()) / 2;
            status
        } else {
            // Somewhere in its run: before, during or after its writes.
            let span = u64::try_from(typical.as_micros() * 12 / 10)
                .unwrap_or(u64::MAX)
                .max(1);
            std::thread::sleep(Duration::from_micros(next() % span));
            let _ = child.kill();
            let status = child.wait().expect("reaped");
            if !status.success() {
                interrupted += 1;
            }
            status
        };
        if status.success() {
            finished[choice] += 1;
        }
        let now_current = held(Slot::Current)
            .unwrap_or_else(|| panic!("round {round} ({args:?}): no current session"));
        let now_previous = held(Slot::Previous);
        assert!(
            now_current == current || now_previous.as_deref() == Some(current.as_str()),
            "round {round} ({args:?}): the session current before it was lost"
        );
        if choice == 0 && status.success() {
            assert_eq!(
                now_current, minted.value,
                "round {round}: a finished import's session is the current one"
            );
        }
        current = now_current;
    }
    // The kills fell at different moments: some commands finished, some did not.
    assert!(
        interrupted > 50,
        "the kills should fall mid-run: {interrupted} of 180 did ({finished:?} finished)"
    );
    // And the CLI finds it too.
    let json = env.run(&["secret", "status", "--json"]).json();
    let mtn = json["sessions"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["profile"] == "mtn"))
        .cloned()
        .expect("mtn listed");
    assert_eq!(mtn["current"], true, "{mtn}");
    println!(
        "{interrupted} of 180 commands killed mid-run; finished (import, restore, extend): {finished:?}"
    );
}
