//! Pure formatting of telemetry figures for people: SI-prefixed rates and sizes, UTC times.

use std::time::{SystemTime, UNIX_EPOCH};

const PREFIXES: [&str; 7] = ["", "k", "M", "G", "T", "P", "E"];

/// `value` with an SI prefix (powers of 1000) and `unit`, three significant digits:
/// `0 bit/s`, `999 bit/s`, `1.00 kbit/s`, `2.08 Mbit/s`, `434 kbit/s`.
pub fn si(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return format!("? {unit}");
    }
    let mut scaled = value.abs();
    let mut i = 0;
    while i + 1 < PREFIXES.len() && format_3(scaled).0 >= 1000.0 {
        scaled /= 1000.0;
        i += 1;
    }
    let sign = if value < 0.0 { "-" } else { "" };
    // Rounding may carry into the next decade (9.996 -> 10.00): choose the decimals again.
    let (rounded, decimals) = format_3(format_3(scaled).0);
    let digits = if i == 0 {
        format!("{}", rounded.round())
    } else {
        format!("{rounded:.decimals$}")
    };
    format!("{sign}{digits} {}{unit}", PREFIXES[i])
}

/// `v` rounded to three significant digits (for 1 ≤ v), and the decimals that shows.
fn format_3(v: f64) -> (f64, usize) {
    let decimals = if v < 10.0 {
        2
    } else if v < 100.0 {
        1
    } else {
        0
    };
    let factor = 10f64.powi(decimals as i32);
    ((v * factor).round() / factor, decimals)
}

/// Bits per second: `si(bps, "bit/s")`.
pub fn bits_per_second(bps: f64) -> String {
    si(bps, "bit/s")
}

/// Bytes: `si(bytes, "B")`.
pub fn bytes(n: u64) -> String {
    si(n as f64, "B")
}

/// An RFC 3339 UTC timestamp with milliseconds: `2025-03-01T12:00:05.250Z`.
pub fn utc_timestamp(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        since.subsec_millis()
    )
}

/// (year, month, day) of a day count since 1970-01-01, proleptic Gregorian calendar
/// (the era arithmetic of Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn si_table() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0 bit/s"),
            (0.4, "0 bit/s"),
            (999.0, "999 bit/s"),
            (999.6, "1.00 kbit/s"),
            (1000.0, "1.00 kbit/s"),
            (2_084_000.0, "2.08 Mbit/s"),
            (353_600.0, "354 kbit/s"),
            (12_345.0, "12.3 kbit/s"),
            (99_960.0, "100 kbit/s"),
            (9_996.0, "10.0 kbit/s"),
            (999_999.0, "1.00 Mbit/s"),
            (10e9, "10.0 Gbit/s"),
            (-1500.0, "-1.50 kbit/s"),
            (f64::NAN, "? bit/s"),
            (1e30, "1000000000000 Ebit/s"),
        ];
        for (v, want) in cases {
            assert_eq!(bits_per_second(*v), *want, "{v}");
        }
        assert_eq!(bytes(1_536), "1.54 kB");
    }

    #[test]
    fn utc_timestamps() {
        let at = |s: u64, ms: u64| UNIX_EPOCH + Duration::from_millis(s * 1000 + ms);
        assert_eq!(utc_timestamp(at(0, 0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            utc_timestamp(at(951_782_400, 5)),
            "2000-02-29T00:00:00.005Z"
        );
        assert_eq!(
            utc_timestamp(at(1_740_830_405, 250)),
            "2025-03-01T12:00:05.250Z"
        );
        assert_eq!(
            utc_timestamp(at(4_107_542_399, 999)),
            "2100-02-28T23:59:59.999Z"
        );
    }
}
