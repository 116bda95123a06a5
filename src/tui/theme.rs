//! Semantic themes: styles named by meaning (header, selected, warning, ...), loaded from TOML.
//! Views ask the theme for `theme.warning` or `theme.block(title, focused)` and never name a
//! colour. Only the 16 ANSI colours and the 256-colour index are accepted: nothing depends on
//! true colour, which many SSH clients and consoles lack.

use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType};
use serde::Deserialize;
use thiserror::Error;

/// The built-in themes, compiled in: (name, TOML).
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// Name of the theme used when none is chosen.
pub const DEFAULT_THEME: &str = "dark";

/// A theme that cannot be used.
#[derive(Debug, Error)]
pub enum ThemeError {
    /// No built-in or user theme has this name.
    #[error("unknown theme {name:?} (built in: dark, light, high-contrast; or a file {dir}/<name>.toml)")]
    Unknown {
        /// The requested name.
        name: String,
        /// Where user themes are looked for.
        dir: String,
    },
    /// The theme file does not parse or has a bad value.
    #[error("theme {name:?}: {message}")]
    Invalid {
        /// The theme's name.
        name: String,
        /// What is wrong, naming the field.
        message: String,
    },
    /// The user theme file exists but cannot be read.
    #[error("theme {name:?}: cannot read {path}: {source}")]
    Io {
        /// The theme's name.
        name: String,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A colour as written in a theme file: an ANSI name or an index 0–255.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "ColorText")]
struct ColorDef(Color);

#[derive(Deserialize)]
#[serde(untagged)]
enum ColorText {
    Name(String),
    Index(i64),
}

impl TryFrom<ColorText> for ColorDef {
    type Error = String;

    fn try_from(value: ColorText) -> Result<Self, String> {
        let name = match value {
            ColorText::Index(i) => {
                return u8::try_from(i)
                    .map(|i| ColorDef(Color::Indexed(i)))
                    .map_err(|_| format!("colour index {i} is not in 0–255"));
            }
            ColorText::Name(n) => n,
        };
        let color = match name.to_ascii_lowercase().replace(['-', '_', ' '], "").as_str() {
            "reset" | "default" => Color::Reset,
            "black" => Color::Black,
            "red" => Color::Red,
            "green" => Color::Green,
            "yellow" => Color::Yellow,
            "blue" => Color::Blue,
            "magenta" => Color::Magenta,
            "cyan" => Color::Cyan,
            "gray" | "grey" => Color::Gray,
            "darkgray" | "darkgrey" => Color::DarkGray,
            "lightred" => Color::LightRed,
            "lightgreen" => Color::LightGreen,
            "lightyellow" => Color::LightYellow,
            "lightblue" => Color::LightBlue,
            "lightmagenta" => Color::LightMagenta,
            "lightcyan" => Color::LightCyan,
            "white" => Color::White,
            _ if name.starts_with('#') => {
                return Err(format!("{name:?}: true colour is not supported, use an ANSI colour name or an index 0–255"));
            }
            _ => return Err(format!("unknown colour {name:?} (ANSI names such as \"red\", \"darkgray\", \"lightcyan\", or an index 0–255)")),
        };
        Ok(ColorDef(color))
    }
}

/// One style as written in a theme file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleDef {
    fg: Option<ColorDef>,
    bg: Option<ColorDef>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underlined: bool,
    #[serde(default)]
    reversed: bool,
}

impl StyleDef {
    fn to_style(&self) -> Style {
        let mut style = Style::default();
        if let Some(ColorDef(c)) = self.fg {
            style = style.fg(c);
        }
        if let Some(ColorDef(c)) = self.bg {
            style = style.bg(c);
        }
        let mods = [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.italic, Modifier::ITALIC),
            (self.underlined, Modifier::UNDERLINED),
            (self.reversed, Modifier::REVERSED),
        ];
        mods.into_iter()
            .filter(|(on, _)| *on)
            .fold(style, |s, (_, m)| s.add_modifier(m))
    }
}

macro_rules! theme_slots {
    ($($slot:ident: $doc:literal),* $(,)?) => {
        /// Styles by meaning. Every view draws with these and nothing else.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Theme {
            /// Theme name.
            pub name: String,
            $(#[doc = $doc] pub $slot: Style,)*
        }

        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct StylesDef { $($slot: Option<StyleDef>,)* }

        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            #[serde(default)]
            styles: StylesDef,
        }

        impl Theme {
            fn from_file(name: &str, file: ThemeFile, base: Option<&Theme>) -> Theme {
                let fallback = |s: Option<&Theme>, f: fn(&Theme) -> Style| s.map(f).unwrap_or_default();
                Theme {
                    name: name.to_string(),
                    $($slot: file.styles.$slot.as_ref().map_or_else(
                        || fallback(base, |t| t.$slot), StyleDef::to_style),)*
                }
            }

            /// The slots a built-in theme must all set.
            fn missing_slots(file: &ThemeFile) -> Vec<&'static str> {
                let mut out = Vec::new();
                $(if file.styles.$slot.is_none() { out.push(stringify!($slot)); })*
                out
            }
        }
    };
}

theme_slots! {
    base: "Ordinary text.",
    header: "The header bar.",
    tab: "An inactive view tab.",
    tab_active: "The current view tab.",
    title: "Block titles.",
    table_header: "Column headings.",
    selected: "The selected row.",
    border: "Borders of unfocused blocks.",
    border_focused: "Borders of the focused block.",
    ok: "Good news: active, succeeded.",
    warning: "Attention: drift, pending, expiring.",
    error: "Failure.",
    inactive: "Stopped or down things.",
    muted: "Secondary text: units, missing data.",
    key: "Key names in hints and help.",
    rx: "Received traffic in charts and sparklines.",
    tx: "Transmitted traffic in charts and sparklines.",
    popup: "Popup background.",
}

impl Default for Theme {
    fn default() -> Self {
        Self::builtin(DEFAULT_THEME).expect("the default theme is compiled in and tested")
    }
}

fn parse_file(name: &str, text: &str) -> Result<ThemeFile, ThemeError> {
    toml::from_str(text).map_err(|e| ThemeError::Invalid {
        name: name.to_string(),
        message: e.to_string(),
    })
}

impl Theme {
    /// A built-in theme by name; every slot must be set.
    pub fn builtin(name: &str) -> Result<Theme, ThemeError> {
        let (_, text) =
            BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| ThemeError::Unknown {
                    name: name.to_string(),
                    dir: "(no user dir)".into(),
                })?;
        let file = parse_file(name, text)?;
        let missing = Self::missing_slots(&file);
        if !missing.is_empty() {
            return Err(ThemeError::Invalid {
                name: name.to_string(),
                message: format!("missing styles: {}", missing.join(", ")),
            });
        }
        Ok(Self::from_file(name, file, None))
    }

    /// Parse a theme from TOML text; unset slots come from the default theme.
    pub fn from_toml(name: &str, text: &str) -> Result<Theme, ThemeError> {
        let file = parse_file(name, text)?;
        Ok(Self::from_file(name, file, Some(&Theme::default())))
    }

    /// A theme by name: `<user_dir>/<name>.toml` if it exists, else a built-in one.
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Theme, ThemeError> {
        let safe = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if let (true, Some(dir)) = (safe, user_dir) {
            let path = dir.join(format!("{name}.toml"));
            match std::fs::read_to_string(&path) {
                Ok(text) => return Self::from_toml(name, &text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(ThemeError::Io {
                        name: name.into(),
                        path: path.display().to_string(),
                        source,
                    })
                }
            }
        }
        Self::builtin(name).map_err(|e| match e {
            ThemeError::Unknown { name, .. } => ThemeError::Unknown {
                name,
                dir: user_dir.map_or("(no user dir)".into(), |d| d.display().to_string()),
            },
            other => other,
        })
    }

    /// The colourless theme for `NO_COLOR`: selection and emphasis by reverse, bold, dim and
    /// underline only.
    pub fn no_color() -> Theme {
        let s = Style::default;
        let m = |m: Modifier| Style::default().add_modifier(m);
        Theme {
            name: "no-color".into(),
            base: s(),
            header: m(Modifier::BOLD),
            tab: s(),
            tab_active: m(Modifier::REVERSED | Modifier::BOLD),
            title: m(Modifier::BOLD),
            table_header: m(Modifier::BOLD | Modifier::UNDERLINED),
            selected: m(Modifier::REVERSED | Modifier::BOLD),
            border: s(),
            border_focused: m(Modifier::BOLD),
            ok: s(),
            warning: m(Modifier::BOLD),
            error: m(Modifier::BOLD | Modifier::UNDERLINED),
            inactive: m(Modifier::DIM),
            muted: m(Modifier::DIM),
            key: m(Modifier::BOLD),
            rx: s(),
            tx: s(),
            popup: s(),
        }
    }

    /// A bordered block with a title, its border showing whether it has focus.
    pub fn block<'a>(&self, title: impl Into<String>, focused: bool) -> Block<'a> {
        let border = if focused {
            self.border_focused
        } else {
            self.border
        };
        Block::bordered()
            .border_type(if focused {
                BorderType::Thick
            } else {
                BorderType::Plain
            })
            .border_style(border)
            .title(Span::styled(format!(" {} ", title.into()), self.title))
    }

    /// Style of a running/stopped state.
    pub fn state(&self, active: bool) -> Style {
        if active {
            self.ok
        } else {
            self.inactive
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_completely() {
        for (name, _) in BUILTIN {
            let theme = Theme::builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_ne!(
                theme.selected,
                Style::default(),
                "{name}: selection must show"
            );
        }
    }

    #[test]
    fn user_theme_falls_back_and_rejects_true_colour() {
        let t = Theme::from_toml("mine", "[styles]\nerror = { fg = 196, bold = true }\n")
            .expect("valid");
        assert_eq!(
            t.error,
            Style::default()
                .fg(Color::Indexed(196))
                .add_modifier(Modifier::BOLD)
        );
        assert_eq!(t.selected, Theme::default().selected);
        let rgb = Theme::from_toml("rgb", "[styles]\nerror = { fg = \"#ff0000\" }\n")
            .expect_err("true colour");
        assert!(rgb.to_string().contains("true colour"), "{rgb}");
        let typo = Theme::from_toml("typo", "[styles]\nwarnin = { fg = \"red\" }\n")
            .expect_err("unknown slot");
        assert!(typo.to_string().contains("warnin"), "{typo}");
    }

    #[test]
    fn no_color_still_marks_selection() {
        let t = Theme::no_color();
        assert!(t.selected.add_modifier.contains(Modifier::REVERSED));
        assert_eq!(t.selected.fg, None);
    }

    #[test]
    fn unknown_and_unsafe_names() {
        assert!(matches!(
            Theme::load("nope", None),
            Err(ThemeError::Unknown { .. })
        ));
        let dir = std::env::temp_dir();
        assert!(matches!(
            Theme::load("../etc/passwd", Some(&dir)),
            Err(ThemeError::Unknown { .. })
        ));
    }
}
