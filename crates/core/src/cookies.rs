//! Which cookies a browser would send with a request (RFC 6265 §5.4), so that a check sends the
//! API host only its own cookies: an SSO ticket of the login host never travels to the API.

use chrono::{DateTime, Utc};
use url::Url;

use crate::secret::Secret;
use crate::session::Cookie;

/// The cookies a browser would attach to a request for `url` at `now`, longest path first.
pub fn cookies_for_url<'a>(
    cookies: &'a [Cookie],
    url: &Url,
    now: DateTime<Utc>,
) -> Vec<&'a Cookie> {
    let Some(host) = url.host_str() else {
        return Vec::new();
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let secure_channel = url.scheme() == "https";
    let mut matched: Vec<&Cookie> = cookies
        .iter()
        .filter(|c| domain_matches(&c.domain, &host))
        .filter(|c| path_matches(&c.path, url.path()))
        .filter(|c| !c.secure || secure_channel)
        .filter(|c| !c.is_expired(now))
        .collect();
    // RFC 6265 §5.4 step 2: longer paths first; the sort is stable, so ties keep jar order.
    matched.sort_by_key(|c| std::cmp::Reverse(c.path.len()));
    matched
}

/// The `Cookie` request header for these cookies, or `None` when there are none. Built in
/// one buffer that is zeroed when dropped: the values are never copied elsewhere.
pub fn cookie_header(cookies: &[&Cookie]) -> Option<Secret> {
    if cookies.is_empty() {
        return None;
    }
    let size = cookies
        .iter()
        .map(|c| c.name.len() + c.value.len() + 3)
        .sum();
    let mut header = zeroize::Zeroizing::new(String::with_capacity(size));
    for (i, c) in cookies.iter().enumerate() {
        if i > 0 {
            header.push_str("; ");
        }
        header.push_str(&c.name);
        header.push('=');
        header.push_str(c.value.expose());
    }
    Some(Secret::from_zeroizing(header))
}

/// Playwright's convention: `.example.com` is a domain cookie (the host and its subdomains),
/// `example.com` is host-only (that host exactly).
fn domain_matches(cookie_domain: &str, host: &str) -> bool {
    let cookie_domain = cookie_domain.to_ascii_lowercase();
    match cookie_domain.strip_prefix('.') {
        Some(domain) => {
            host == domain
                || (host.ends_with(domain)
                    && host.as_bytes().get(host.len() - domain.len() - 1) == Some(&b'.')
                    && host.parse::<std::net::IpAddr>().is_err())
        }
        None => host == cookie_domain,
    }
}

/// RFC 6265 §5.1.4 path-match.
fn path_matches(cookie_path: &str, request_path: &str) -> bool {
    let request_path = if request_path.is_empty() {
        "/"
    } else {
        request_path
    };
    if cookie_path == request_path {
        return true;
    }
    request_path.starts_with(cookie_path)
        && (cookie_path.ends_with('/') || request_path[cookie_path.len()..].starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::session::SameSite;

    fn cookie(name: &str, domain: &str, path: &str, secure: bool, expires: f64) -> Cookie {
        Cookie {
            name: name.into(),
            value: Secret::new(format!("v-{name}")),
            domain: domain.into(),
            path: path.into(),
            expires,
            http_only: true,
            secure,
            same_site: SameSite::Lax,
        }
    }

    fn names(cs: &[Cookie], url: &str) -> Vec<String> {
        let url = Url::parse(url).expect("url");
        let now = DateTime::from_timestamp(1_000_000, 0).expect("time");
        cookies_for_url(cs, &url, now)
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }

    #[test]
    fn login_host_cookies_stay_on_the_login_host() {
        let jar = vec![
            cookie("SSO_TICKET", "sso.example.net", "/", true, -1.0),
            cookie("JSESSIONID", "wholesale.example.net", "/", true, -1.0),
        ];
        assert_eq!(
            names(&jar, "https://wholesale.example.net/api/products"),
            ["JSESSIONID"]
        );
        assert_eq!(names(&jar, "https://sso.example.net/login"), ["SSO_TICKET"]);
    }

    #[test]
    fn host_only_and_domain_cookies() {
        let jar = vec![
            cookie("a", "example.net", "/", false, -1.0),
            cookie("b", ".example.net", "/", false, -1.0),
        ];
        assert_eq!(names(&jar, "http://example.net/"), ["a", "b"]);
        assert_eq!(names(&jar, "http://api.example.net/"), ["b"]);
        assert!(names(&jar, "http://badexample.net/").is_empty());
    }

    #[test]
    fn path_secure_and_expiry_rules() {
        let jar = vec![
            cookie("root", "h.net", "/", false, -1.0),
            cookie("api", "h.net", "/api", false, -1.0),
            cookie("sec", "h.net", "/", true, -1.0),
            cookie("old", "h.net", "/", false, 999_999.0),
            cookie("fresh", "h.net", "/", false, 1_000_001.0),
        ];
        assert_eq!(
            names(&jar, "https://h.net/api/x"),
            ["api", "root", "sec", "fresh"]
        );
        assert_eq!(names(&jar, "http://h.net/apix"), ["root", "fresh"]);
        assert_eq!(names(&jar, "http://h.net/api"), ["api", "root", "fresh"]);
    }

    #[test]
    fn header_joins_pairs() {
        let jar = [
            cookie("a", "h", "/", false, -1.0),
            cookie("b", "h", "/", false, -1.0),
        ];
        let refs: Vec<&Cookie> = jar.iter().collect();
        assert_eq!(
            cookie_header(&refs).as_ref().map(Secret::expose),
            Some("a=v-a; b=v-b")
        );
        assert!(cookie_header(&[]).is_none());
    }
}
