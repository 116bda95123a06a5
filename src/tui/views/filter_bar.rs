//! The one-line filter bar under a filterable table (ports, leases, forwards): " / text  3 of 12", with
//! the cursor while the filter is being typed.

use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};
use ratatui::Frame;
use tui_input::Input;

use crate::tui::app::{App, ListState, Popup, View};
use crate::tui::layout;
use crate::tui::widgets::{Column, DataTable};

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

/// A filterable list: its name, its rows and the lines for no rows at all and for none
/// matching the filter.
pub struct FilteredList<'a, C> {
    pub view: View,
    /// Title stem: "Ports (12)", "Ports (3 of 12)".
    pub name: &'a str,
    pub columns: &'a [Column<C>],
    pub shown: usize,
    pub total: usize,
    pub list: ListState,
    pub filter: &'a Input,
    pub none: &'a str,
    pub no_match: &'a str,
}

impl<C: Copy> FilteredList<'_, C> {
    /// The rows [`Self::draw`] shows in `body`, as indices into the list.
    pub fn visible(&self, body: Rect, app: &App) -> std::ops::Range<usize> {
        let (table_area, _) = layout::filtered(body, app.filter_bar(self.view));
        crate::tui::widgets::table::window(self.list, self.shown, table_area)
    }

    /// Draws the table in `body` and, while a filter is set or typed, the bar under it.
    pub fn draw<'c>(
        &self,
        frame: &mut Frame,
        body: Rect,
        app: &App,
        focused: bool,
        cell: impl Fn(usize, C, u16) -> Cell<'c>,
    ) {
        let (table_area, bar) = layout::filtered(body, app.filter_bar(self.view));
        let (name, shown, total) = (self.name, self.shown, self.total);
        let table = DataTable {
            title: match shown == total {
                true => format!("{name} ({total})"),
                false => format!("{name} ({shown} of {total})"),
            },
            focused,
            columns: self.columns,
            len: shown,
            list: self.list,
            empty: if total == 0 { self.none } else { self.no_match },
        };
        table.render(frame, table_area, &app.settings.theme, cell);
        if let Some(bar) = bar {
            draw(frame, bar, app, self.filter, shown, total);
        }
    }
}
