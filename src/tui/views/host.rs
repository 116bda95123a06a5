//! The host view: every interface of the host itself (NICs, bonds, VLANs, bridges, uplinks,
//! tunnels) with its operational state, which carries the default route, addresses and rates.

use ratatui::layout::Rect;
use ratatui::widgets::Cell;
use ratatui::Frame;

use crate::tui::app::App;
use crate::tui::format::{self, MISSING};
use crate::tui::widgets::table::{left, right};
use crate::tui::widgets::{Column, DataTable};

#[derive(Debug, Clone, Copy)]
enum Col {
    Name,
    Kind,
    State,
    Route,
    Mac,
    Mtu,
    Master,
    Addrs,
    Rx,
    Tx,
}

fn columns() -> Vec<Column<Col>> {
    vec![
        Column::new(Col::Name, "Name", 10, 0),
        Column::new(Col::Kind, "Kind", 8, 0),
        Column::new(Col::State, "Link", 7, 0),
        Column::new(Col::Route, "Route", 7, 3),
        Column::new(Col::Mac, "MAC", 17, 4),
        Column::new(Col::Mtu, "MTU", 5, 2).right(),
        Column::new(Col::Master, "Master", 7, 1),
        Column::new(Col::Addrs, "Addresses", 20, 1).grow(),
        Column::new(Col::Rx, "Rx", 9, 0).right(),
        Column::new(Col::Tx, "Tx", 9, 0).right(),
    ]
}

fn cell<'a>(app: &App, row: usize, col: Col, width: u16) -> Cell<'a> {
    let t = &app.settings.theme;
    let iface = &app.snapshot().ifaces[app.iface_order[row]];
    let rate = iface.rate;
    let units = app.settings.units;
    match col {
        Col::Name => left(iface.ifname.clone(), t.base),
        Col::Kind => left(iface.kind.name().to_owned(), t.base),
        Col::State => {
            let text = iface.link_text();
            let style = match text {
                "up" => t.ok,
                "down" => t.inactive,
                _ => t.warning,
            };
            left(text, style)
        }
        Col::Route if iface.default_route => left("default", t.base),
        Col::Route => left("", t.base),
        Col::Mac => left(format::shown(iface.mac.as_ref()), t.base),
        Col::Mtu => right(iface.mtu.to_string(), t.base),
        Col::Master => left(format::opt(iface.master.as_deref()).to_string(), t.base),
        Col::Addrs if iface.addrs.is_empty() => left(MISSING, t.muted),
        Col::Addrs => {
            let addrs: Vec<String> = iface.addrs.iter().map(ToString::to_string).collect();
            left(format::fit(&addrs.join(", "), width.into()), t.base)
        }
        Col::Rx => right(format::rate(rate.map(|r| r.rx_bps), units), t.rx),
        Col::Tx => right(format::rate(rate.map(|r| r.tx_bps), units), t.tx),
    }
}

/// "Host interfaces (8) · default route: eth0", so the uplink shows at any width.
fn title(app: &App, len: usize) -> String {
    let via: Vec<&str> = app
        .snapshot()
        .ifaces
        .iter()
        .filter(|i| i.default_route)
        .map(|i| i.ifname.as_str())
        .collect();
    match via.as_slice() {
        [] => format!("Host interfaces ({len}) · no default route"),
        names => format!(
            "Host interfaces ({len}) · default route: {}",
            names.join(", ")
        ),
    }
}

/// Draw the view.
pub fn draw(frame: &mut Frame, body: Rect, app: &App, focused: bool) {
    let cols = columns();
    let len = app.iface_order.len();
    let table = DataTable {
        title: title(app, len),
        focused,
        columns: &cols,
        len,
        list: app.host,
        empty: "no host interfaces",
    };
    table.render(frame, body, &app.settings.theme, |i, c, w| {
        cell(app, i, c, w)
    });
}
