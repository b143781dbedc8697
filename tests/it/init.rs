//! `sessionkeeper init` in a pseudo-terminal, as a person answers it (the terminal echoes what
//! is typed, as a real one does): the profile it writes loads and works, the secrets go into
//! the keychain, and no secret is echoed or written to a file.

use sessionkeeper_tests::{SessionKind, SimConfig, SimHandle, TestEnv, cli_binary};

const PASSWORD: &str = "pty-sso-password-0123";
const TOKEN: &str = "ghp_pty_token_0123456789";

/// A terminal session: every answer sent after its prompt, everything shown kept.
struct Pty {
    session: rexpect::session::PtySession,
    shown: String,
}

impl Pty {
    #[track_caller]
    fn answer(&mut self, prompt: &str, line: &str) {
        let before = self
            .session
            .exp_string(prompt)
            .unwrap_or_errexpect(prompt, &self.shown);
        self.shown.push_str(&before);
        self.shown.push_str(prompt);
        self.session.send_line(line).expect("type the answer");
    }
}

trait OrShown<T> {
    fn unwrap_or_errexpect(self, prompt: &str, shown: &str) -> T;
}

impl<T> OrShown<T> for Result<T, rexpect::error::Error> {
    #[track_caller]
    fn unwrap_or_errexpect(self, prompt: &str, shown: &str) -> T {
        self.unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}\n--- shown ---\n{shown}"))
    }
}

#[test]
fn init_in_a_terminal_writes_a_profile_that_loads_and_echoes_no_secret() {
    sessionkeeper_tests::require_keychain();
    let sim = SimHandle::start(SimConfig::default());
    let u = sim.urls();
    let env = TestEnv::new("init");
    // `stty echo`: rexpect's pty starts with echo off; a person's terminal has it on.
    let mut cmd = env.command_for(std::path::Path::new("sh"));
    cmd.args(["-c", "stty echo && exec \"$0\" init"])
        .arg(cli_binary());
    let session = rexpect::session::spawn_command(cmd, Some(30_000)).expect("spawn in a pty");
    let mut t = Pty {
        session,
        shown: String::new(),
    };
    t.answer("Name of the session (e.g. MTN Wholesale): ", "Sim Portal");
    t.answer("Profile id [sim-portal]: ", "");
    t.answer("Login page URL: ", "http://sso.example.com/login");
    // Refused (plain http to another host), asked again.
    t.answer("Login page URL: ", &u.sso_login);
    t.answer("(it proves the session works; empty: none): ", &u.products);
    t.answer("cookies, redirect-param or manual [cookies]: ", "");
    t.answer("Page a completed login lands on (empty: skip): ", &u.portal);
    t.answer(
        &format!("URL whose cookies are the session [{}/]: ", u.api_origin),
        "",
    );
    t.answer(
        "Name of the session cookie (e.g. JSESSIONID): ",
        "JSESSIONID",
    );
    t.answer("Status of a live session [200]: ", "");
    t.answer("Status of a dead one [401,403]: ", "");
    t.answer("(pre-filled in the login window; empty to skip): ", "demo");
    t.answer("SSO password (not shown, empty to skip): ", PASSWORD);
    t.answer("username field [#username]: ", "");
    t.answer("password field [#password]: ", "");
    t.answer("repository OWNER/REPO (empty: no): ", "acme/circletel");
    t.answer("Secret name [SIM_PORTAL_SESSION]: ", "GITHUB_SESSION");
    t.answer("Secret name [SIM_PORTAL_SESSION]: ", "");
    t.answer("GitHub API URL [https://api.github.com]: ", &u.github_api);
    t.answer(
        "GitHub token (secrets: write) (not shown, empty to skip): ",
        TOKEN,
    );
    let rest = t.session.exp_eof().unwrap_or_errexpect("the end", &t.shown);
    t.shown.push_str(&rest);
    let shown = t.shown;

    // The terminal echoed what was typed (so the check below can fail), but no secret.
    assert!(shown.contains(&u.sso_login), "answers are echoed:\n{shown}");
    assert!(shown.contains("must not start with GITHUB_"), "{shown}");
    assert!(shown.contains("only allowed for loopback"), "{shown}");
    assert!(shown.contains("Profile sim-portal written"), "{shown}");
    assert!(
        !shown.contains(PASSWORD),
        "the password was echoed:\n{shown}"
    );
    assert!(!shown.contains(TOKEN), "the token was echoed:\n{shown}");

    let config = sessionkeeper_core::Config::load(&env.config_path()).expect("the profile loads");
    let p = &config.profiles["sim-portal"];
    assert_eq!(p.session_id_cookie.as_deref(), Some("JSESSIONID"));
    assert_eq!(p.push.len(), 1);
    assert!(
        env.files_containing(PASSWORD).is_empty(),
        "no password in a file"
    );
    assert!(env.files_containing(TOKEN).is_empty(), "no token in a file");
    let status = env.run(&["secret", "status", "--json"]).json();
    for name in [
        "profile:sim-portal:password",
        "profile:sim-portal:username",
        "account:github",
    ] {
        let item = status["secrets"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["name"] == name))
            .unwrap_or_else(|| panic!("{name} listed: {status}"));
        assert_eq!(item["source"], "keychain", "{item}");
    }
    // The profile works: a live session validates.
    let cookie = sim.mint_session(SessionKind::Cookie, None);
    let export = sessionkeeper_tests::cookie_export(
        "sim-portal",
        &[("JSESSIONID", &cookie.value, "127.0.0.1")],
    );
    env.run_stdin(&["import", "sim-portal"], &export)
        .assert_code(0);
    env.run(&["validate", "sim-portal"]).assert_code(0);
}
