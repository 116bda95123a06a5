//! Names derived from a network's name, safely.
//!
//! A network name is text chosen by whoever wrote the definition: up to 64 bytes of almost any
//! Unicode. It never becomes part of a path, an nftables identifier or a dnsmasq option as it
//! is: it is encoded first. Both encodings keep a small set of characters as they are and write
//! every other byte as two hex digits behind an escape character, so they are injective (two
//! names never share an encoding) and their output cannot carry a separator, a quote, a space,
//! a newline or a character outside ASCII.

/// The file-name form of a network name: `[A-Za-z0-9._-]` kept, every other byte as `%XX`
/// (upper-case hex). A leading `.` is encoded too, so the result is never hidden, `.` or `..`.
///
/// `lab` → `lab`, `my net` → `my%20net`, `.x` → `%2Ex`, `a%b` → `a%25b`.
pub fn file_component(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, b) in name.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-') || (b == b'.' && i > 0);
        if keep {
            out.push(char::from(b));
        } else {
            push_hex(&mut out, '%', b, true);
        }
    }
    out
}

/// The network name a [`file_component`] encodes, or `None` when `s` is not exactly the
/// encoding of some name (a file that switchyard did not name).
pub fn decode_file_component(s: &str) -> Option<String> {
    let name = decode(s, '%')?;
    (file_component(&name) == s).then_some(name)
}

/// The nftables-identifier form of a network name: `[A-Za-z0-9.-]` kept, every other byte
/// (including `_`) as `_xx` (lower-case hex). Callers put it behind a fixed prefix that starts
/// with a letter, so the identifier is valid in nft's text grammar as well as in its JSON.
///
/// `lab` → `lab`, `my_net` → `my_5fnet`, `a"b` → `a_22b`.
pub fn nft_component(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-') {
            out.push(char::from(b));
        } else {
            push_hex(&mut out, '_', b, false);
        }
    }
    out
}

/// The network name an [`nft_component`] encodes, if `s` is exactly such an encoding.
pub fn decode_nft_component(s: &str) -> Option<String> {
    let name = decode(s, '_')?;
    (nft_component(&name) == s).then_some(name)
}

fn push_hex(out: &mut String, escape: char, b: u8, upper: bool) {
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";
    const LOWER: &[u8; 16] = b"0123456789abcdef";
    let digits = if upper { UPPER } else { LOWER };
    out.push(escape);
    out.push(char::from(digits[usize::from(b >> 4)]));
    out.push(char::from(digits[usize::from(b & 0xf)]));
}

fn decode(s: &str, escape: char) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == escape as u8 {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(file_component("lab"), "lab");
        assert_eq!(file_component("my net"), "my%20net");
        assert_eq!(file_component(".x"), "%2Ex");
        assert_eq!(file_component("a.b"), "a.b");
        assert_eq!(file_component("a%b"), "a%25b");
        assert_eq!(file_component("é"), "%C3%A9");
        assert_eq!(nft_component("lab-1.x"), "lab-1.x");
        assert_eq!(nft_component("my_net"), "my_5fnet");
        assert_eq!(nft_component("a\"b;"), "a_22b_3b");
    }

    #[test]
    fn foreign_file_names_do_not_decode() {
        for s in ["a b", "%2", "%zz", "%41", ".x", "%2e", "%FF", "x%2f"] {
            let decoded = decode_file_component(s);
            assert!(
                decoded.as_deref().is_none_or(|d| file_component(d) == s),
                "{s:?}"
            );
        }
        assert_eq!(decode_file_component("a b"), None);
        assert_eq!(decode_file_component("%41"), None, "non-canonical");
        assert_eq!(decode_file_component("%FF"), None, "not UTF-8");
        assert_eq!(decode_file_component("x%2F"), Some("x/".to_owned()));
    }

    proptest! {
        #[test]
        fn file_names_round_trip_and_stay_in_their_alphabet(name in "\\PC{0,24}|[\\x00-\\x7f]{0,24}") {
            let enc = file_component(&name);
            prop_assert!(enc.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-%".contains(&b)));
            prop_assert!(!enc.starts_with('.'));
            prop_assert_eq!(decode_file_component(&enc), Some(name));
        }

        #[test]
        fn nft_names_round_trip_and_stay_in_their_alphabet(name in "\\PC{0,24}|[\\x00-\\x7f]{0,24}") {
            let enc = nft_component(&name);
            prop_assert!(enc.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
            prop_assert_eq!(decode_nft_component(&enc), Some(name));
        }
    }
}
