//! Checks on strings that end up in interface names or generated dnsmasq files.

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

/// A value dnsmasq reads inside an option line: no line breaks, and none of `=`, `#`, `,`,
/// which dnsmasq treats as separators or comments.
pub(crate) fn check_dnsmasq_value(out: &mut Problems, path: &str, value: &str) {
    if !check_line(out, path, value) {
        return;
    }
    if let Some(c) = value.chars().find(|c| matches!(c, '=' | '#' | ',')) {
        out.add(
            path,
            format!(
                "'{value}' contains {}, which dnsmasq would read as a separator",
                describe(c)
            ),
        );
    }
}

/// A DNS name as dnsmasq and libvirt accept it: letters, digits, '-', '_' and '.'.
pub(crate) fn check_hostname(out: &mut Problems, path: &str, name: &str) {
    if !check_line(out, path, name) {
        return;
    }
    if name.is_empty() {
        out.add(path, "the name is empty");
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        out.add(
            path,
            format!(
                "'{}' contains {}; use letters, digits, '-', '_' and '.' only",
                name.escape_debug(),
                describe(c)
            ),
        );
    } else if name.len() > 253 {
        out.add(path, format!("'{name}' is longer than 253 characters"));
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
