//! Text for numbers, following bmon/nload habits: bits per second by default, bytes on request,
//! SI prefixes (k, M, G, T: powers of 1000), three significant digits. Missing data is "–".

use serde::Deserialize;

/// What the UI shows for data it does not have. Never "0".
pub const MISSING: &str = "–";

/// Unit of traffic rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Units {
    /// Bits per second (b/s, kb/s, Mb/s, ...).
    #[default]
    Bits,
    /// Bytes per second (B/s, kB/s, MB/s, ...).
    Bytes,
}

/// `value` scaled to an SI prefix: (scaled, prefix).
fn si(value: f64) -> (f64, &'static str) {
    const PREFIXES: [&str; 5] = ["", "k", "M", "G", "T"];
    let mut v = value;
    let mut i = 0;
    while v.abs() >= 999.5 && i + 1 < PREFIXES.len() {
        v /= 1000.0;
        i += 1;
    }
    (v, PREFIXES[i])
}

/// Three significant digits: "1.23", "12.3", "123"; whole numbers without a prefix stay whole.
fn three_digits(v: f64, prefixed: bool) -> String {
    if !prefixed || v.abs() >= 99.95 {
        format!("{v:.0}")
    } else if v.abs() >= 9.995 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A traffic rate given in bits per second, in the chosen units: "12.3 Mb/s", "1.54 MB/s".
pub fn rate(bits_per_s: Option<f64>, units: Units) -> String {
    let Some(bps) = bits_per_s.filter(|v| v.is_finite()) else {
        return MISSING.into();
    };
    let (value, unit) = match units {
        Units::Bits => (bps, "b/s"),
        Units::Bytes => (bps / 8.0, "B/s"),
    };
    let (v, prefix) = si(value.max(0.0));
    format!("{} {prefix}{unit}", three_digits(v, !prefix.is_empty()))
}

/// A rate without unit, for packets or events per second: "850", "1.23k".
pub fn per_sec(value: Option<f64>) -> String {
    let Some(v) = value.filter(|v| v.is_finite()) else {
        return MISSING.into();
    };
    let (v, prefix) = si(v.max(0.0));
    format!("{}{prefix}", three_digits(v, !prefix.is_empty()))
}

/// A rate of rare events (new connections per second) to three significant digits, small
/// values too: "0.25", "3.50", "12.5", "850", "1.23k".
pub fn events_per_sec(value: Option<f64>) -> String {
    match value.filter(|v| v.is_finite()) {
        Some(v) if v.abs() < 999.5 => three_digits(v.max(0.0), true),
        other => per_sec(other),
    }
}

/// A plain count with an SI prefix: "1.23M".
pub fn count(value: u64) -> String {
    per_sec(Some(value as f64))
}

/// A byte total: "12.3 MB" (or "98.4 Mb" in bit units).
pub fn total(bytes: u64, units: Units) -> String {
    let (value, unit) = match units {
        Units::Bits => (bytes as f64 * 8.0, "b"),
        Units::Bytes => (bytes as f64, "B"),
    };
    let (v, prefix) = si(value);
    format!("{} {prefix}{unit}", three_digits(v, !prefix.is_empty()))
}

/// A duration, two most significant units: "12d 03h", "3h 04m", "4m 05s", "45s".
pub fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h:02}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// How long a lease expiring at `expiry` (unix seconds; `None` for an infinite lease) has
/// left at `now`: "59m 12s", "expired" or "never". The CLI's `leases` and the TUI's Leases
/// view both say it this way.
pub fn expires_in(expiry: Option<u64>, now: u64) -> String {
    match expiry {
        None => "never".to_owned(),
        Some(at) if at <= now => "expired".to_owned(),
        Some(at) => duration(at - now),
    }
}

/// What a Leases row says in its expiry column: [`expires_in`], or "not leased" for a
/// reservation no client holds.
pub fn lease_expires(lease: &crate::tui::data::LeaseRow, now: u64) -> String {
    if lease.reserved {
        NOT_LEASED.to_owned()
    } else {
        expires_in(lease.expiry, now)
    }
}

/// The expiry of a reservation that no client holds a lease of.
pub const NOT_LEASED: &str = "not leased";

/// Time of day of a unix timestamp, UTC: "22:13:20".
pub fn clock_utc(unix: u64) -> String {
    let s = unix % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3_600, s / 60 % 60, s % 60)
}

/// An optional text, "–" when absent.
pub fn opt(value: Option<&str>) -> &str {
    value.unwrap_or(MISSING)
}

/// An optional value in words, "–" when absent.
pub fn shown<T: std::fmt::Display>(value: Option<&T>) -> String {
    value.map_or_else(|| MISSING.to_owned(), ToString::to_string)
}

/// Text cut to `width` display columns with "…" when it does not fit (char-based).
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// Frames of the busy spinner.
const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// The spinner frame for a tick count.
pub fn spinner(tick: u64) -> char {
    SPINNER[(tick % SPINNER.len() as u64) as usize]
}

/// Text broken into lines of at most `width` characters, at spaces where it can, mid-word
/// where a word is longer than a line. Always at least one line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        let used = line.chars().count();
        if used > 0 && used + 1 + word.len() > width {
            out.push(std::mem::take(&mut line));
        } else if used > 0 {
            line.push(' ');
        }
        while line.chars().count() + word.len() > width {
            let room = width - line.chars().count();
            line.extend(word.drain(..room));
            out.push(std::mem::take(&mut line));
        }
        line.extend(word);
    }
    out.push(line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_table() {
        let cases: &[(Option<f64>, Units, &str)] = &[
            (None, Units::Bits, "–"),
            (Some(f64::NAN), Units::Bits, "–"),
            (Some(0.0), Units::Bits, "0 b/s"),
            (Some(850.0), Units::Bits, "850 b/s"),
            (Some(999.4), Units::Bits, "999 b/s"),
            (Some(999.6), Units::Bits, "1.00 kb/s"),
            (Some(12_345.0), Units::Bits, "12.3 kb/s"),
            (Some(123_456.0), Units::Bits, "123 kb/s"),
            (Some(9_600_000.0), Units::Bits, "9.60 Mb/s"),
            (Some(1.5e9), Units::Bits, "1.50 Gb/s"),
            (Some(8_000.0), Units::Bytes, "1.00 kB/s"),
            (Some(80.0), Units::Bytes, "10 B/s"),
            (Some(-5.0), Units::Bits, "0 b/s"),
        ];
        for (v, u, want) in cases {
            assert_eq!(rate(*v, *u), *want, "{v:?} {u:?}");
        }
    }

    #[test]
    fn per_sec_and_totals() {
        assert_eq!(per_sec(None), "–");
        assert_eq!(per_sec(Some(3.0)), "3");
        assert_eq!(per_sec(Some(1_234.0)), "1.23k");
        assert_eq!(events_per_sec(Some(0.25)), "0.25");
        assert_eq!(events_per_sec(Some(3.5)), "3.50");
        assert_eq!(events_per_sec(Some(12.5)), "12.5");
        assert_eq!(events_per_sec(Some(850.0)), "850");
        assert_eq!(events_per_sec(Some(1_234.0)), "1.23k");
        assert_eq!(events_per_sec(None), "–");
        assert_eq!(count(2_500_000), "2.50M");
        assert_eq!(total(1_000, Units::Bytes), "1.00 kB");
        assert_eq!(total(1_000, Units::Bits), "8.00 kb");
    }

    #[test]
    fn durations_and_clock() {
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(245), "4m 05s");
        assert_eq!(duration(3 * 3600 + 4 * 60), "3h 04m");
        assert_eq!(duration(12 * 86_400 + 3 * 3600), "12d 03h");
        assert_eq!(clock_utc(1_700_000_000), "22:13:20");
    }

    #[test]
    fn expiry_reads_as_time_left() {
        let now = 1_700_000_000;
        for (expiry, want) in [
            (None, "never"),
            (Some(now - 5), "expired"),
            (Some(now), "expired"),
            (Some(now + 1), "1s"),
            (Some(now + 59 * 60 + 12), "59m 12s"),
            (Some(now + 3 * 3600 + 4 * 60), "3h 04m"),
            (Some(now + 2 * 86_400 + 3600), "2d 01h"),
        ] {
            assert_eq!(expires_in(expiry, now), want, "{expiry:?}");
        }
    }

    #[test]
    fn fit_cuts_with_ellipsis() {
        assert_eq!(fit("virbr0", 10), "virbr0");
        assert_eq!(fit("veth3f9a2c1", 6), "veth3…");
        assert_eq!(fit("abc", 0), "");
    }

    #[test]
    fn wrap_breaks_at_spaces_and_long_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("a  b", 10), ["a  b"]);
        for line in wrap("the quick brown fox jumps over the lazy dog", 5) {
            assert!(line.chars().count() <= 5, "{line:?}");
        }
    }
}
