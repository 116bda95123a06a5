//! dnsmasq's own line reader, for checking what the writer wrote: the rules of `read_file`
//! and `split()` in dnsmasq's `option.c` (see [`super::syntax`]), as pure functions.

use thiserror::Error;

use super::syntax::{Form, Key, MAX_LINE_BYTES};

/// A line dnsmasq would refuse or cut.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What dnsmasq would make of it.
    pub message: String,
}

/// A file's options in order: each name, with its value (`None` for a line without `=`).
pub type Options<T> = Vec<(String, Option<T>)>;

/// The characters dnsmasq hides inside double quotes from its field splitting (its `meta`
/// table); any other quoted character is read as it is.
const HIDDEN: &str = "123456 \x08\t\n78\r90abcdefABCDE\x1bF:,.";

/// One character of a line after quote processing; `hidden` when it was quoted and is one
/// dnsmasq hides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ch {
    pub c: char,
    pub hidden: bool,
}

impl Ch {
    fn plain(c: char) -> Ch {
        Ch { c, hidden: false }
    }

    fn quoted(c: char) -> Ch {
        Ch {
            c,
            hidden: HIDDEN.contains(c),
        }
    }

    /// True for a space that dnsmasq treats as one (not a quoted, hidden one).
    pub fn is_space(self) -> bool {
        !self.hidden && self.c == ' '
    }

    /// True for `sep` when it separates (not quoted and hidden).
    pub fn is(self, sep: char) -> bool {
        !self.hidden && self.c == sep
    }
}

/// The text of `chars` once dnsmasq un-hides them.
pub(crate) fn text(chars: &[Ch]) -> String {
    chars.iter().map(|ch| ch.c).collect()
}

/// The lines of `text` with content, each after dnsmasq's quote, comment and whitespace
/// processing, with its line number.
pub(crate) fn lines(text: &str) -> Result<Vec<(usize, Vec<Ch>)>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let lineno = i + 1;
        let err = |message: &str| ParseError {
            line: lineno,
            message: message.to_owned(),
        };
        if line.len() > MAX_LINE_BYTES {
            return Err(err(
                "longer than the 1024 bytes dnsmasq reads per line; it would be cut",
            ));
        }
        if line.contains('\0') {
            return Err(err(
                "contains a NUL character, which ends the line for dnsmasq",
            ));
        }
        let chars = lex(line).map_err(err)?;
        let trimmed = trim(&chars);
        if !trimmed.is_empty() {
            out.push((lineno, trimmed.to_vec()));
        }
    }
    Ok(out)
}

/// Quotes, escapes, whitespace and comments, as `read_file` applies them.
fn lex(line: &str) -> Result<Vec<Ch>, &'static str> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut white = true;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '"' {
            i = lex_quoted(&chars, i + 1, &mut out)?;
            // dnsmasq looks at the character after a closing quote without checking it for
            // another quote.
            if i >= chars.len() {
                break;
            }
        }
        let c = chars[i];
        if c.is_ascii_whitespace() || c == '\x0b' {
            out.push(Ch::plain(' '));
            white = true;
        } else if white && c == '#' {
            break;
        } else {
            out.push(Ch::plain(c));
            white = false;
        }
        i += 1;
    }
    Ok(out)
}

/// The quoted text from `start` to its closing quote; returns the index after that quote.
fn lex_quoted(chars: &[char], start: usize, out: &mut Vec<Ch>) -> Result<usize, &'static str> {
    let mut i = start;
    loop {
        match chars.get(i) {
            None => return Err("missing closing \""),
            Some('"') => return Ok(i + 1),
            Some('\\') if chars.get(i + 1).and_then(|c| unescape(*c)).is_some() => {
                let c = chars.get(i + 1).and_then(|c| unescape(*c)).unwrap_or('\\');
                out.push(Ch::quoted(c));
                i += 2;
            }
            Some(c) => {
                out.push(Ch::quoted(*c));
                i += 1;
            }
        }
    }
}

fn unescape(c: char) -> Option<char> {
    Some(match c {
        '"' => '"',
        '\\' => '\\',
        't' => '\t',
        'n' => '\n',
        'r' => '\r',
        'b' => '\x08',
        'e' => '\x1b',
        _ => return None,
    })
}

fn trim(chars: &[Ch]) -> &[Ch] {
    let start = chars
        .iter()
        .position(|c| !c.is_space())
        .unwrap_or(chars.len());
    let end = chars
        .iter()
        .rposition(|c| !c.is_space())
        .map_or(start, |e| e + 1);
    &chars[start..end]
}

/// One `key[=value]` line: the key, and the value's characters.
fn key_value(lineno: usize, chars: &[Ch]) -> Result<(String, Option<Vec<Ch>>), ParseError> {
    let eq = chars.iter().position(|ch| ch.c == '=');
    let (key, value) = match eq {
        Some(eq) => (trim(&chars[..eq]), Some(trim(&chars[eq + 1..]).to_vec())),
        None => (chars, None),
    };
    if key.iter().any(|ch| ch.hidden) {
        return Err(ParseError {
            line: lineno,
            message: "a quoted option name is not an option dnsmasq knows".into(),
        });
    }
    Ok((text(key), value))
}

/// The options in a dnsmasq configuration file, as dnsmasq reads them: each line's name and
/// value (`None` for a line without `=`), after quotes, escapes, comments and whitespace.
pub fn parse_conf(text_in: &str) -> Result<Options<String>, ParseError> {
    lines(text_in)?
        .into_iter()
        .map(|(n, chars)| {
            let (key, value) = key_value(n, &chars)?;
            Ok((key, value.as_deref().map(text)))
        })
        .collect()
}

/// Like [`parse_conf`], with each value split into fields the way dnsmasq's option for that
/// key splits it (an unknown key's value is one field).
pub fn parse_conf_fields(text_in: &str) -> Result<Options<Vec<String>>, ParseError> {
    lines(text_in)?
        .into_iter()
        .map(|(n, chars)| {
            let (key, value) = key_value(n, &chars)?;
            let form = Key::from_name(&key).map_or(Form::Whole { quotable: true }, Key::form);
            Ok((key, value.map(|v| split_value(form, &v))))
        })
        .collect()
}

/// `value` split into fields by `form`'s rules.
pub(crate) fn split_value(form: Form, value: &[Ch]) -> Vec<String> {
    match form {
        Form::Flag | Form::Whole { .. } => vec![text(value)],
        Form::List { sep, .. } => split(value, sep).iter().map(|f| text(f)).collect(),
        Form::Txt => split_txt(value),
        Form::Slashed => split_slashed(value),
    }
}

/// dnsmasq's `split()` applied until no separator is left: fields at unhidden `sep`s, with
/// the spaces around each separator dropped.
pub(crate) fn split(value: &[Ch], sep: char) -> Vec<&[Ch]> {
    value
        .split(|ch| ch.is(sep))
        .map(|field| {
            let start = field
                .iter()
                .position(|c| !c.is_space())
                .unwrap_or(field.len());
            let end = field
                .iter()
                .rposition(|c| !c.is_space())
                .map_or(start, |e| e + 1);
            &field[start..end]
        })
        .collect()
}

/// `txt-record`: the name up to the first `,` (spaces around it dropped), then one string per
/// `,` with spaces kept. Without a `,` the record has one empty string.
fn split_txt(value: &[Ch]) -> Vec<String> {
    let Some(comma) = value.iter().position(|ch| ch.is(',')) else {
        return vec![text(trim(value)), String::new()];
    };
    let name = trim(&value[..comma]);
    let rest = &value[comma + 1..];
    let rest = &rest[rest
        .iter()
        .position(|c| !c.is_space())
        .unwrap_or(rest.len())..];
    let mut fields = vec![text(name)];
    fields.extend(rest.split(|ch| ch.is(',')).map(text));
    fields
}

/// `server`/`local`: dnsmasq un-hides everything first; a value starting with `/` is split at
/// every `/` (spaces around it dropped), any other value is one server address.
fn split_slashed(value: &[Ch]) -> Vec<String> {
    let plain: Vec<Ch> = value.iter().map(|ch| Ch::plain(ch.c)).collect();
    if plain.first().map(|ch| ch.c) != Some('/') {
        return vec![text(&plain)];
    }
    split(&plain, '/').iter().map(|f| text(f)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> Vec<(String, Option<String>)> {
        parse_conf(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn pair(k: &str, v: Option<&str>) -> (String, Option<String>) {
        (k.to_owned(), v.map(str::to_owned))
    }

    #[test]
    fn lines_comments_and_spaces() {
        let text = "# comment\n\n  strict-order  \nkey = a b #c\nx=a#b\nempty=\n";
        assert_eq!(
            conf(text),
            vec![
                pair("strict-order", None),
                pair("key", Some("a b")),
                pair("x", Some("a#b")),
                pair("empty", Some("")),
            ]
        );
        assert_eq!(conf("k=a\tb")[0], pair("k", Some("a b")));
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(conf(r#"k=" a#b ""#)[0], pair("k", Some(" a#b ")));
        assert_eq!(
            conf(r#"k="x\"y\\z\t\q""#)[0],
            pair("k", Some("x\"y\\z\t\\q"))
        );
        assert!(parse_conf("k=\"abc").is_err());
        assert!(parse_conf(&format!("k={}", "x".repeat(1100))).is_err());
    }

    #[test]
    fn the_character_after_a_closing_quote_is_not_a_quote() {
        // dnsmasq reads "a""b" as a, then a literal quote, then an unterminated quote.
        assert!(parse_conf(r#"k="a""b""#).is_err());
        assert_eq!(conf(r#"k="a"",b"#)[0], pair("k", Some("a\",b")));
    }

    #[test]
    fn fields_follow_each_options_split() {
        let f = |t: &str| parse_conf_fields(t).unwrap().remove(0).1.unwrap();
        assert_eq!(f("tftp-root=\"/a,b\""), ["/a,b"]);
        assert_eq!(f("tftp-root=/a , b"), ["/a", "b"]);
        assert_eq!(f("txt-record=n, a , b,"), ["n", "a ", " b", ""]);
        assert_eq!(f("txt-record=n"), ["n", ""]);
        assert_eq!(
            f("server=/example.com/1.2.3.4"),
            ["", "example.com", "1.2.3.4"]
        );
        assert_eq!(f("local=\"/a/\""), ["", "a", ""]);
        assert_eq!(f("server=8.8.8.8"), ["8.8.8.8"]);
        assert_eq!(f("pid-file=/a,b"), ["/a,b"]);
    }
}
