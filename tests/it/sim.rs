//! The simulator itself behaves like the services it stands for: the SSO's captcha and
//! HttpOnly cookies, server-side lifetimes, the token provider's redirect.

use std::time::Duration;

use sessionkeeper_tests::*;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

async fn captcha(c: &reqwest::Client, sso: &str) -> String {
    let v: serde_json::Value = c
        .post(format!("{sso}/sso/captcha"))
        .send()
        .await
        .expect("captcha")
        .json()
        .await
        .expect("json");
    v["token"].as_str().expect("token").to_owned()
}

async fn login(c: &reqwest::Client, sim: &Sim, captcha: &str, password: &str) -> reqwest::Response {
    let u = sim.urls();
    c.post(&u.sso_login)
        .form(&[
            ("username", "demo"),
            ("password", password),
            ("captcha", captcha),
            ("service", u.portal.as_str()),
        ])
        .send()
        .await
        .expect("login")
}

#[test]
fn sso_login_sets_httponly_cookies_on_each_host() {
    let sim = SimHandle::start(SimConfig::default());
    block(async {
        let c = client();
        let u = sim.urls();
        let page = c
            .get(&u.sso_login)
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(page.contains("I am not a robot") && page.contains("id=\"username\""));
        let token = captcha(&c, &u.sso_origin).await;
        let r = login(&c, &sim, &token, "demo-password").await;
        assert_eq!(r.status(), 302);
        let sso_cookie = r.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            sso_cookie.starts_with("SSO_TICKET=") && sso_cookie.contains("HttpOnly"),
            "{sso_cookie}"
        );
        let portal = r.headers()["location"].to_str().expect("ascii").to_owned();
        assert!(portal.starts_with(&u.portal), "{portal}");
        let r = c.get(&portal).send().await.expect("portal");
        assert_eq!(r.status(), 200);
        let session = r.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            session.starts_with("JSESSIONID=") && session.contains("HttpOnly"),
            "{session}"
        );
        let cookie = session.split(';').next().expect("pair").to_owned();
        let r = c
            .get(&u.products)
            .header("cookie", cookie)
            .send()
            .await
            .expect("api");
        assert_eq!(r.status(), 200);
    });
}

#[test]
fn captcha_is_required_single_use_and_expires() {
    let sim = SimHandle::start(SimConfig {
        captcha_ttl: Duration::from_millis(300),
        ..SimConfig::default()
    });
    block(async {
        let c = client();
        let u = sim.urls();
        let r = login(&c, &sim, "", "demo-password").await;
        assert_eq!(r.status(), 200, "no captcha: the form is shown again");
        assert!(r.text().await.expect("html").contains("Tick"));
        let token = captcha(&c, &u.sso_origin).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let body = login(&c, &sim, &token, "demo-password")
            .await
            .text()
            .await
            .expect("html");
        assert!(
            body.contains("expired") && body.contains("id=\"robot\""),
            "the form stays usable: {body}"
        );
        let token = captcha(&c, &u.sso_origin).await;
        let body = login(&c, &sim, &token, "wrong")
            .await
            .text()
            .await
            .expect("html");
        assert!(body.contains("Invalid username or password"));
        assert_eq!(
            login(&c, &sim, &token, "demo-password").await.status(),
            200,
            "a token is single-use"
        );
    });
}

#[test]
fn sessions_die_on_the_server_after_their_lifetime() {
    let sim = SimHandle::start(SimConfig {
        lifetime: Lifetime::Fixed(Duration::from_millis(300)),
        ..SimConfig::default()
    });
    let minted = sim.mint_session(SessionKind::Cookie, None);
    block(async {
        let c = client();
        let get = || {
            c.get(sim.urls().products)
                .header("cookie", format!("JSESSIONID={}", minted.value))
                .send()
        };
        assert_eq!(get().await.expect("api").status(), 200);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(get().await.expect("api").status(), 401);
    });
    let default = SimConfig::default().lifetime;
    assert_eq!(
        default,
        Lifetime::Uniform {
            min: Duration::from_secs(2 * 3600),
            max: Duration::from_secs(24 * 3600)
        },
        "as the seeds observed"
    );
}

#[test]
fn token_provider_redirects_with_apisession() {
    let sim = SimHandle::start(SimConfig::default());
    block(async {
        let c = client();
        let u = sim.urls();
        let login_url = format!("{}demo-key", u.token_login);
        assert_eq!(c.get(&login_url).send().await.expect("page").status(), 200);
        assert_eq!(
            c.get(format!("{}nope", u.token_login))
                .send()
                .await
                .expect("page")
                .status(),
            400
        );
        let r = c
            .post(&login_url)
            .form(&[("username", "demo"), ("password", "demo-password")])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 302);
        let location =
            url::Url::parse(r.headers()["location"].to_str().expect("ascii")).expect("url");
        assert!(location.as_str().starts_with(&u.token_callback));
        let token = location
            .query_pairs()
            .find(|(k, _)| k == "apisession")
            .map(|(_, v)| v.into_owned())
            .expect("apisession");
        let r = c
            .get(&u.products)
            .header("X-SessionToken", &token)
            .send()
            .await
            .expect("api");
        assert_eq!(r.status(), 200);
    });
}

/// One client per origin: repeated checks reuse one kept-alive connection.
#[test]
fn checks_reuse_one_connection() {
    let sim = SimHandle::start(SimConfig::default());
    let config =
        sessionkeeper_core::Config::parse(&sim_config(&sim), std::path::Path::new("t.toml"))
            .expect("config");
    let profile = config.profile("breeze").expect("breeze").clone();
    let minted = sim.mint_session(SessionKind::Token, None);
    let session = sessionkeeper_core::Session::import(&minted.value, &profile).expect("token");
    block(async {
        let checker = sessionkeeper_core::Checker::new();
        for _ in 0..5 {
            let o = checker
                .check(&profile, Some(&session), chrono::Utc::now())
                .await;
            assert_eq!(o.status, sessionkeeper_core::Status::Valid, "{}", o.detail);
        }
    });
    assert_eq!(sim.requests().len(), 5);
    assert_eq!(sim.connections(), 1, "five checks, one connection");
}
