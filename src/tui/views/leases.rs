//! The leases view: DHCP leases per network with the time left counting down.

use ratatui::layout::Rect;
use ratatui::widgets::Cell;
use ratatui::Frame;

use crate::tui::app::App;
use crate::tui::format;
use crate::tui::widgets::table::{left, right};
use crate::tui::widgets::{Column, DataTable};

/// Leases with less time left than this are shown as a warning.
const SOON_SECS: u64 = 60;

#[derive(Debug, Clone, Copy)]
enum Col {
    Network,
    Mac,
    Ip,
    Hostname,
    Expires,
}

fn columns() -> Vec<Column<Col>> {
    vec![
        Column::new(Col::Network, "Network", 10, 0),
        Column::new(Col::Mac, "MAC", 17, 2),
        Column::new(Col::Ip, "IP", 20, 0),
        Column::new(Col::Hostname, "Hostname", 16, 1).grow(),
        Column::new(Col::Expires, "Expires in", 10, 0).right(),
    ]
}

fn cell<'a>(app: &App, row: usize, col: Col, width: u16) -> Cell<'a> {
    let t = &app.settings.theme;
    let lease = &app.snapshot().leases[app.lease_order[row]];
    match col {
        Col::Network => left(lease.network.clone(), t.base),
        Col::Mac => left(format::shown(lease.mac.as_ref()), t.base),
        Col::Ip => left(format::fit(&lease.ip.to_string(), width.into()), t.base),
        Col::Hostname => left(
            format::fit(format::opt(lease.hostname.as_deref()), width.into()),
            t.base,
        ),
        Col::Expires => match lease.expiry {
            None => right("never", t.muted),
            Some(at) => {
                let now = app.now_unix();
                match at.checked_sub(now).filter(|s| *s > 0) {
                    None => right("expired", t.error),
                    Some(left_s) if left_s < SOON_SECS => {
                        right(format::duration(left_s), t.warning)
                    }
                    Some(left_s) => right(format::duration(left_s), t.base),
                }
            }
        },
    }
}

/// Draw the view.
pub fn draw(frame: &mut Frame, body: Rect, app: &App, focused: bool) {
    let cols = columns();
    let len = app.lease_order.len();
    let table = DataTable {
        title: format!("DHCP leases ({len})"),
        focused,
        columns: &cols,
        len,
        list: app.leases,
        empty: "no leases",
    };
    table.render(frame, body, &app.settings.theme, |i, c, w| {
        cell(app, i, c, w)
    });
}
