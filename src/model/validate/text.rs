//! Checks on strings that end up in interface names or generated dnsmasq files: dnsmasq's
//! rules for the values switchyard writes (DNS names, DHCP host names, free text).

use super::Problems;

/// Longest Linux interface name (IFNAMSIZ - 1).
pub const MAX_IFNAME_BYTES: usize = 15;

/// What is wrong with an interface name, if anything. Beyond what the kernel refuses, only
/// ASCII letters, digits, '-', '_' and '.' are accepted, so a name is also safe as a dnsmasq
/// option value and inside an nftables rule: 1-15 bytes, and not '.' or '..'.
pub fn ifname_problem(name: &str) -> Option<String> {
    let reason = if name.is_empty() {
        "it is empty".to_string()
    } else if name == "." || name == ".." {
        "'.' and '..' are reserved".to_string()
    } else if let Some(c) = name.chars().find(|c| !is_ifname_char(*c)) {
        format!(
            "it contains {}; use letters, digits, '-', '_' and '.' only",
            describe(c)
        )
    } else if name.len() > MAX_IFNAME_BYTES {
        format!(
            "it is {} bytes long; the limit is {MAX_IFNAME_BYTES}",
            name.len()
        )
    } else if NFT_RESERVED_IFNAMES.contains(&name) {
        "nftables reads this word as a protocol, not as an interface name".to_string()
    } else {
        return None;
    };
    Some(format!(
        "'{}' is not a valid interface name: {reason}",
        name.escape_debug()
    ))
}

/// Words nft's JSON input reads as protocol constants where an interface name is expected, so
/// no rule could match an interface of that name literally.
pub const NFT_RESERVED_IFNAMES: [&str; 11] = [
    "tcp", "udp", "udplite", "esp", "ah", "icmp", "icmpv6", "comp", "dccp", "sctp", "redirect",
];

fn is_ifname_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

pub(crate) fn check_ifname(out: &mut Problems, path: &str, name: &str) {
    if let Some(problem) = ifname_problem(name) {
        out.add(path, problem);
    }
}

/// A newline, carriage return or NUL would start a new line in a generated config file.
pub(crate) fn check_line(out: &mut Problems, path: &str, value: &str) -> bool {
    let Some(c) = value.chars().find(|c| matches!(c, '\n' | '\r' | '\0')) else {
        return true;
    };
    out.add(
        path,
        format!(
            "contains {}, which would inject a line into the generated dnsmasq configuration",
            describe(c)
        ),
    );
    false
}

/// Free text written into a dnsmasq option (a TXT string, a TFTP root, a boot file name). The
/// writer quotes and escapes it as dnsmasq's reader needs, so separators, `#` and `"` are
/// fine; line breaks, NUL and other control characters (tab aside) are not: they would end the
/// line, or dnsmasq would turn them into digits when it un-hides quoted text.
pub(crate) fn check_dnsmasq_value(out: &mut Problems, path: &str, value: &str) {
    if !check_line(out, path, value) {
        return;
    }
    if let Some(c) = value.chars().find(|c| c.is_control() && *c != '\t') {
        out.add(
            path,
            format!(
                "'{}' contains {}, which dnsmasq cannot read back",
                value.escape_debug(),
                describe(c)
            ),
        );
    }
}

/// Longest DNS name, without a trailing dot.
pub const MAX_DNS_NAME: usize = 253;
/// Longest DNS label.
pub const MAX_DNS_LABEL: usize = 63;

/// What is wrong with a DNS name by DNS rules, if anything: 1-253 characters of letters,
/// digits, '-', '_' (libvirt allows it, e.g. `_dmarc`) and '.', in labels of 1-63 characters
/// that neither start nor end with '-'. No empty label: no leading, trailing or doubled '.'.
pub fn dns_name_problem(name: &str) -> Option<String> {
    let shown = name.escape_debug();
    if name.is_empty() {
        return Some("the name is empty".into());
    }
    let bad = |c: &char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if let Some(c) = name.chars().find(bad) {
        return Some(format!(
            "'{shown}' contains {}; use letters, digits, '-', '_' and '.' only",
            describe(c)
        ));
    }
    if name.len() > MAX_DNS_NAME {
        return Some(format!(
            "'{shown}' is longer than {MAX_DNS_NAME} characters"
        ));
    }
    name.split('.')
        .find_map(|label| label_problem(name, label).or_else(|| idna_problem(name, label)))
}

/// dnsmasq hands a name with an upper-case letter to IDNA (libidn2) to fold it, and IDNA
/// refuses a label with `--` in its third and fourth places (reserved for `xn--` forms) or that
/// starts or ends with `-`: dnsmasq then rejects the whole option. Such names are refused here.
pub(crate) fn idna_problem(name: &str, label: &str) -> Option<String> {
    if !name.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let hyphens_3_4 = label.get(2..4) == Some("--");
    let edge = label.starts_with('-') || label.ends_with('-');
    (hyphens_3_4 || edge).then(|| {
        format!(
            "'{}' has upper-case letters and a label ('{}') that IDNA refuses ('-' at its start \
             or end, or '--' in places 3 and 4); dnsmasq would reject it (write it in lower case)",
            name.escape_debug(),
            label.escape_debug()
        )
    })
}

fn label_problem(name: &str, label: &str) -> Option<String> {
    let shown = name.escape_debug();
    if label.is_empty() {
        Some(format!(
            "'{shown}' has an empty label (a leading, trailing or doubled '.')"
        ))
    } else if label.len() > MAX_DNS_LABEL {
        Some(format!(
            "'{shown}' has a label longer than {MAX_DNS_LABEL} characters"
        ))
    } else if label.starts_with('-') || label.ends_with('-') {
        Some(format!(
            "'{shown}' has a label that starts or ends with '-'"
        ))
    } else {
        None
    }
}

/// A DNS name (a domain, a host name, a record name) by DNS rules ([`dns_name_problem`]).
pub(crate) fn check_hostname(out: &mut Problems, path: &str, name: &str) {
    if !check_line(out, path, name) {
        return;
    }
    if let Some(problem) = dns_name_problem(name) {
        out.add(path, problem);
    }
}

/// A static DHCP host's name: a DNS name that starts with a letter or digit (libvirt's rule)
/// and that dnsmasq's `dhcp-host` parser would not take for something else: all digits (with
/// an optional unit letter) is a lease time, `infinite` too, `ignore` disables the host, and
/// four numeric labels are an IPv4 address.
pub(crate) fn check_dhcp_host_name(out: &mut Problems, path: &str, name: &str) {
    if !check_line(out, path, name) {
        return;
    }
    if let Some(problem) = dns_name_problem(name) {
        out.add(path, problem);
        return;
    }
    let shown = name.escape_debug();
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        out.add(path, format!("'{shown}' must start with a letter or digit"));
    } else if let Some(reading) = dhcp_misreading(name) {
        out.add(
            path,
            format!("dnsmasq would read '{shown}' as {reading}, not as a host name"),
        );
    }
}

fn dhcp_misreading(name: &str) -> Option<&'static str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unitless = match name.strip_suffix(|c: char| "smhdwSMHDW".contains(c)) {
        Some(rest) if name.len() > 1 => rest,
        _ => name,
    };
    let labels: Vec<&str> = name.split('.').collect();
    if digits(unitless) || name == "infinite" {
        Some("a lease time")
    } else if name == "ignore" {
        Some("'ignore' (serve this host nothing)")
    } else if labels.len() == 4 && labels.iter().all(|l| digits(l)) {
        Some("an IPv4 address")
    } else {
        None
    }
}

/// A character named for a message.
pub(crate) fn describe(c: char) -> String {
    match c {
        '\n' => "a newline".to_string(),
        '\r' => "a carriage return".to_string(),
        '\0' => "a NUL character".to_string(),
        '\t' => "a tab".to_string(),
        ' ' => "a space".to_string(),
        c if c.is_control() || c.is_whitespace() || is_format(c) => {
            format!("the character U+{:04X}", u32::from(c))
        }
        c => format!("'{c}'"),
    }
}

/// Unicode's format characters (category Cf, Unicode 15.1): invisible, and some (the
/// bidirectional controls U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) reorder
/// how the text around them is displayed.
const FORMAT_CHARS: [(u32, u32); 21] = [
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// True for an invisible format character (Unicode category Cf), bidi controls included.
pub(crate) fn is_format(c: char) -> bool {
    let c = u32::from(c);
    let i = FORMAT_CHARS.partition_point(|&(_, last)| last < c);
    FORMAT_CHARS.get(i).is_some_and(|&(first, _)| first <= c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        for ok in [
            "a",
            "example.com",
            "_dmarc.x-1.example",
            "1.example",
            &"a".repeat(63),
        ] {
            assert_eq!(dns_name_problem(ok), None, "{ok}");
        }
        let long = format!("{}.{}", "a".repeat(200), "b".repeat(60));
        for bad in [
            "",
            "ex..com",
            ".a",
            "a.",
            "-a",
            "a-",
            "a.-b",
            "a b",
            "a,b",
            "a#b",
            &"a".repeat(64),
            &long,
        ] {
            assert!(dns_name_problem(bad).is_some(), "{bad:?} accepted");
        }
    }

    #[test]
    fn dhcp_host_names_dnsmasq_would_misread() {
        for (name, reading) in [
            ("123", "lease"),
            ("12h", "lease"),
            ("infinite", "lease"),
            ("ignore", "ignore"),
            ("10.0.0.1", "IPv4"),
        ] {
            let mut out = Problems::default();
            check_dhcp_host_name(&mut out, "n", name);
            assert!(
                out.0.iter().any(|p| p.message.contains(reading)),
                "{name}: {:?}",
                out.0
            );
        }
        for ok in ["h", "h1", "1h.example", "web-1", "m", "10.0.0.1a"] {
            let mut out = Problems::default();
            check_dhcp_host_name(&mut out, "n", ok);
            assert!(out.0.is_empty(), "{ok}: {:?}", out.0);
        }
    }

    #[test]
    fn ifnames() {
        assert!(ifname_problem("virbr0").is_none());
        assert!(ifname_problem("abcdefghijklmno").is_none());
        assert!(ifname_problem("br-lan_0.100").is_none());
        assert!(
            ifname_problem("...").is_none(),
            "only '.' and '..' are reserved"
        );
        for bad in [
            "",
            "abcdefghijklmnop",
            ".",
            "..",
            "a/b",
            "a b",
            "a:b",
            "a\nb",
            "a\"b",
            "a'b",
            "a;b",
            "a,b",
            "a=b",
            "a#b",
            "a%d",
            "a{b}",
            "é",
            "a\u{202e}b",
        ] {
            assert!(ifname_problem(bad).is_some(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ifname_messages_name_the_character() {
        let msg = ifname_problem("br\"0").expect("refused");
        assert!(msg.contains("'\"'"), "{msg}");
        let msg = ifname_problem("br\u{202e}0").expect("refused");
        assert!(msg.contains("U+202E"), "{msg}");
        let msg = ifname_problem("abcdefghijklmnop").expect("refused");
        assert!(msg.contains("16 bytes long"), "{msg}");
    }

    #[test]
    fn format_characters() {
        for c in [
            '\u{ad}', '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202e}',
        ] {
            assert!(is_format(c), "{c:?}");
        }
        for c in ['\u{2066}', '\u{2069}', '\u{feff}', '\u{e007f}', '\u{1343f}'] {
            assert!(is_format(c), "{c:?}");
        }
        for c in [
            'a',
            ' ',
            '\u{ac}',
            '\u{200a}',
            '\u{2070}',
            '\u{e0080}',
            'é',
            '\u{10ffff}',
        ] {
            assert!(!is_format(c), "{c:?}");
        }
        assert!(
            FORMAT_CHARS.windows(2).all(|w| w[0].1 < w[1].0),
            "sorted, disjoint"
        );
    }
}
