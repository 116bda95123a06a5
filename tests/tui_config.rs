//! Config fixtures: valid ones load, invalid ones fail with a message naming the key or field.

use std::path::{Path, PathBuf};

use switchyard::tui::config::{Config, DEFAULT_INTERVAL_MS};
use switchyard::tui::keymap::Action;
use switchyard::tui::keys::KeyBinding;
use switchyard::tui::{settings_for, Theme, TuiOptions, Units};

fn fixture(kind: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(kind)
        .join(name)
}

fn load(kind: &str, name: &str) -> Result<Config, String> {
    Config::load(Some(&fixture(kind, name))).map_err(|e| e.to_string())
}

#[test]
fn full_config_loads_every_setting() {
    let c = load("valid", "full.toml").expect("valid");
    assert_eq!(
        (c.theme.as_str(), c.interval_ms, c.units),
        ("high-contrast", 2000, Units::Bytes)
    );
    assert_eq!(c.keymap.keys(Action::Freeze), &[KeyBinding::ch('F')]);
    assert_eq!(
        c.keymap.keys(Action::Quit),
        &[KeyBinding::ch('q'), KeyBinding::ctrl('q')]
    );
    assert_eq!(c.keymap.key_label(Action::Help), "F1");
}

#[test]
fn partial_and_empty_configs_default_the_rest() {
    for name in ["minimal.toml", "empty.toml"] {
        let c = load("valid", name).expect("valid");
        assert_eq!(c, Config::default(), "{name}");
    }
    assert_eq!(Config::default().interval_ms, DEFAULT_INTERVAL_MS);
    let c = load("valid", "user_theme.toml").expect("a theme name is only checked when used");
    assert_eq!(c.theme, "my-solarized");
}

#[test]
fn invalid_configs_name_the_culprit() {
    let cases = [
        ("unknown_key.toml", &["refresh"][..]),
        ("unknown_table_key.toml", &["colors"]),
        ("bad_units.toml", &["units", "packets"]),
        ("interval_type.toml", &["interval_ms"]),
        ("interval_range.toml", &["interval_ms", "5"]),
        ("unknown_action.toml", &["keys.explode", "unknown action"]),
        ("bad_key_name.toml", &["keys.quit", "ctrl-"]),
        ("key_conflict.toml", &["keys.repair", "start_stop"]),
        ("key_type.toml", &["quit", "key name"]),
        ("empty_theme.toml", &["theme"]),
        ("not_toml.toml", &["theme"]),
    ];
    for (name, needles) in cases {
        let err = load("invalid", name).expect_err(name);
        assert!(
            err.contains(name),
            "{name}: the message names the file: {err}"
        );
        for needle in needles {
            assert!(
                err.contains(needle),
                "{name}: expected {needle:?} in: {err}"
            );
        }
    }
}

#[test]
fn every_invalid_fixture_is_covered() {
    let dir = fixture("invalid", "");
    let count = std::fs::read_dir(&dir).expect("fixtures dir").count();
    assert_eq!(
        count, 11,
        "add new invalid fixtures to invalid_configs_name_the_culprit"
    );
}

#[test]
fn an_explicit_missing_file_is_an_error() {
    let err = load("valid", "no-such-file.toml").expect_err("missing");
    assert!(err.contains("no-such-file.toml"), "{err}");
}

#[test]
fn options_win_over_the_config_and_no_color_wins_over_themes() {
    let config = load("valid", "full.toml").expect("valid");
    let opts = TuiOptions {
        interval_ms: 250,
        bytes: true,
        theme: Some("light".into()),
        config_path: None,
    };
    let s = settings_for(&config, &opts, false).expect("valid");
    assert_eq!((s.interval_ms, s.units), (250, Units::Bytes));
    assert_eq!(s.theme, Theme::builtin("light").expect("built in"));
    let s = settings_for(&config, &TuiOptions::default(), false).expect("valid");
    assert_eq!(
        (s.interval_ms, s.theme.name.as_str()),
        (2000, "high-contrast"),
        "0 means from config"
    );
    let s = settings_for(&config, &opts, true).expect("valid");
    assert_eq!(s.theme, Theme::no_color());

    let bad = TuiOptions {
        interval_ms: 10,
        ..TuiOptions::default()
    };
    let err = settings_for(&config, &bad, false)
        .expect_err("out of range")
        .to_string();
    assert!(err.contains("interval_ms"), "{err}");
    let unknown = TuiOptions {
        theme: Some("neon".into()),
        ..TuiOptions::default()
    };
    let err = settings_for(&config, &unknown, false)
        .expect_err("unknown theme")
        .to_string();
    assert!(err.contains("neon"), "{err}");
}

#[test]
fn theme_files_in_the_repo_are_the_built_ins() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes");
    for entry in std::fs::read_dir(dir).expect("themes dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        Theme::builtin(name)
            .unwrap_or_else(|e| panic!("themes/{name}.toml is not built in or invalid: {e}"));
    }
}
