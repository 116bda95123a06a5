//! The leases view: DHCP leases per network with the time left counting down, which of them
//! are pinned to their client by a `<host>` entry, sortable and filterable like the ports.

use ratatui::layout::Rect;
use ratatui::widgets::Cell;
use ratatui::Frame;

use super::filter_bar::FilteredList;
use crate::tui::app::{App, LeaseSort, View};
use crate::tui::format;
use crate::tui::widgets::table::{left, right};
use crate::tui::widgets::Column;

/// Leases with less time left than this are shown as a warning.
const SOON_SECS: u64 = 60;

/// What the Static column says of a lease pinned by a `<host>` entry (ASCII on purpose).
pub const PINNED: &str = "pin";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Col {
    Network,
    Mac,
    Ip,
    Hostname,
    Static,
    Expires,
}

fn sorted_by(col: Col) -> Option<LeaseSort> {
    Some(match col {
        Col::Network => LeaseSort::Network,
        Col::Mac => LeaseSort::Mac,
        Col::Hostname => LeaseSort::Hostname,
        Col::Expires => LeaseSort::Expiry,
        Col::Ip | Col::Static => return None,
    })
}

fn columns(app: &App) -> Vec<Column<Col>> {
    let st = app.leases_state();
    let title = |col: Col, name: &str| match sorted_by(col) {
        Some(s) if s == st.sort => format!("{name}{}", if st.reverse { "▲" } else { "▼" }),
        _ => name.to_string(),
    };
    let c = |col, name: &str, w, p| Column::new(col, title(col, name), w, p);
    // 78 columns inside the border at 80: every column fits, the host name takes the rest.
    vec![
        c(Col::Network, "Network", 10, 0),
        c(Col::Mac, "MAC", 17, 2),
        c(Col::Ip, "IP", 17, 0),
        c(Col::Hostname, "Hostname", 12, 1).grow(),
        c(Col::Static, "Static", 6, 1),
        c(Col::Expires, "Expires in", 11, 0).right(),
    ]
}

fn cell<'a>(app: &App, row: usize, col: Col, width: u16) -> Cell<'a> {
    let t = &app.settings.theme;
    let lease = &app.snapshot().leases[app.leases_state().order[row]];
    let fit = |text: &str| format::fit(text, width.into());
    match col {
        Col::Network => left(fit(&lease.network), t.base),
        Col::Mac => left(format::shown(lease.mac.as_ref()), t.base),
        Col::Ip => left(fit(&lease.ip.to_string()), t.base),
        Col::Hostname => left(fit(format::opt(lease.hostname.as_deref())), t.base),
        Col::Static if app.lease_pinned(lease) => left(PINNED, t.ok),
        Col::Static => left("", t.base),
        Col::Expires => {
            let now = app.now_unix();
            let text = format::lease_expires(lease, now);
            let style = match lease.expiry.map(|at| at.saturating_sub(now)) {
                _ if lease.reserved => t.muted,
                None => t.muted,
                Some(0) => t.error,
                Some(left_s) if left_s < SOON_SECS => t.warning,
                Some(_) => t.base,
            };
            right(text, style)
        }
    }
}

/// Draw the view.
pub fn draw(frame: &mut Frame, body: Rect, app: &App, focused: bool) {
    let st = app.leases_state();
    FilteredList {
        view: View::Leases,
        name: "DHCP leases",
        columns: &columns(app),
        shown: st.order.len(),
        total: app.snapshot().leases.len(),
        list: st.list,
        filter: &st.filter,
        none: "no leases",
        no_match: "no lease matches the filter",
    }
    .draw(frame, body, app, focused, |i, c, w| cell(app, i, c, w));
}
