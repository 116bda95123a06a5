//! dnsmasq's option-line syntax, written in one place ([`write_line`], [`write_fields`]) and
//! read back in one place ([`super::read`]).
//!
//! dnsmasq reads its configuration file and its `dhcp-hostsfile` with one line reader
//! (`read_file` in its `option.c`): lines of at most [`MAX_LINE_BYTES`]; outside double quotes
//! every whitespace character becomes a space and a `#` at the start or after whitespace begins
//! a comment; inside double quotes `\\`, `\"`, `\t`, `\n`, `\r`, `\b` and `\e` are escapes and
//! the characters an option splits at (space, `,`, `:`, `.`, digits and hex letters) are
//! "hidden" from that splitting. Each option then splits its value its own way ([`Form`]).
//!
//! An [`Entry`] is one option as data: a [`Key`] from the closed set switchyard writes, and its
//! [`Field`]s. Text of switchyard's own making (numbers, addresses, keywords) is written as it
//! is; text from outside (a definition, a path) is written bare when dnsmasq reads it back
//! unchanged, quoted and escaped when the option un-hides quoted text, and refused otherwise.

use std::fmt;

use thiserror::Error;

use crate::model::validate::describe_char;

/// Longest line dnsmasq reads whole: it reads lines with `fgets` into a buffer of 1025 bytes
/// (`MAXDNAME`), so a longer line is cut and its rest read as a line of its own.
pub const MAX_LINE_BYTES: usize = 1024;

/// A value that cannot be written into dnsmasq's files as dnsmasq would read it back.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{path}: {message}")]
pub struct RenderError {
    /// Where the value came from: a definition's field path (`dns.txt[0].value`) or a
    /// setting (`paths.pid_file`).
    pub path: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl RenderError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        RenderError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// How dnsmasq splits an option's value into fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// No value at all.
    Flag,
    /// One field, the whole value. `quotable`: the option un-hides quoted text.
    Whole { quotable: bool },
    /// Fields split at `sep` by dnsmasq's `split()`, which also drops spaces around `sep`.
    /// `quotable`: the option un-hides quoted fields, so quoting protects a field.
    List { sep: char, quotable: bool },
    /// `txt-record`: the name, then one string per `,` (spaces kept); quoting protects.
    Txt,
    /// `server` and `local`: dnsmasq un-hides the whole value before splitting it at `/`, so
    /// quoting protects nothing.
    Slashed,
}

impl Form {
    /// The character between fields, if the value has several.
    pub fn separator(self) -> Option<char> {
        match self {
            Form::Flag | Form::Whole { .. } => None,
            Form::List { sep, .. } => Some(sep),
            Form::Txt => Some(','),
            Form::Slashed => Some('/'),
        }
    }

    fn quotable(self) -> bool {
        match self {
            Form::Flag | Form::Slashed => false,
            Form::Whole { quotable } | Form::List { quotable, .. } => quotable,
            Form::Txt => true,
        }
    }
}

macro_rules! keys {
    ($($variant:ident => $name:literal, $form:expr;)*) => {
        /// The dnsmasq options switchyard writes: a closed set.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Key {
            $(#[doc = concat!("`", $name, "`")] $variant,)*
        }

        impl Key {
            /// Every key.
            pub const ALL: &'static [Key] = &[$(Key::$variant,)*];

            /// The option's name in dnsmasq's files.
            pub fn name(self) -> &'static str {
                match self {
                    $(Key::$variant => $name,)*
                }
            }

            /// How dnsmasq splits the option's value.
            pub fn form(self) -> Form {
                match self {
                    $(Key::$variant => $form,)*
                }
            }
        }
    };
}

const LIST: Form = Form::List {
    sep: ',',
    quotable: false,
};
const QUOTED_LIST: Form = Form::List {
    sep: ',',
    quotable: true,
};
const WHOLE: Form = Form::Whole { quotable: false };
const QUOTED_WHOLE: Form = Form::Whole { quotable: true };

keys! {
    StrictOrder => "strict-order", Form::Flag;
    Port => "port", WHOLE;
    Server => "server", Form::Slashed;
    Local => "local", Form::Slashed;
    NoResolv => "no-resolv", Form::Flag;
    Domain => "domain", LIST;
    ExpandHosts => "expand-hosts", Form::Flag;
    DomainNeeded => "domain-needed", Form::Flag;
    PidFile => "pid-file", QUOTED_WHOLE;
    User => "user", QUOTED_WHOLE;
    Group => "group", QUOTED_WHOLE;
    ExceptInterface => "except-interface", LIST;
    BindDynamic => "bind-dynamic", Form::Flag;
    BindInterfaces => "bind-interfaces", Form::Flag;
    Interface => "interface", QUOTED_LIST;
    DhcpOption => "dhcp-option", LIST;
    RaParam => "ra-param", LIST;
    TxtRecord => "txt-record", Form::Txt;
    SrvHost => "srv-host", QUOTED_LIST;
    EnableTftp => "enable-tftp", Form::Flag;
    TftpRoot => "tftp-root", QUOTED_LIST;
    DhcpRange => "dhcp-range", LIST;
    DhcpNoOverride => "dhcp-no-override", Form::Flag;
    DhcpAuthoritative => "dhcp-authoritative", Form::Flag;
    NoPing => "no-ping", Form::Flag;
    DhcpBoot => "dhcp-boot", QUOTED_LIST;
    DhcpLeaseMax => "dhcp-lease-max", WHOLE;
    DhcpLeasefile => "dhcp-leasefile", QUOTED_WHOLE;
    DhcpHostsfile => "dhcp-hostsfile", QUOTED_WHOLE;
    AddnHosts => "addn-hosts", QUOTED_WHOLE;
    EnableRa => "enable-ra", Form::Flag;
    DhcpHost => "dhcp-host", LIST;
}

impl Key {
    /// The key named `name`, if switchyard writes it.
    pub fn from_name(name: &str) -> Option<Key> {
        Key::ALL.iter().copied().find(|k| k.name() == name)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One field of an option's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// Text of switchyard's own making (a number, an address, a keyword): written as it is.
    Fixed(String),
    /// Text from outside: written bare, quoted, or refused, as dnsmasq needs. `path` names its
    /// origin for errors.
    Data { text: String, path: String },
}

impl Field {
    /// A [`Field::Data`] from `path`.
    pub fn data(text: impl Into<String>, path: impl Into<String>) -> Field {
        Field::Data {
            text: text.into(),
            path: path.into(),
        }
    }

    /// The field's text, as dnsmasq reads it back.
    pub fn text(&self) -> &str {
        match self {
            Field::Fixed(t) | Field::Data { text: t, .. } => t,
        }
    }
}

/// One option line as data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The option.
    pub key: Key,
    /// Its fields; empty for a [`Form::Flag`].
    pub fields: Vec<Field>,
}

impl Entry {
    /// An option with the given fields.
    pub fn new(key: Key, fields: Vec<Field>) -> Entry {
        Entry { key, fields }
    }

    /// An option without a value.
    pub fn flag(key: Key) -> Entry {
        Entry {
            key,
            fields: Vec::new(),
        }
    }

    /// An option whose fields are all switchyard's own text.
    pub fn fixed<S: Into<String>>(key: Key, fields: impl IntoIterator<Item = S>) -> Entry {
        let fields = fields.into_iter().map(|s| Field::Fixed(s.into())).collect();
        Entry { key, fields }
    }

    /// The value as dnsmasq reads it (fields joined by their separator), `None` for a flag.
    pub fn value_text(&self) -> Option<String> {
        let form = self.key.form();
        if form == Form::Flag {
            return None;
        }
        let sep = form.separator().map(String::from).unwrap_or_default();
        Some(self.field_texts().join(&sep))
    }

    /// Each field's text.
    pub fn field_texts(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.text().to_owned()).collect()
    }
}

/// The line for `entry`: `key` or `key=value`.
pub fn write_line(entry: &Entry) -> Result<String, RenderError> {
    let mut line = entry.key.name().to_owned();
    if entry.key.form() != Form::Flag {
        line.push('=');
        push_fields(entry.key, &entry.fields, &mut line)?;
    } else if !entry.fields.is_empty() {
        return Err(RenderError::new(entry.key.name(), "a flag takes no value"));
    }
    check_length(&line, &entry.fields, entry.key)?;
    Ok(line)
}

/// A line of just the fields, as `key`'s value (a `dhcp-hostsfile` line is a `dhcp-host`
/// value on a line of its own).
pub fn write_fields(key: Key, fields: &[Field]) -> Result<String, RenderError> {
    let mut line = String::new();
    push_fields(key, fields, &mut line)?;
    check_length(&line, fields, key)?;
    Ok(line)
}

fn push_fields(key: Key, fields: &[Field], out: &mut String) -> Result<(), RenderError> {
    let form = key.form();
    let sep = form.separator();
    if sep.is_none() && fields.len() != 1 {
        return Err(RenderError::new(key.name(), "this option takes one value"));
    }
    for (i, field) in fields.iter().enumerate() {
        if let (true, Some(sep)) = (i > 0, sep) {
            out.push(sep);
        }
        push_field(key, i, field, out)?;
    }
    Ok(())
}

fn push_field(key: Key, index: usize, field: &Field, out: &mut String) -> Result<(), RenderError> {
    let sep = key.form().separator();
    let (text, path) = match field {
        Field::Fixed(text) if is_bare(text, sep) => {
            out.push_str(text);
            return Ok(());
        }
        Field::Fixed(text) => {
            let msg = format!("internal: fixed text {text:?} needs quoting");
            return Err(RenderError::new(key.name(), msg));
        }
        Field::Data { text, path } => (text, path),
    };
    if let Some(c) = text.chars().find(|c| refused(*c)) {
        return Err(RenderError::new(path, refusal(key, c)));
    }
    if is_bare(text, sep) && !reads_as_tag(key, index, text) {
        out.push_str(text);
    } else if key.form().quotable() {
        push_quoted(text, out);
    } else {
        let c = first_unsafe(text, sep);
        return Err(RenderError::new(path, refusal(key, c)));
    }
    Ok(())
}

/// Characters no field may hold: line breaks and NUL end the line, and dnsmasq turns control
/// characters other than tab, backspace and escape into digits when it un-hides quoted text.
fn refused(c: char) -> bool {
    c.is_ascii_control() && !matches!(c, '\t' | '\x08' | '\x1b' | '\x7f')
}

/// Whether dnsmasq reads `text` back unchanged when it is written without quotes: printable
/// ASCII and inner single spaces, no `"`, no separator, no `#` after a space (a comment), no
/// space at either end (dropped).
fn is_bare(text: &str, sep: Option<char>) -> bool {
    let chars_ok = text
        .chars()
        .all(|c| (c.is_ascii_graphic() || c == ' ') && c != '"' && Some(c) != sep);
    chars_ok && !text.starts_with(' ') && !text.ends_with(' ') && !text.contains(" #")
}

/// `dhcp-boot` takes leading `tag:`/`net:` fields as tags, not as the file name.
fn reads_as_tag(key: Key, index: usize, text: &str) -> bool {
    key == Key::DhcpBoot && index == 0 && (text.starts_with("tag:") || text.starts_with("net:"))
}

/// The character that keeps `text` from being written bare.
fn first_unsafe(text: &str, sep: Option<char>) -> char {
    let bad = |c: char| !(c.is_ascii_graphic() || c == ' ') || c == '"' || Some(c) == sep;
    if let Some(c) = text.chars().find(|c| bad(*c)) {
        return c;
    }
    if text.contains(" #") {
        return '#';
    }
    ' '
}

fn refusal(key: Key, c: char) -> String {
    let what = match c {
        '\n' | '\r' | '\0' => "which would end the line".to_string(),
        c if c.is_ascii_control() => "a control character dnsmasq cannot read back".to_string(),
        _ => "which dnsmasq would not read back as written".to_string(),
    };
    format!(
        "cannot be written into dnsmasq's {key} option: it contains {}, {what}",
        describe_char(c)
    )
}

fn push_quoted(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x1b' => out.push_str("\\e"),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn check_length(line: &str, fields: &[Field], key: Key) -> Result<(), RenderError> {
    if line.len() <= MAX_LINE_BYTES {
        return Ok(());
    }
    let longest = fields
        .iter()
        .filter_map(|f| match f {
            Field::Data { text, path } => Some((text.len(), path.as_str())),
            Field::Fixed(_) => None,
        })
        .max_by_key(|(len, _)| *len);
    let path = longest.map_or(key.name(), |(_, p)| p);
    Err(RenderError::new(
        path,
        format!(
            "too long: dnsmasq's {key} line would be {} bytes, and dnsmasq reads at most \
             {MAX_LINE_BYTES} bytes per line",
            line.len()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(text: &str) -> Field {
        Field::data(text, "x")
    }

    fn line(key: Key, fields: &[&str]) -> Result<String, RenderError> {
        let fields = fields.iter().map(|t| data(t)).collect();
        write_line(&Entry { key, fields })
    }

    #[test]
    fn bare_when_dnsmasq_reads_it_back() {
        assert_eq!(
            line(Key::TxtRecord, &["example", "example value"]).unwrap(),
            "txt-record=example,example value"
        );
        assert_eq!(
            line(Key::PidFile, &["/run/a,b.pid"]).unwrap(),
            "pid-file=/run/a,b.pid"
        );
        assert_eq!(write_line(&Entry::flag(Key::NoPing)).unwrap(), "no-ping");
    }

    #[test]
    fn quoted_where_the_option_unhides() {
        assert_eq!(
            line(Key::TftpRoot, &["/srv/a,b"]).unwrap(),
            "tftp-root=\"/srv/a,b\""
        );
        assert_eq!(
            line(Key::TxtRecord, &["k", " a", "x\"y\\z\t"]).unwrap(),
            "txt-record=k,\" a\",\"x\\\"y\\\\z\\t\""
        );
        assert_eq!(
            line(Key::DhcpBoot, &["tag:x"]).unwrap(),
            "dhcp-boot=\"tag:x\""
        );
        assert_eq!(
            line(Key::PidFile, &["/a #b"]).unwrap(),
            "pid-file=\"/a #b\""
        );
        assert_eq!(line(Key::Interface, &["é"]).unwrap(), "interface=\"é\"");
    }

    #[test]
    fn refused_where_nothing_protects() {
        assert!(line(Key::TxtRecord, &["k", "a\nb"]).is_err());
        assert!(line(Key::TftpRoot, &["a\u{b}"]).is_err());
        let e = line(Key::Local, &["", "a\"b", ""]).unwrap_err();
        assert!(e.message.contains("'\"'"), "{e}");
        assert!(line(Key::Server, &["", "a/b", "1.1.1.1"]).is_err());
        assert!(line(Key::Domain, &["a,b"]).is_err());
    }

    #[test]
    fn lines_longer_than_dnsmasq_reads_are_refused() {
        let long = "x".repeat(MAX_LINE_BYTES);
        let e = line(Key::TxtRecord, &["k", &long]).unwrap_err();
        assert_eq!(e.path, "x");
        assert!(e.message.contains("at most 1024"), "{e}");
        let fits = "x".repeat(MAX_LINE_BYTES - "txt-record=k,".len());
        assert!(line(Key::TxtRecord, &["k", &fits]).is_ok());
    }

    #[test]
    fn keys_are_named_once() {
        for (i, k) in Key::ALL.iter().enumerate() {
            assert_eq!(Key::from_name(k.name()), Some(*k));
            assert!(Key::ALL[..i].iter().all(|o| o.name() != k.name()));
        }
    }
}
