//! The TUI's config file (TOML): theme, refresh interval, units and key overrides.
//!
//! ```toml
//! theme = "dark"          # or "light", "high-contrast", or <config dir>/switchyard/themes/NAME.toml
//! interval_ms = 1000      # 100 ..= 60000
//! units = "bits"          # or "bytes"
//! [keys]
//! freeze = "F"            # action = "key", or a list: quit = ["q", "ctrl-q"]
//! ```
//!
//! Unknown keys are errors naming the key; bad values name the field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use thiserror::Error;

use super::format::Units;
use super::keymap::{Keymap, KeymapError};
use super::theme::DEFAULT_THEME;

/// Fastest refresh allowed.
pub const MIN_INTERVAL_MS: u64 = 100;
/// Slowest refresh allowed.
pub const MAX_INTERVAL_MS: u64 = 60_000;
/// Refresh when nothing says otherwise.
pub const DEFAULT_INTERVAL_MS: u64 = 1_000;

/// A config file that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file exists but cannot be read (or an explicitly named file is missing).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key, or a value of the wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, which names the key and shows the line.
        message: String,
    },
    /// A value of the right type but out of range.
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A bad `[keys]` entry.
    #[error("{path}: {source}")]
    Keys {
        /// The file.
        path: PathBuf,
        /// Which action and why.
        source: KeymapError,
    },
}

/// The keys of one action: `"q"` or `["q", "ctrl-q"]`.
#[derive(Debug)]
struct KeySpec(Vec<String>);

impl<'de> Deserialize<'de> for KeySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = KeySpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key name such as \"q\" or a list of key names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeySpec, E> {
                Ok(KeySpec(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeySpec, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = seq.next_element::<String>()? {
                    keys.push(k);
                }
                Ok(KeySpec(keys))
            }
        }
        d.deserialize_any(KeysVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    theme: Option<String>,
    interval_ms: Option<u64>,
    units: Option<Units>,
    #[serde(default)]
    keys: BTreeMap<String, KeySpec>,
}

/// The TUI settings after reading the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Theme name.
    pub theme: String,
    /// Refresh interval.
    pub interval_ms: u64,
    /// Rate units.
    pub units: Units,
    /// Keymap with overrides applied.
    pub keymap: Keymap,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            theme: DEFAULT_THEME.into(),
            interval_ms: DEFAULT_INTERVAL_MS,
            units: Units::Bits,
            keymap: Keymap::default(),
        }
    }
}

/// `<config dir>/switchyard`, e.g. `~/.config/switchyard`.
pub fn config_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.config_dir().join("switchyard"))
}

/// Where the config file is looked for when no path is given.
pub fn default_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.toml"))
}

/// Where user themes are looked for.
pub fn themes_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("themes"))
}

impl Config {
    /// Load the config: from `path` if given (it must exist), else from [`default_path`] (a
    /// missing file there means defaults).
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, must_exist) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => match default_path() {
                Some(p) => (p, false),
                None => return Ok(Config::default()),
            },
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text, &path),
            Err(e) if !must_exist && e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Config::default())
            }
            Err(source) => Err(ConfigError::Io { path, source }),
        }
    }

    /// Parse config text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let invalid = |field, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            field,
            message,
        };
        let interval_ms = file.interval_ms.unwrap_or(DEFAULT_INTERVAL_MS);
        if !(MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&interval_ms) {
            let msg =
                format!("{interval_ms} is out of range {MIN_INTERVAL_MS}..={MAX_INTERVAL_MS}");
            return Err(invalid("interval_ms", msg));
        }
        let theme = file.theme.unwrap_or_else(|| DEFAULT_THEME.into());
        if theme.trim().is_empty() {
            return Err(invalid("theme", "must not be empty".into()));
        }
        let overrides = file
            .keys
            .into_iter()
            .map(|(action, spec)| (action, spec.0))
            .collect();
        let keymap = Keymap::with_overrides(&overrides).map_err(|source| ConfigError::Keys {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Config {
            theme,
            interval_ms,
            units: file.units.unwrap_or_default(),
            keymap,
        })
    }
}
