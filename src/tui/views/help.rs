//! The help popup, generated from the live keymap.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::tui::app::App;
use crate::tui::layout;

/// Every binding, grouped by scope; one line each.
pub fn lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.settings.theme;
    let mut out = Vec::new();
    for (scope, entries) in app.settings.keymap.help() {
        if !out.is_empty() {
            out.push(Line::default());
        }
        out.push(Line::styled(scope.title(), t.title));
        for (keys, desc) in entries {
            out.push(Line::from(vec![
                Span::styled(format!("  {keys:<14}"), t.key),
                Span::styled(desc, t.base),
            ]));
        }
    }
    out
}

/// Draw the popup over `area`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, scroll: u16) {
    let t = &app.settings.theme;
    let popup = layout::centered(
        area,
        64,
        area.height.saturating_sub(2).max(area.height.min(3)),
    );
    frame.render_widget(Clear, popup);
    let block = t.block("Help (↑/↓ scroll, Esc close)", true).style(t.popup);
    let lines = lines(app);
    // The last page ends at the last line: no blank pages below it.
    let inner = popup.height.saturating_sub(2);
    let scroll = scroll.min((lines.len() as u16).saturating_sub(inner));
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((scroll, 0)),
        popup,
    );
}
