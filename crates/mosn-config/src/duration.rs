//! Durations written as Go writes them: `"1s"`, `"300ms"`, `"1m30s"`, `"1.5h"`.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative duration read from and written as a Go duration string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(pub Duration);

impl GoDuration {
    pub const fn from_secs(secs: u64) -> Self {
        GoDuration(Duration::from_secs(secs))
    }

    pub const fn get(self) -> Duration {
        self.0
    }
}

const NANOS_PER_UNIT: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses Go's `time.ParseDuration` syntax. Negative durations are refused: no MOSN timeout
/// means anything when negative.
pub fn parse(text: &str) -> Result<Duration, String> {
    let invalid = || {
        format!(
            "invalid duration {text:?} (expected a Go duration such as \"1s\", \"300ms\", \"1m30s\")"
        )
    };
    let mut rest = text;
    if let Some(stripped) = rest.strip_prefix('-') {
        if stripped
            .trim_start_matches(['0', '.'])
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == 'µ' || c == 'μ')
        {
            rest = stripped; // "-0s" is zero, as in Go
        } else {
            return Err(format!("negative duration {text:?} is not allowed"));
        }
    } else if let Some(stripped) = rest.strip_prefix('+') {
        rest = stripped;
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let (number, after) = rest.split_at(number_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let per_unit = NANOS_PER_UNIT
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, n)| *n)
            .ok_or_else(invalid)?;
        total = total
            .checked_add(scale(number, per_unit).ok_or_else(invalid)?)
            .ok_or_else(invalid)?;
        rest = after;
    }
    let nanos = u64::try_from(total).map_err(|_| invalid())?;
    Ok(Duration::from_nanos(nanos))
}

/// `number` (digits with at most one dot) times `per_unit` nanoseconds, truncated like Go.
fn scale(number: &str, per_unit: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut nanos = whole.checked_mul(per_unit)?;
    let mut place = per_unit;
    for digit in fraction.bytes().take(18) {
        place /= 10;
        nanos += u128::from(digit - b'0') * place;
    }
    Some(nanos)
}

/// Formats like Go's `Duration.String()`: `"1m30s"`, `"300ms"`, `"0s"`.
pub fn format(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return with_fraction(nanos, 1_000, "µs");
    }
    if nanos < 1_000_000_000 {
        return with_fraction(nanos, 1_000_000, "ms");
    }
    let hours = nanos / 3_600_000_000_000;
    let minutes = nanos / 60_000_000_000 % 60;
    let seconds = with_fraction(nanos % 60_000_000_000, 1_000_000_000, "s");
    match (hours, minutes) {
        (0, 0) => seconds,
        (0, m) => format!("{m}m{seconds}"),
        (h, m) => format!("{h}h{m}m{seconds}"),
    }
}

fn with_fraction(nanos: u128, per_unit: u128, unit: &str) -> String {
    let whole = nanos / per_unit;
    let rest = nanos % per_unit;
    if rest == 0 {
        return format!("{whole}{unit}");
    }
    let digits = per_unit.ilog10() as usize;
    let fraction = format!("{rest:0digits$}");
    format!("{whole}.{}{unit}", fraction.trim_end_matches('0'))
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format(self.0))
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(self.0))
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = GoDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Go duration string such as \"1s\"")
            }
            /// A bare number needs a unit, as in MOSN; only 0 is a duration without one.
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<GoDuration, E> {
                match n {
                    0 => Ok(GoDuration(Duration::ZERO)),
                    _ => Err(E::custom(format!(
                        "{n} has no unit: write a duration such as \"{n}s\" or \"{n}ms\""
                    ))),
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<GoDuration, E> {
                Err(E::custom(format!("negative duration {n} is not allowed")))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<GoDuration, E> {
                parse(text).map(GoDuration).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// A Go `time.Duration` field: integer nanoseconds in JSON; a Go duration string is taken too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Nanoseconds(pub Duration);

impl Serialize for Nanoseconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(self.0.as_nanos()).unwrap_or(u64::MAX))
    }
}

impl<'de> Deserialize<'de> for Nanoseconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NanosVisitor;
        impl Visitor<'_> for NanosVisitor {
            type Value = Nanoseconds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of nanoseconds or a Go duration string such as \"1s\"")
            }
            fn visit_u64<E: de::Error>(self, nanos: u64) -> Result<Nanoseconds, E> {
                Ok(Nanoseconds(Duration::from_nanos(nanos)))
            }
            fn visit_i64<E: de::Error>(self, nanos: i64) -> Result<Nanoseconds, E> {
                Err(E::custom(format!(
                    "negative duration {nanos} is not allowed"
                )))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Nanoseconds, E> {
                parse(text).map(Nanoseconds).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(NanosVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases = [
            ("1s", Duration::from_secs(1)),
            ("300ms", Duration::from_millis(300)),
            ("1m30s", Duration::from_secs(90)),
            ("1.5h", Duration::from_secs(5400)),
            ("2h45m", Duration::from_secs(9900)),
            ("10us", Duration::from_micros(10)),
            ("10µs", Duration::from_micros(10)),
            ("7ns", Duration::from_nanos(7)),
            (".5s", Duration::from_millis(500)),
            ("0", Duration::ZERO),
            ("-0s", Duration::ZERO),
            ("+5s", Duration::from_secs(5)),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn refuses_bad_and_negative_durations() {
        for text in [
            "",
            "1",
            "s",
            "1x",
            "1.2.3s",
            "-1s",
            "-1m30s",
            "1s2",
            "99999999999h",
        ] {
            assert!(parse(text).is_err(), "{text} should be refused");
        }
        assert!(parse("-1s").unwrap_err().contains("negative"));
    }

    #[test]
    fn formats_like_go() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_millis(300), "300ms"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::from_micros(1500), "1.5ms"),
            (Duration::from_nanos(12), "12ns"),
        ];
        for (duration, want) in cases {
            assert_eq!(format(duration), want);
            assert_eq!(parse(want), Ok(duration), "round trip of {want}");
        }
    }
}
