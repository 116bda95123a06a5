//! Key bindings as data: parsing ("ctrl-c", "shift-tab", "PgDn", "?"), matching crossterm key
//! events, and display for the help screen and footer.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use thiserror::Error;

/// A key name that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown key {0:?} (try \"q\", \"ctrl-r\", \"shift-tab\", \"enter\", \"pgdn\", \"f5\")")]
pub struct KeyParseError(pub String);

/// One key with its modifiers (Shift is folded into the character for printable keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyBinding {
    /// The key.
    pub code: KeyCode,
    /// Control and Alt (Shift only for non-character keys).
    pub mods: KeyModifiers,
}

impl KeyBinding {
    /// A key without modifiers.
    pub const fn plain(code: KeyCode) -> Self {
        Self {
            code,
            mods: KeyModifiers::NONE,
        }
    }

    /// A character key.
    pub const fn ch(c: char) -> Self {
        Self::plain(KeyCode::Char(c))
    }

    /// A Ctrl-chord of a character.
    pub const fn ctrl(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            mods: KeyModifiers::CONTROL,
        }
    }

    /// The binding a key event corresponds to, normalised the way bindings are stored.
    pub fn from_event(ev: &KeyEvent) -> Self {
        Self::normalised(ev.code, ev.modifiers)
    }

    fn normalised(code: KeyCode, mods: KeyModifiers) -> Self {
        let keep = KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT;
        let mut mods = mods & keep;
        let code = match code {
            // Terminals differ in whether they report Shift with an upper-case letter or BackTab.
            KeyCode::Char(_) | KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                code
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        let code = match code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        Self { code, mods }
    }

    /// Parse a key name as written in the config file.
    pub fn parse(text: &str) -> Result<Self, KeyParseError> {
        let err = || KeyParseError(text.to_string());
        let mut rest = text.trim();
        let mut mods = KeyModifiers::NONE;
        loop {
            let lower = rest.to_ascii_lowercase();
            let found = [
                ("ctrl", KeyModifiers::CONTROL),
                ("alt", KeyModifiers::ALT),
                ("shift", KeyModifiers::SHIFT),
            ]
            .into_iter()
            .find(|(name, _)| {
                lower.len() > name.len() + 1
                    && lower.starts_with(name)
                    && matches!(&lower[name.len()..=name.len()], "-" | "+")
            });
            let Some((name, m)) = found else { break };
            mods |= m;
            rest = &rest[name.len() + 1..];
        }
        let code = parse_code(rest).ok_or_else(err)?;
        Ok(Self::normalised(code, mods))
    }
}

fn parse_code(name: &str) -> Option<KeyCode> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(KeyCode::Char(c));
    }
    let lower = name.to_ascii_lowercase();
    let code = match lower.as_str() {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pgup" | "pageup" => KeyCode::PageUp,
        "pgdn" | "pagedown" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        f if f.starts_with('f') => {
            KeyCode::F(f[1..].parse().ok().filter(|n| (1..=24).contains(n))?)
        }
        _ => return None,
    };
    Some(code)
}

impl fmt::Display for KeyBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("S-Tab"),
            KeyCode::Backspace => f.write_str("Bksp"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let cases: &[(&str, KeyBinding)] = &[
            ("q", KeyBinding::ch('q')),
            ("Q", KeyBinding::ch('Q')),
            ("+", KeyBinding::ch('+')),
            ("-", KeyBinding::ch('-')),
            ("ctrl-c", KeyBinding::ctrl('c')),
            ("Ctrl+C", KeyBinding::ctrl('c')),
            ("shift-tab", KeyBinding::plain(KeyCode::BackTab)),
            ("backtab", KeyBinding::plain(KeyCode::BackTab)),
            ("PgDn", KeyBinding::plain(KeyCode::PageDown)),
            ("space", KeyBinding::ch(' ')),
            ("f5", KeyBinding::plain(KeyCode::F(5))),
            (
                "alt-x",
                KeyBinding {
                    code: KeyCode::Char('x'),
                    mods: KeyModifiers::ALT,
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(KeyBinding::parse(text).as_ref(), Ok(want), "{text}");
        }
        for bad in ["", "ctrl-", "f99", "hyper-x", "enterr"] {
            assert!(KeyBinding::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn events_normalise_like_bindings() {
        let shifted = KeyEvent::new(KeyCode::Char('O'), KeyModifiers::SHIFT);
        assert_eq!(KeyBinding::from_event(&shifted), KeyBinding::ch('O'));
        let backtab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(
            KeyBinding::from_event(&backtab),
            KeyBinding::plain(KeyCode::BackTab)
        );
        let ctrl_c = KeyEvent::new(
            KeyCode::Char('C'),
            KeyModifiers::CONTROL | KeyModifiers::SHIFT,
        );
        assert_eq!(KeyBinding::from_event(&ctrl_c), KeyBinding::ctrl('c'));
    }

    #[test]
    fn display_is_readable() {
        assert_eq!(KeyBinding::ctrl('c').to_string(), "Ctrl-c");
        assert_eq!(KeyBinding::plain(KeyCode::PageDown).to_string(), "PgDn");
        assert_eq!(KeyBinding::ch('?').to_string(), "?");
    }
}
