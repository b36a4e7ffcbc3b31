//! Time: everything is stored in UTC; a display zone is applied only when grouping.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// `YYYY-MM-DDTHH:MM:SSZ`, the register's and CLEO's timestamp format.
pub fn format_register_timestamp(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses what the register may hold: RFC 3339 with `Z` or an offset, with or
/// without fractions, or a naive date-time, which the register defines as UTC.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Some(ts) = parse_compact_utc(text.as_bytes()) {
        return Ok(ts);
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return four_digit_year(ts);
    }
    let naive = text.replacen(' ', "T", 1);
    match naive.parse::<DateTime>() {
        Ok(dt) => dt
            .to_zoned_datetime(TimeZone::UTC)
            .map_err(|e| e.to_string())
            .and_then(|z| four_digit_year(z.timestamp())),
        Err(_) => Err("expected an ISO 8601 UTC time like 2026-02-05T20:00:00Z".to_string()),
    }
}

/// A time before the year 0000 would be written back as `-001-…`, which
/// nothing reads: refused here, so it is never written.
fn four_digit_year(ts: Timestamp) -> Result<Timestamp, String> {
    // 0000-01-01T00:00:00Z
    const YEAR_ZERO: i64 = -62_167_219_200;
    if ts.as_second() < YEAR_ZERO {
        return Err("the year is before 0000; expected a time like 2026-02-05T20:00:00Z".into());
    }
    Ok(ts)
}

/// The fast path for `YYYY-MM-DDTHH:MM:SSZ` (and `.fffZ`): a report over a
/// million lines spends most of its time here otherwise.
pub(crate) fn parse_compact_utc(b: &[u8]) -> Option<Timestamp> {
    let (t, rest) = b.split_first_chunk::<19>()?;
    let fraction = rest.strip_suffix(b"Z")?;
    if t[4] != b'-' || t[7] != b'-' || t[10] != b'T' || t[13] != b':' || t[16] != b':' {
        return None;
    }
    // The positions are fixed: one branch-free check of all fourteen digits.
    const DIGITS: [usize; 14] = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    if DIGITS
        .iter()
        .fold(0, |max, &i| t[i].wrapping_sub(b'0').max(max))
        > 9
    {
        return None;
    }
    let d = |i: usize| i64::from(t[i] - b'0');
    let year = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
    let (month, day) = (d(5) * 10 + d(6), d(8) * 10 + d(9));
    let (hour, minute, second) = (d(11) * 10 + d(12), d(14) * 10 + d(15), d(17) * 10 + d(18));
    let nanos = match fraction {
        [] => 0,
        [b'.', frac @ ..] if !frac.is_empty() && frac.len() <= 9 => {
            let mut value = 0i64;
            for &c in frac {
                if !c.is_ascii_digit() {
                    return None;
                }
                value = value * 10 + i64::from(c - b'0');
            }
            value * 10i64.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    if !(1..=12).contains(&month) || day < 1 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if day > i64::from(days_in_month(year, month)) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    Timestamp::new(seconds, nanos as i32).ok()
}

fn days_in_month(year: i64, month: i64) -> u8 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `--since`/`--until`: a date (midnight in `tz`), an RFC 3339 time, or a naive time in `tz`.
pub fn parse_bound(text: &str, tz: &TimeZone) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        return date
            .to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    if let Ok(dt) = text.replacen(' ', "T", 1).parse::<DateTime>() {
        return dt
            .to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    Err(format!(
        "{text:?} is neither a date (2026-02-05) nor an RFC 3339 time (2026-02-05T20:00:00Z)"
    ))
}

/// A named lookback window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Hours(i64),
    Days(i64),
    All,
}

impl Period {
    pub fn parse(text: &str) -> Result<Period, String> {
        let text = text.trim();
        if text == "all" {
            return Ok(Period::All);
        }
        let (number, unit) = text.split_at(
            text.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(text.len()),
        );
        let n: i64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a period; use 24h, 7d, 30d or all"))?;
        match unit {
            "h" if n > 0 => Ok(Period::Hours(n)),
            "d" if n > 0 => Ok(Period::Days(n)),
            _ => Err(format!("{text:?} is not a period; use 24h, 7d, 30d or all")),
        }
    }

    pub fn since(self, now: Timestamp) -> Option<Timestamp> {
        match self {
            Period::Hours(h) => now.checked_sub(h.hours()).ok(),
            Period::Days(d) => now.checked_sub((d * 24).hours()).ok(),
            Period::All => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_jiff() {
        for text in [
            "2026-02-05T20:00:00Z",
            "2024-02-29T23:59:59Z",
            "1999-12-31T00:00:00.123Z",
            "2026-11-23T11:51:14.123456789Z",
        ] {
            assert_eq!(
                parse_compact_utc(text.as_bytes()),
                Some(text.parse::<Timestamp>().unwrap()),
                "{text}"
            );
        }
        for year in [1900, 2000, 2023, 2024] {
            for month in 1..=12 {
                for day in 28..=32 {
                    let text = format!("{year}-{month:02}-{day:02}T00:00:00Z");
                    let jiff = text.parse::<Timestamp>().ok();
                    assert_eq!(parse_compact_utc(text.as_bytes()), jiff, "{text}");
                }
            }
        }
    }

    proptest::proptest! {
        // Any instant with any number of fraction digits, and any one byte
        // changed: the fast path reads what jiff reads, or declines.
        #[test]
        fn fast_path_agrees_with_jiff_everywhere(
            seconds in 0i64..253_402_300_800,
            nanos in 0i32..1_000_000_000,
            digits in 0usize..=9,
            flip in proptest::option::of((0usize..30, proptest::num::u8::ANY)),
        ) {
            let at = Timestamp::new(seconds, nanos).unwrap();
            let fraction = format!(".{nanos:09}");
            let fraction = if digits == 0 { "" } else { &fraction[..=digits] };
            let mut text = format!("{}{fraction}Z", at.strftime("%Y-%m-%dT%H:%M:%S")).into_bytes();
            if let Some((i, byte)) = flip.filter(|(i, _)| *i < text.len()) {
                text[i] = byte;
            }
            let jiff = std::str::from_utf8(&text).ok().and_then(|t| t.parse::<Timestamp>().ok());
            match parse_compact_utc(&text) {
                Some(fast) => proptest::prop_assert_eq!(Some(fast), jiff),
                None => proptest::prop_assert!(flip.is_some(), "declined {:?}", text),
            }
        }
    }

    #[test]
    fn naive_and_offset_times_are_read_as_utc_instants() {
        let utc = parse_timestamp("2026-02-05T20:00:00Z").unwrap();
        assert_eq!(parse_timestamp("2026-02-05T20:00:00").unwrap(), utc);
        assert_eq!(parse_timestamp("2026-02-05 20:00:00").unwrap(), utc);
        assert_eq!(parse_timestamp("2026-02-05T21:00:00+01:00").unwrap(), utc);
        assert!(parse_timestamp("yesterday").is_err());
    }

    #[test]
    fn periods() {
        assert_eq!(Period::parse("24h"), Ok(Period::Hours(24)));
        assert_eq!(Period::parse("7d"), Ok(Period::Days(7)));
        assert_eq!(Period::parse("all"), Ok(Period::All));
        assert!(Period::parse("0d").is_err());
        assert!(Period::parse("7w").is_err());
    }
}
