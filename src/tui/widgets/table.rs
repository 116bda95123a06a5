//! A bordered table that drops low-priority columns when narrow and builds only the rows that
//! are visible, so a thousand ports cost no more to draw than forty.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use crate::tui::app::ListState;
use crate::tui::theme::Theme;

/// One column: heading, width, and how much it matters (0 = always shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column<C> {
    /// Which column, for the cell builder.
    pub id: C,
    /// Heading.
    pub title: String,
    /// Width in cells.
    pub width: u16,
    /// Lower is kept longer when space runs out.
    pub priority: u8,
    /// Right-align the heading (numbers).
    pub right: bool,
    /// Takes the width left over when the table is wider than its columns.
    pub grow: bool,
    /// The widest a growing column becomes (`None`: it takes all the spare width left).
    pub grow_cap: Option<u16>,
}

impl<C> Column<C> {
    /// A left-aligned column.
    pub fn new(id: C, title: impl Into<String>, width: u16, priority: u8) -> Self {
        Self {
            id,
            title: title.into(),
            width,
            priority,
            right: false,
            grow: false,
            grow_cap: None,
        }
    }

    /// The same column, taking the spare width.
    pub fn grow(mut self) -> Self {
        self.grow = true;
        self
    }

    /// The same column, taking spare width up to `max` columns in all (before the columns
    /// after it that grow).
    pub fn grow_to(mut self, max: u16) -> Self {
        self.grow = true;
        self.grow_cap = Some(max);
        self
    }

    /// The same column, right-aligned.
    pub fn right(mut self) -> Self {
        self.right = true;
        self
    }
}

/// Indices of the columns that fit in `width`, most important first, in display order.
pub fn fit<C>(columns: &[Column<C>], width: u16) -> Vec<usize> {
    let mut by_priority: Vec<usize> = (0..columns.len()).collect();
    by_priority.sort_by_key(|i| columns[*i].priority);
    let mut used = 0u16;
    let mut keep = Vec::with_capacity(columns.len());
    for i in by_priority {
        let need = columns[i].width + u16::from(!keep.is_empty());
        if used + need <= width {
            used += need;
            keep.push(i);
        }
    }
    keep.sort_unstable();
    keep
}

/// The columns kept for `width` and their final widths, spare width going to the growing
/// columns in display order, each up to its cap.
pub fn layout<C>(columns: &[Column<C>], width: u16) -> Vec<(usize, u16)> {
    let keep = fit(columns, width);
    let used: u16 =
        keep.iter().map(|i| columns[*i].width).sum::<u16>() + keep.len().saturating_sub(1) as u16;
    let mut spare = width.saturating_sub(used);
    keep.into_iter()
        .map(|i| {
            let extra = if columns[i].grow {
                let room = columns[i]
                    .grow_cap
                    .map_or(u16::MAX, |cap| cap.saturating_sub(columns[i].width));
                let e = spare.min(room);
                spare -= e;
                e
            } else {
                0
            };
            (i, columns[i].width + extra)
        })
        .collect()
}

/// Everything needed to draw one table.
pub struct DataTable<'t, C> {
    /// Block title.
    pub title: String,
    /// Whether the table has focus.
    pub focused: bool,
    /// All columns, in display order.
    pub columns: &'t [Column<C>],
    /// Number of rows.
    pub len: usize,
    /// Selection and scroll.
    pub list: ListState,
    /// Shown when there are no rows.
    pub empty: &'t str,
}

impl<C: Copy> DataTable<'_, C> {
    /// Draw it; `cell(row, column, width)` builds one cell of a visible row.
    pub fn render<'a>(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        cell: impl Fn(usize, C, u16) -> Cell<'a>,
    ) {
        let block = theme.block(self.title.clone(), self.focused);
        let inner = block.inner(area);
        let keep = layout(self.columns, inner.width);
        if self.len == 0 || keep.is_empty() {
            let msg = Paragraph::new(Span::styled(self.empty, theme.muted)).block(block);
            frame.render_widget(msg, area);
            return;
        }
        let shown = window(self.list, self.len, area);
        let start = shown.start;
        let rows = shown.map(|i| {
            let cells = keep.iter().map(|(k, w)| cell(i, self.columns[*k].id, *w));
            Row::new(cells)
        });
        let header = keep.iter().map(|(k, _)| {
            let c = &self.columns[*k];
            let line = Line::from(c.title.as_str());
            Cell::from(if c.right { line.right_aligned() } else { line })
        });
        let widths = keep.iter().map(|(_, w)| Constraint::Length(*w));
        let table = Table::new(rows, widths)
            .header(Row::new(header).style(theme.table_header))
            .column_spacing(1)
            .style(theme.base)
            .row_highlight_style(theme.selected)
            .block(block);
        // Only visible rows were built, so the selection is relative to `start`, offset 0.
        let mut state =
            TableState::default().with_selected(Some(self.list.selected.saturating_sub(start)));
        frame.render_stateful_widget(table, area, &mut state);
    }
}

/// The rows of a list of `len` a table drawn in `area` shows (inside its border, under its
/// header), scrolled as `list` says.
pub fn window(list: ListState, len: usize, area: Rect) -> std::ops::Range<usize> {
    let height = usize::from(area.height.saturating_sub(3));
    let start = list.window(height);
    start..(start + height).min(len)
}

/// A right-aligned cell.
pub fn right<'a>(text: impl Into<String>, style: Style) -> Cell<'a> {
    Cell::from(Line::styled(text.into(), style).right_aligned())
}

/// A left-aligned cell.
pub fn left<'a>(text: impl Into<String>, style: Style) -> Cell<'a> {
    Cell::from(Line::styled(text.into(), style))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_important_columns_in_order() {
        let cols = vec![
            Column::new(0, "a", 10, 0),
            Column::new(1, "b", 10, 2),
            Column::new(2, "c", 10, 1),
            Column::new(3, "d", 10, 0),
        ];
        assert_eq!(fit(&cols, 100), vec![0, 1, 2, 3]);
        assert_eq!(fit(&cols, 32), vec![0, 2, 3]);
        assert_eq!(fit(&cols, 21), vec![0, 3]);
        assert_eq!(fit(&cols, 5), Vec::<usize>::new());
    }

    #[test]
    fn spare_width_goes_to_the_growing_column() {
        let cols = vec![
            Column::new(0, "a", 10, 0),
            Column::new(1, "b", 5, 0).grow(),
            Column::new(2, "c", 10, 1),
        ];
        assert_eq!(layout(&cols, 40), vec![(0, 10), (1, 18), (2, 10)]);
        assert_eq!(layout(&cols, 20), vec![(0, 10), (1, 9)]);
    }

    /// A capped column (the Ports view's Guest) takes room up to its cap; the next growing
    /// column (the sparkline) the rest.
    #[test]
    fn a_capped_column_grows_to_its_cap_and_leaves_the_rest() {
        let cols = vec![
            Column::new(0, "port", 10, 0),
            Column::new(1, "guest", 10, 0).grow_to(24),
            Column::new(2, "spark", 10, 1).grow(),
        ];
        assert_eq!(layout(&cols, 100), vec![(0, 10), (1, 24), (2, 64)]);
        assert_eq!(layout(&cols, 40), vec![(0, 10), (1, 18), (2, 10)]);
    }
}
