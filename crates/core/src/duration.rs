//! Human durations as written in the config file and on the command line: "90s", "60m", "24h",
//! "7d", "500ms", "1h30m".

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// What the error messages say a valid duration looks like.
pub const VALID_DURATIONS: &str = "a whole number followed by ms, s, m, h or d, e.g. \"90s\", \
     \"60m\", \"24h\" or \"1h30m\", at most 3650d";

/// The longest duration anything takes: ten years.
pub const MAX: Duration = Duration::from_secs(3650 * 86_400);

/// A duration written the way people write them in config files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    pub const fn from_mins(mins: u64) -> Self {
        Self(Duration::from_secs(mins * 60))
    }

    pub fn as_chrono(self) -> chrono::Duration {
        chrono::Duration::from_std(self.0).unwrap_or(chrono::Duration::MAX)
    }

    /// `d` rounded down to what people write in a config: whole hours from 2 h ("4h"), whole
    /// minutes below ("50m"), never less than a minute.
    pub fn whole_hours_or_minutes(d: chrono::Duration) -> Self {
        let hours = u64::try_from(d.num_hours()).unwrap_or(0);
        if hours >= 2 {
            Self::from_secs(hours * 3600)
        } else {
            Self::from_mins(u64::try_from(d.num_minutes()).unwrap_or(0).max(1))
        }
    }
}

/// Why a duration did not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid duration {input:?}: expected {VALID_DURATIONS}")]
pub struct DurationError {
    input: String,
}

impl FromStr for HumanDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DurationError {
            input: s.to_owned(),
        };
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(err());
        }
        let mut total = Duration::ZERO;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
            if digits == 0 {
                return Err(err());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| err())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = match &rest[..unit_len] {
                "ms" => Duration::from_millis(1),
                "s" => Duration::from_secs(1),
                "m" => Duration::from_secs(60),
                "h" => Duration::from_secs(3600),
                "d" => Duration::from_secs(86_400),
                _ => return Err(err()),
            };
            rest = &rest[unit_len..];
            let part = unit
                .checked_mul(u32::try_from(n).map_err(|_| err())?)
                .ok_or_else(err)?;
            total = total.checked_add(part).ok_or_else(err)?;
        }
        // Anything longer means "forever" to people, and overflows calendar arithmetic.
        if total > MAX {
            return Err(DurationError {
                input: s.to_owned(),
            });
        }
        Ok(Self(total))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        if !ms.is_multiple_of(1000) {
            return write!(f, "{ms}ms");
        }
        let mut secs = self.0.as_secs();
        for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if secs >= len {
                write!(f, "{}{unit}", secs / len)?;
                secs %= len;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for HumanDuration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// "1h 5m" style rendering of a signed span, for "time left" columns.
pub fn format_span(d: chrono::Duration) -> String {
    let negative = d < chrono::Duration::zero();
    let secs = d.num_seconds().unsigned_abs();
    let text = if secs >= 86_400 {
        format!("{}d {}h", secs / 86_400, secs % 86_400 / 3600)
    } else if secs >= 3600 {
        format!("{}h {}m", secs / 3600, secs % 3600 / 60)
    } else if secs >= 60 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    };
    if negative { format!("-{text}") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_users_write() {
        let p = |s: &str| s.parse::<HumanDuration>().map(|d| d.0);
        assert_eq!(p("60m").ok(), Some(Duration::from_secs(3600)));
        assert_eq!(p("24h").ok(), Some(Duration::from_secs(86_400)));
        assert_eq!(p("1h30m").ok(), Some(Duration::from_secs(5400)));
        assert_eq!(p("500ms").ok(), Some(Duration::from_millis(500)));
        assert_eq!(p("2d").ok(), Some(Duration::from_secs(172_800)));
        for bad in ["", "60", "m", "60x", "1.5h", "-5m", "5 m", "h5"] {
            assert!(p(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn displays_round_trip() {
        for s in ["59m", "1h", "1h30m", "500ms", "1d2h", "45s"] {
            let d: HumanDuration = s.parse().expect("valid");
            assert_eq!(d.to_string(), s);
        }
    }
}
