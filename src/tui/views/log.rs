//! The log view: what switchyard did and what failed, oldest first, times in UTC.

use ratatui::layout::Rect;
use ratatui::widgets::Cell;
use ratatui::Frame;

use super::chrome::level_style;
use crate::tui::app::{App, Level};
use crate::tui::format;
use crate::tui::widgets::table::left;
use crate::tui::widgets::{Column, DataTable};

#[derive(Debug, Clone, Copy)]
enum Col {
    Time,
    Level,
    Text,
}

fn cell<'a>(app: &App, row: usize, col: Col, width: u16) -> Cell<'a> {
    let t = &app.settings.theme;
    let entry = &app.log_entries()[row];
    match col {
        Col::Time => left(
            entry.at_unix.map_or("--:--:--".into(), format::clock_utc),
            t.muted,
        ),
        Col::Level => {
            let icon = match entry.level {
                Level::Info => "·",
                Level::Ok => "✔",
                Level::Warn => "⚠",
                Level::Error => "✖",
            };
            left(icon, level_style(t, entry.level))
        }
        Col::Text => left(
            format::fit(&entry.text, width.into()),
            level_style(t, entry.level),
        ),
    }
}

/// Draw the view.
pub fn draw(frame: &mut Frame, body: Rect, app: &App, focused: bool) {
    let cols = vec![
        Column::new(Col::Time, "UTC", 8, 1),
        Column::new(Col::Level, "", 1, 0),
        Column::new(Col::Text, "Event", 10, 0).grow(),
    ];
    let len = app.log_entries().len();
    let table = DataTable {
        title: format!("Log ({len})"),
        focused,
        columns: &cols,
        len,
        list: app.log.list,
        empty: "nothing happened yet",
    };
    table.render(frame, body, &app.settings.theme, |i, c, w| {
        cell(app, i, c, w)
    });
}
