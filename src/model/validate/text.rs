//! Checks on strings that end up in interface names or generated dnsmasq files.

use super::Problems;

/// Longest Linux interface name (IFNAMSIZ - 1).
pub const MAX_IFNAME_BYTES: usize = 15;

/// What is wrong with a Linux interface name, if anything: it must be 1-15 bytes, without
/// '/', ':' or whitespace, and not '.' or '..'.
pub fn ifname_problem(name: &str) -> Option<String> {
    let reason = if name.is_empty() {
        "it is empty".to_string()
    } else if name.len() > MAX_IFNAME_BYTES {
        format!(
            "it is {} bytes long; the limit is {MAX_IFNAME_BYTES}",
            name.len()
        )
    } else if name == "." || name == ".." {
        "'.' and '..' are reserved".to_string()
    } else if let Some(c) = name
        .chars()
        .find(|c| *c == '/' || *c == ':' || c.is_whitespace() || c.is_control())
    {
        format!("it contains {}", describe(c))
    } else {
        return None;
    };
    Some(format!(
        "'{}' is not a valid interface name: {reason}",
        name.escape_debug()
    ))
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
        c if c.is_control() || c.is_whitespace() => format!("the character U+{:04X}", u32::from(c)),
        c => format!("'{c}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifnames() {
        assert!(ifname_problem("virbr0").is_none());
        assert!(ifname_problem("abcdefghijklmno").is_none());
        for bad in [
            "",
            "abcdefghijklmnop",
            ".",
            "..",
            "a/b",
            "a b",
            "a:b",
            "a\nb",
        ] {
            assert!(ifname_problem(bad).is_some(), "{bad:?} accepted");
        }
    }
}
