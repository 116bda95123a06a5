//! Shared helpers for the TUI tests: an App fed from the simulated host (`live::demo`: the real
//! backend over `FakeHost`), rendering to a TestBackend, and key/mouse event builders.
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use switchyard::tui::app::{App, Settings};

use switchyard::tui::{Event, Snapshot, Theme};

/// Seconds of simulated history fed before a screenshot: two full minutes in the coarse ring.
pub const HISTORY_SECS: usize = 150;

/// The simulated host's first `HISTORY_SECS + 1` snapshots, one fake second apart; taken once
/// per test binary (they are the same on every run).
pub fn history() -> &'static [Snapshot] {
    static HISTORY: OnceLock<Vec<Snapshot>> = OnceLock::new();
    HISTORY.get_or_init(|| switchyard::live::demo::series(HISTORY_SECS))
}

/// An App of the given size with `HISTORY_SECS` snapshots from the simulated host.
pub fn app(width: u16, height: u16) -> App {
    app_with(Settings::default(), width, height)
}

/// Same, with explicit settings.
pub fn app_with(settings: Settings, width: u16, height: u16) -> App {
    let mut app = App::new(settings, (width, height));
    for snap in history() {
        app.update(Event::Snapshot(Arc::new(snap.clone())));
    }
    app
}

/// Settings with the colourless theme.
pub fn no_color() -> Settings {
    Settings {
        theme: Theme::no_color(),
        ..Settings::default()
    }
}

/// Draw the App into a fresh TestBackend of its size.
pub fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal
        .draw(|f| switchyard::tui::views::draw(f, app))
        .expect("drawing on a test backend cannot fail");
    terminal
}

/// A key press.
pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A character key press.
pub fn ch(c: char) -> Event {
    key(KeyCode::Char(c))
}

/// Press every character of `text`.
pub fn type_str(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(ch(c));
    }
}

/// A left click at (column, row).
pub fn click(column: u16, row: u16) -> Event {
    Event::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

/// A wheel notch down at (column, row).
pub fn wheel_down(column: u16, row: u16) -> Event {
    Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

/// The screen as text lines.
pub fn lines(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buf = terminal.backend().buffer();
    (0..buf.area.height)
        .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}
