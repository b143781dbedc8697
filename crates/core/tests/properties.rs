//! Property tests of what reads untrusted input (the hardening issue): config durations and
//! numbers, `Session::import`, cookie matching against RFC 6265's rules, and history parsing.
//! Fixed case counts and no failure files, so CI runs the same amount of work every time.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::Config as Cases;
use sessionkeeper_core::config::{Config, Profile};
use sessionkeeper_core::cookies::cookies_for_url;
use sessionkeeper_core::duration::HumanDuration;
use sessionkeeper_core::history::{Event, parse_events};
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::session::{Cookie, SameSite, Session};

fn cases(n: u32) -> Cases {
    Cases {
        cases: n,
        failure_persistence: None,
        ..Cases::default()
    }
}

fn cookie_profile() -> Profile {
    Config::parse(
        "[profiles.mtn]\ncapture = \"manual\"\ncookie_urls = [\"https://api.example.com/\"]\n",
        Path::new("config.toml"),
    )
    .expect("config")
    .profiles["mtn"]
        .clone()
}

/// A duration as someone might write one, right or wrong.
fn duration_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            0u64..=u64::MAX,
            prop::sample::select(vec!["ms", "s", "m", "h", "d", ""])
        )
            .prop_map(|(n, unit)| format!("{n}{unit}")),
        (0u64..100_000, 0u64..100_000).prop_map(|(h, m)| format!("{h}h{m}m")),
        "[0-9a-z ]{0,12}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(cases(512))]

    /// No duration text panics (chrono overflowed beyond ~95,000,000 days); what parses fits
    /// in a chrono duration.
    #[test]
    fn a_duration_text_never_panics_and_what_parses_is_usable(text in duration_text()) {
        if let Ok(d) = text.parse::<HumanDuration>() {
            let _ = d.as_chrono();
        }
    }

    /// A config with any duration or number in a profile loads or says where it is wrong
    /// (the file, a line, the key): it never panics.
    #[test]
    fn a_config_with_any_timing_loads_or_names_the_key(
        key in prop::sample::select(vec!["poll_every", "tracked_ttl", "warn_before"]),
        text in duration_text(),
        attempts in any::<i64>(),
    ) {
        let toml = format!(
            "[profiles.mtn]\ncapture = \"manual\"\ncookie_urls = [\"https://h.example/\"]\n\
             {key} = {text:?}\n[profiles.mtn.validate]\nurl = \"https://h.example/api\"\n\
             attempts = {attempts}\n"
        );
        match Config::parse(&toml, Path::new("config.toml")) {
            Ok(config) => {
                let p = &config.profiles["mtn"];
                let _ = (p.poll_every.as_chrono(), p.tracked_ttl.as_chrono(), p.warn_before.as_chrono());
            }
            Err(e) => {
                let e = e.to_string();
                prop_assert!(e.contains("config.toml:"), "{e}");
            }
        }
    }

    /// `Session::import` never panics on any text, and its error never quotes the input.
    #[test]
    fn an_import_never_panics_and_its_error_never_echoes_the_input(
        secret in "[A-Za-z0-9]{24,40}",
        shape in 0usize..6,
    ) {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let input = match shape {
            0 => format!("JSESSIONID={secret}"),
            1 => b64(&format!("{{\"cookies\": \"{secret}\"}}")),
            2 => b64(&format!("{{\"cookies\": [{{\"name\": 7, \"value\": \"{secret}\"}}]}}")),
            3 => b64(&format!("[\"{secret}\"]")),
            4 => format!("{{\"token\": {secret}}}"),
            _ => b64(&format!("{{\"version\": 1, \"cookies\": [], \"x\": \"{secret}\"")),
        };
        if let Err(e) = Session::import(&input, &cookie_profile()) {
            let e = e.to_string();
            prop_assert!(!e.contains(&secret), "the error quotes the input: {e}");
            prop_assert!(!e.contains(&input), "the error quotes the input: {e}");
        }
    }

    /// Any bytes at all: no panic.
    #[test]
    fn an_import_of_any_text_never_panics(input in any::<String>()) {
        let _ = Session::import(&input, &cookie_profile());
    }
}

/// Host names from a few labels, so that matches and near misses are both common.
fn host() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["a", "b", "ab", "example", "com"]),
        1..4,
    )
    .prop_map(|labels| labels.join("."))
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!["a", "ab", "b", ""]), 0..3)
        .prop_map(|segments| format!("/{}", segments.join("/")))
}

/// RFC 6265 §5.1.3 domain-match, written from the RFC for this test (no IP hosts here).
fn rfc_domain_match(cookie_domain: &str, host: &str) -> bool {
    match cookie_domain.strip_prefix('.') {
        // A domain cookie: the host is the domain or below it.
        Some(d) => host == d || host.ends_with(&format!(".{d}")),
        // Host-only: exactly that host.
        None => host == cookie_domain,
    }
}

/// RFC 6265 §5.1.4 path-match.
fn rfc_path_match(cookie_path: &str, request_path: &str) -> bool {
    cookie_path == request_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/')
                || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/')))
}

proptest! {
    #![proptest_config(cases(1024))]

    /// A cookie is sent exactly when RFC 6265 says a browser would send it: domain-match,
    /// path-match, Secure only over https, not once expired.
    #[test]
    fn a_cookie_is_sent_exactly_where_rfc_6265_sends_it(
        cookie_host in host(),
        domain_cookie in any::<bool>(),
        upper in any::<bool>(),
        cookie_path in path(),
        request_host in host(),
        request_path in path(),
        https in any::<bool>(),
        secure in any::<bool>(),
        expired in any::<bool>(),
    ) {
        let now = chrono::Utc::now();
        let domain = if domain_cookie { format!(".{cookie_host}") } else { cookie_host.clone() };
        let cookie = Cookie {
            name: "SID".to_owned(),
            value: Secret::new("v".to_owned()),
            domain: if upper { domain.to_ascii_uppercase() } else { domain.clone() },
            path: cookie_path.clone(),
            expires: if expired { (now.timestamp() - 60) as f64 } else { -1.0 },
            http_only: false,
            secure,
            same_site: SameSite::default(),
        };
        let scheme = if https { "https" } else { "http" };
        let url = url::Url::parse(&format!("{scheme}://{request_host}{request_path}")).expect("url");
        let jar = [cookie];
        let sent = !cookies_for_url(&jar, &url, now).is_empty();
        let expected = rfc_domain_match(&domain, &request_host)
            && rfc_path_match(&cookie_path, url.path())
            && (!secure || https)
            && !expired;
        prop_assert_eq!(sent, expected, "{} {} → {}", domain, cookie_path, url);
    }
}

fn event(i: u32) -> Event {
    Event::Restored {
        profile: format!("p{i}"),
        at: chrono::DateTime::from_timestamp(1_760_000_000 + i64::from(i), 0).expect("time"),
    }
}

proptest! {
    #![proptest_config(cases(512))]

    /// Any bytes: no panic.
    #[test]
    fn history_parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_events(&bytes);
    }

    /// Good lines among garbage (torn writes, binary, another build's events): every good
    /// line is read, in order, and the garbage costs only itself.
    #[test]
    fn a_damaged_history_line_costs_only_itself(
        lines in prop::collection::vec(
            prop_oneof![
                (0u32..1000).prop_map(Ok),
                prop::collection::vec(any::<u8>(), 0..60).prop_map(Err),
            ],
            0..40,
        ),
    ) {
        let mut bytes = Vec::new();
        let mut expected = Vec::new();
        for line in &lines {
            match line {
                Ok(i) => {
                    bytes.extend(serde_json::to_vec(&event(*i)).expect("json"));
                    expected.push(event(*i));
                }
                Err(garbage) => {
                    // Never a newline inside, and never a whole JSON event by chance.
                    bytes.push(b'#');
                    bytes.extend(garbage.iter().filter(|b| **b != b'\n'));
                }
            }
            bytes.push(b'\n');
        }
        prop_assert_eq!(parse_events(&bytes), expected);
    }
}
