//! Screen geometry as pure functions of the terminal size, shared by the views (to draw) and
//! by `App` (to know the page height and which row or tab a mouse click hit).

use ratatui::layout::Rect;

use super::app::View;

/// The fixed parts of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    /// Host summary line.
    pub header: Rect,
    /// View tabs and status.
    pub tabs: Rect,
    /// The current view.
    pub body: Rect,
    /// Key hints, spinner or toast.
    pub footer: Rect,
}

/// Split the terminal: one line each for header, tabs and footer once there is room for a body.
pub fn screen(area: Rect) -> Screen {
    let line = |y: u16| Rect::new(area.x, y, area.width, 1.min(area.height));
    if area.height < 4 {
        let header = line(area.y);
        let body = Rect::new(
            area.x,
            area.y + header.height,
            area.width,
            area.height - header.height,
        );
        let empty = Rect::new(area.x, area.bottom(), area.width, 0);
        return Screen {
            header,
            tabs: empty,
            body,
            footer: empty,
        };
    }
    Screen {
        header: line(area.y),
        tabs: line(area.y + 1),
        body: Rect::new(area.x, area.y + 2, area.width, area.height - 3),
        footer: line(area.bottom() - 1),
    }
}

/// The rows of a bordered table below its column-heading line.
pub fn table_rows(table: Rect) -> Rect {
    let inner = Rect::new(
        table.x.saturating_add(1),
        table.y.saturating_add(2),
        table.width.saturating_sub(2),
        table.height.saturating_sub(3),
    );
    inner.intersection(table)
}

/// Networks view: the table on top (sized to its rows) and the detail pane below, dropped when
/// the body is too short for both.
pub fn networks(body: Rect, rows: usize) -> (Rect, Option<Rect>) {
    if body.height < 12 {
        return (body, None);
    }
    let want = (rows as u16).saturating_add(3).max(5);
    let table_h = want.min(body.height / 2);
    let table = Rect::new(body.x, body.y, body.width, table_h);
    let detail = Rect::new(body.x, body.y + table_h, body.width, body.height - table_h);
    (table, Some(detail))
}

/// A filterable table (ports, leases): the table, and a one-line filter bar under it when a
/// filter is set or edited.
pub fn filtered(body: Rect, filter_bar: bool) -> (Rect, Option<Rect>) {
    if !filter_bar || body.height < 4 {
        return (body, None);
    }
    let table = Rect::new(body.x, body.y, body.width, body.height - 1);
    (
        table,
        Some(Rect::new(body.x, body.bottom() - 1, body.width, 1)),
    )
}

/// A rectangle of at most `width`×`height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The port detail popup: most of the body.
pub fn detail_popup(body: Rect) -> Rect {
    let w = body.width.saturating_sub(4).max(body.width.min(20));
    let h = body.height.saturating_sub(2).max(body.height.min(8));
    centered(body, w, h)
}

/// One view tab: which view and the columns it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tab {
    /// The view.
    pub view: View,
    /// Label as drawn, padded.
    pub label: String,
    /// First column.
    pub x: u16,
}

/// Tab labels that fit `width`: full ("1 Networks"), short ("1 Net") or bare numbers.
pub fn tabs(area: Rect) -> Vec<Tab> {
    let styles: [fn(View) -> String; 3] = [
        |v| format!(" {} {} ", v.number(), v.title()),
        |v| format!(" {} {} ", v.number(), &v.title()[..3]),
        |v| format!(" {} ", v.number()),
    ];
    // The interval (and the frozen flag) take at most 18 columns on the right.
    let budget = usize::from(area.width).saturating_sub(18);
    let labels = styles
        .iter()
        .map(|f| View::ALL.iter().map(|v| f(*v)).collect::<Vec<_>>())
        .find(|ls| ls.iter().map(|l| l.chars().count()).sum::<usize>() <= budget)
        .unwrap_or_default();
    let mut x = area.x;
    let mut out = Vec::new();
    for (view, label) in View::ALL.iter().zip(labels) {
        let w = label.chars().count() as u16;
        if x + w > area.right() {
            break;
        }
        out.push(Tab {
            view: *view,
            label,
            x,
        });
        x += w;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screen_at_standard_and_tiny_sizes() {
        let s = screen(Rect::new(0, 0, 80, 24));
        assert_eq!(
            (s.header.y, s.tabs.y, s.body.y, s.body.height, s.footer.y),
            (0, 1, 2, 21, 23)
        );
        for (w, h) in [(1, 1), (20, 3), (0, 0), (5, 0)] {
            let s = screen(Rect::new(0, 0, w, h));
            assert!(s.body.bottom() <= h && s.header.height <= h, "{w}x{h}");
        }
    }

    #[test]
    fn tabs_shrink_to_fit() {
        let wide = tabs(Rect::new(0, 1, 80, 1));
        assert_eq!(wide.len(), 6);
        assert_eq!(wide[0].label, " 1 Networks ", "full names at 80 columns");
        assert_eq!(wide[5].label, " 6 Forwards ");
        let used: u16 = wide.iter().map(|t| t.label.chars().count() as u16).sum();
        assert!(used + 18 <= 80, "room for \"❄ FROZEN ⟳ 30 s\" on the right");
        let narrow = tabs(Rect::new(0, 1, 20, 1));
        assert!(narrow.iter().all(|t| t.label.len() <= 7));
        assert!(tabs(Rect::new(0, 1, 2, 1)).len() <= 1);
    }

    #[test]
    fn table_rows_never_leave_the_table() {
        for h in 0..5 {
            let t = Rect::new(0, 0, 10, h);
            let r = table_rows(t);
            assert!(
                r.height <= h.saturating_sub(3) && (r.is_empty() || t.contains(r.as_position()))
            );
        }
    }
}
