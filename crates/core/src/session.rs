//! A captured session (cookies or a token, with its tracked expiry) and the export format.
//!
//! The export is base64 (standard alphabet, padded, one line) of a UTF-8 JSON object whose
//! cookie fields are Playwright's storage-state fields, so the consumers of the original
//! scripts (`sessionId`, `expiresAt`, `cookies`) keep working. Exporting an imported export
//! gives back the same bytes: the JSON is written in one canonical form.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::Profile;
use crate::error::ImportError;
use crate::secret::Secret;

/// The export format version this build writes.
pub const EXPORT_VERSION: u64 = 1;

/// One browser cookie with every attribute the browser had, HttpOnly included.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cookie {
    pub name: String,
    pub value: Secret,
    /// Playwright's convention: a leading dot is a domain cookie, none is host-only.
    pub domain: String,
    #[serde(default = "root_path")]
    pub path: String,
    /// Unix seconds; -1 is a session cookie.
    #[serde(default = "session_cookie", serialize_with = "write_expires")]
    pub expires: f64,
    #[serde(default)]
    pub http_only: bool,
    #[serde(default)]
    pub secure: bool,
    #[serde(default)]
    pub same_site: SameSite,
}

impl std::fmt::Debug for Cookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cookie")
            .field("name", &self.name)
            .field("value", &self.value)
            .field("domain", &self.domain)
            .field("path", &self.path)
            .field("expires", &self.expires)
            .field("http_only", &self.http_only)
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SameSite {
    Strict,
    #[default]
    Lax,
    None,
}

fn root_path() -> String {
    "/".to_owned()
}

fn session_cookie() -> f64 {
    -1.0
}

/// Whole seconds print as integers (`-1`, not `-1.0`), as Playwright writes them.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's serialize_with signature
fn write_expires<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

impl Cookie {
    pub fn is_session_cookie(&self) -> bool {
        self.expires < 0.0
    }

    /// Whether the cookie has expired at `now` (session cookies never do here).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        #[allow(clippy::cast_precision_loss)]
        let now = now.timestamp() as f64;
        !self.is_session_cookie() && self.expires <= now
    }
}

/// A captured session and what is known of its life.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub profile: String,
    /// The value of the profile's `session_id_cookie`, when there is one (the seeds' `sessionId`).
    pub session_id: Option<Secret>,
    pub captured_at: DateTime<Utc>,
    /// The conservative, tracked expiry (`captured_at + tracked_ttl`, or moved by `extend`).
    pub expires_at: DateTime<Utc>,
    pub cookies: Vec<Cookie>,
    pub token: Option<Secret>,
}

/// The exported JSON, field for field (the contract's "Export format").
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportDoc {
    version: u64,
    profile: String,
    session_id: Option<Secret>,
    #[serde(serialize_with = "write_time")]
    captured_at: DateTime<Utc>,
    #[serde(serialize_with = "write_time")]
    expires_at: DateTime<Utc>,
    cookies: Vec<Cookie>,
    token: Option<Secret>,
}

fn write_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// What `import` accepts as JSON: our export (version 1), a Playwright storage state
/// (`cookies` + `origins`), the original scripts' session file, or `{"token": "…"}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportDoc {
    version: Option<u64>,
    profile: Option<String>,
    session_id: Option<Secret>,
    captured_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    cookies: Vec<Cookie>,
    token: Option<Secret>,
}

/// `expiresAt` may be an RFC 3339 string or Unix milliseconds (as JavaScript writes `Date.now()`).
fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum T {
        Text(DateTime<Utc>),
        Millis(i64),
    }
    Ok(match Option::<T>::deserialize(d)? {
        None => None,
        Some(T::Text(t)) => Some(t),
        Some(T::Millis(ms)) => DateTime::from_timestamp_millis(ms),
    })
}

impl Session {
    /// A session captured at `now` for `profile`, tracked for the profile's `tracked_ttl`.
    pub fn captured(
        profile: &Profile,
        cookies: Vec<Cookie>,
        token: Option<Secret>,
        now: DateTime<Utc>,
    ) -> Self {
        let now = crate::clock::whole_seconds(now);
        let session_id = profile.session_id_cookie.as_ref().and_then(|name| {
            cookies
                .iter()
                .find(|c| &c.name == name)
                .map(|c| c.value.clone())
        });
        Self {
            profile: profile.id.clone(),
            session_id,
            captured_at: now,
            expires_at: now + profile.tracked_ttl.as_chrono(),
            cookies,
            token,
        }
    }

    /// The canonical export JSON (UTF-8). It holds secrets: handle as a [`Secret`].
    pub fn to_json(&self) -> Secret {
        let doc = ExportDoc {
            version: EXPORT_VERSION,
            profile: self.profile.clone(),
            session_id: self.session_id.clone(),
            captured_at: self.captured_at,
            expires_at: self.expires_at,
            cookies: self.cookies.clone(),
            token: self.token.clone(),
        };
        Secret::new(serde_json::to_string(&doc).expect("export doc always serialises"))
    }

    /// The export: base64 (standard, padded, one line) of [`Session::to_json`].
    pub fn export(&self) -> Secret {
        Secret::new(STANDARD.encode(self.to_json().expose()))
    }

    /// Reads back what [`Session::to_json`] wrote (the vault's own files): the export JSON
    /// exactly, with no profile to fill gaps from. Errors never echo the input.
    pub fn from_export_json(text: &str) -> Result<Self, ImportError> {
        let doc: ExportDoc =
            serde_json::from_str(text).map_err(|e| ImportError::BadJson(json_error(&e)))?;
        if doc.version != EXPORT_VERSION {
            return Err(ImportError::UnsupportedVersion(doc.version));
        }
        Ok(Self {
            profile: doc.profile,
            session_id: doc.session_id,
            captured_at: doc.captured_at,
            expires_at: doc.expires_at,
            cookies: doc.cookies,
            token: doc.token,
        })
    }

    /// Read a session for `profile` from what a person pasted: an export, JSON, or a bare token.
    /// Surrounding whitespace and line breaks (as terminals wrap base64) are ignored.
    pub fn import(input: &str, profile: &Profile) -> Result<Self, ImportError> {
        Self::import_at(input, profile, Utc::now())
    }

    /// [`Session::import`], where an input that says nothing of its capture (a bare token, a
    /// storage state) counts as captured at `now`.
    pub fn import_at(
        input: &str,
        profile: &Profile,
        now: DateTime<Utc>,
    ) -> Result<Self, ImportError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ImportError::Empty);
        }
        if trimmed.starts_with('{') {
            return Self::from_json(trimmed, profile, now);
        }
        let compact: String = trimmed
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        match decode_base64(&compact) {
            Ok(bytes) => {
                let looks_like_json =
                    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
                if looks_like_json {
                    let text = String::from_utf8(bytes).map_err(|_| ImportError::NotJson)?;
                    return Self::from_json(&text, profile, now);
                }
                // A token may well be valid base64 (e.g. a random 24-byte value).
                if profile.is_token() && is_token_shaped(trimmed) {
                    return Ok(Self::captured(
                        profile,
                        Vec::new(),
                        Some(Secret::new(trimmed)),
                        now,
                    ));
                }
                Err(ImportError::NotJson)
            }
            Err(detail) => {
                if is_token_shaped(trimmed) {
                    if profile.is_token() {
                        return Ok(Self::captured(
                            profile,
                            Vec::new(),
                            Some(Secret::new(trimmed)),
                            now,
                        ));
                    }
                    return Err(ImportError::TokenForCookieProfile {
                        profile: profile.id.clone(),
                    });
                }
                Err(ImportError::Unrecognised { detail })
            }
        }
    }

    fn from_json(text: &str, profile: &Profile, now: DateTime<Utc>) -> Result<Self, ImportError> {
        let doc: ImportDoc =
            serde_json::from_str(text).map_err(|e| ImportError::BadJson(json_error(&e)))?;
        if let Some(v) = doc.version
            && v != EXPORT_VERSION
        {
            return Err(ImportError::UnsupportedVersion(v));
        }
        if let Some(found) = doc.profile
            && found != profile.id
        {
            return Err(ImportError::WrongProfile {
                expected: profile.id.clone(),
                found,
            });
        }
        let token = doc.token.filter(|t| !t.is_empty());
        if doc.cookies.is_empty() && token.is_none() {
            return Err(ImportError::NoCredentials);
        }
        let mut session = Self::captured(profile, doc.cookies, token, now);
        if let Some(id) = doc.session_id {
            session.session_id = Some(id);
        }
        if let Some(at) = doc.captured_at {
            session.captured_at = at;
            session.expires_at = at + profile.tracked_ttl.as_chrono();
        }
        if let Some(at) = doc.expires_at {
            session.expires_at = at;
        }
        Ok(session)
    }

    /// Time left until the tracked expiry (negative once past).
    pub fn time_left(&self, now: DateTime<Utc>) -> chrono::Duration {
        self.expires_at - now
    }
}

/// What went wrong in a JSON input, by kind and position only: serde's own messages quote the
/// offending value (`invalid type: string "JSESSIONID=…"`), and the input is a secret.
fn json_error(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Eof => "the JSON ends too early",
        serde_json::error::Category::Data => {
            "a field has the wrong type or a required one is missing"
        }
        serde_json::error::Category::Io => "it could not be read",
    };
    format!("{what} (line {}, column {})", e.line(), e.column())
}

/// Standard or URL-safe alphabet, with or without padding. Errors say where, never what.
fn decode_base64(s: &str) -> Result<Vec<u8>, String> {
    let lenient =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let standard = GeneralPurpose::new(&base64::alphabet::STANDARD, lenient);
    let url_safe = GeneralPurpose::new(&base64::alphabet::URL_SAFE, lenient);
    standard
        .decode(s)
        .or_else(|_| url_safe.decode(s))
        .or_else(|_| URL_SAFE.decode(s))
        .map_err(|e| match e {
            base64::DecodeError::InvalidByte(at, _) => {
                format!("invalid character at position {at}")
            }
            base64::DecodeError::InvalidLength(n) => format!("invalid length {n}"),
            base64::DecodeError::InvalidLastSymbol(at, _) => {
                format!("invalid last symbol at position {at}")
            }
            base64::DecodeError::InvalidPadding => "invalid padding".to_owned(),
        })
}

/// One line of printable, non-space ASCII: what API session tokens look like.
fn is_token_shaped(s: &str) -> bool {
    (8..=4096).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    fn config() -> Config {
        Config::parse(
            r#"
[profiles.mtn]
login_url = "https://sso.example.net/login"
cookie_urls = ["https://wholesale.example.net/"]
session_id_cookie = "JSESSIONID"
[profiles.breeze]
login_url = "https://api.example.in/apiuser/login"
capture = "redirect-param"
redirect_param = "apisession"
"#,
            Path::new("t.toml"),
        )
        .expect("valid")
    }

    const CONTRACT_JSON: &str = r#"{
  "version": 1,
  "profile": "mtn",
  "sessionId": "C97A5AC99A3275D7BC234E1C5A43303D",
  "capturedAt": "2025-10-18T18:00:00Z",
  "expiresAt": "2025-10-18T19:00:00Z",
  "cookies": [
    {"name": "JSESSIONID", "value": "C97A5AC99A3275D7BC234E1C5A43303D", "domain": "wholesale.example.net", "path": "/",
     "expires": -1, "httpOnly": true, "secure": true, "sameSite": "Lax"}
  ],
  "token": null
}"#;

    #[test]
    fn export_import_round_trips_byte_for_byte() {
        let c = config();
        let mtn = c.profile("mtn").expect("mtn");
        let s = Session::import(CONTRACT_JSON, mtn).expect("contract JSON imports");
        let first = s.export();
        // Wrapped at 76 columns with a trailing newline, as `base64` and terminals do.
        let wrapped: String = first
            .expose()
            .as_bytes()
            .chunks(76)
            .map(|c| format!("{}\n", std::str::from_utf8(c).expect("ascii")))
            .collect();
        let again = Session::import(&format!("  {wrapped}\n"), mtn).expect("export imports");
        assert_eq!(again, s);
        assert_eq!(again.export().expose(), first.expose());
        assert!(!first.expose().contains('\n'));
    }

    #[test]
    fn export_json_has_the_fields_consumers_read() {
        let c = config();
        let s = Session::import(CONTRACT_JSON, c.profile("mtn").expect("mtn")).expect("imports");
        let json: serde_json::Value =
            serde_json::from_str(s.to_json().expose()).expect("export is JSON");
        assert_eq!(json["version"], 1);
        assert_eq!(json["sessionId"], "C97A5AC99A3275D7BC234E1C5A43303D");
        assert_eq!(json["capturedAt"], "2025-10-18T18:00:00Z");
        assert_eq!(json["expiresAt"], "2025-10-18T19:00:00Z");
        let cookie = &json["cookies"][0];
        for (k, v) in [
            ("name", serde_json::json!("JSESSIONID")),
            ("domain", serde_json::json!("wholesale.example.net")),
            ("path", serde_json::json!("/")),
            ("expires", serde_json::json!(-1)),
            ("httpOnly", serde_json::json!(true)),
            ("secure", serde_json::json!(true)),
            ("sameSite", serde_json::json!("Lax")),
        ] {
            assert_eq!(cookie[k], v, "cookie field {k}");
        }
        assert!(json["token"].is_null());
        assert!(s.to_json().expose().contains(r#""expires":-1,"#));
    }

    #[test]
    fn garbage_is_rejected_without_echoing_it() {
        let c = config();
        let mtn = c.profile("mtn").expect("mtn");
        let err = Session::import("not base64 at all! s3cr3t", mtn).expect_err("garbage");
        assert!(matches!(err, ImportError::Unrecognised { .. }), "{err}");
        assert!(!err.to_string().contains("s3cr3t"));
        assert_eq!(Session::import(" \n ", mtn), Err(ImportError::Empty));
        let not_json = STANDARD.encode("hello world, not json");
        assert_eq!(Session::import(&not_json, mtn), Err(ImportError::NotJson));
        let bad = STANDARD.encode(r#"{"cookies": [{"name": 5}]}"#);
        assert!(matches!(
            Session::import(&bad, mtn),
            Err(ImportError::BadJson(_))
        ));
        let other = CONTRACT_JSON.replace("\"mtn\"", "\"breeze\"");
        assert!(matches!(
            Session::import(&other, mtn),
            Err(ImportError::WrongProfile { .. })
        ));
        assert!(matches!(
            Session::import("abcdefgh12345678!", mtn),
            Err(ImportError::TokenForCookieProfile { .. })
        ));
    }

    #[test]
    fn a_bare_token_is_a_token_session_for_token_profiles() {
        let c = config();
        let breeze = c.profile("breeze").expect("breeze");
        let s = Session::import("  53728190\n", breeze).expect("token");
        assert_eq!(s.token.as_ref().map(Secret::expose), Some("53728190"));
        assert!(s.cookies.is_empty());
        assert_eq!(s.expires_at - s.captured_at, chrono::Duration::hours(1));
    }

    #[test]
    fn playwright_storage_state_imports() {
        let c = config();
        let state = r#"{"cookies":[{"name":"JSESSIONID","value":"x1","domain":".example.net",
            "path":"/","expires":1760810400.5,"httpOnly":true,"secure":true,"sameSite":"None"}],
            "origins":[]}"#;
        let s = Session::import(state, c.profile("mtn").expect("mtn")).expect("storage state");
        assert_eq!(s.session_id.as_ref().map(Secret::expose), Some("x1"));
        assert!(s.to_json().expose().contains("1760810400.5"));
    }

    #[test]
    fn debug_never_shows_values() {
        let c = config();
        let s = Session::import(CONTRACT_JSON, c.profile("mtn").expect("mtn")).expect("imports");
        let shown = format!("{s:?}");
        assert!(!shown.contains("C97A5AC9"), "{shown}");
    }
}
