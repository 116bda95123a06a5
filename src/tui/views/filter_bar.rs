//! The one-line filter bar under a filterable table (ports, leases): " / text  3 of 12", with
//! the cursor while the filter is being typed.

use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use tui_input::Input;

use crate::tui::app::{App, Popup};

/// Draw the bar for `filter`, which shows `shown` of `total` rows.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, filter: &Input, shown: usize, total: usize) {
    let t = &app.settings.theme;
    let editing = matches!(app.popup(), Some(Popup::Filter));
    let prefix = " / ";
    let count = format!("  {shown} of {total}");
    let room = usize::from(area.width).saturating_sub(prefix.len() + count.chars().count() + 1);
    let scroll = filter.visual_scroll(room);
    let text: String = filter.value().chars().skip(scroll).take(room).collect();
    let line = Line::from(vec![
        Span::styled(prefix, t.key),
        Span::styled(text, if editing { t.selected } else { t.base }),
        Span::styled(count, t.muted),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    if editing {
        let x =
            area.x + prefix.len() as u16 + (filter.visual_cursor().saturating_sub(scroll)) as u16;
        if x < area.right() {
            frame.set_cursor_position(Position::new(x, area.y));
        }
    }
}
