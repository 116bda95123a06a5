//! The networks view: a table of networks and a detail pane for the selected one.

use ratatui::layout::Rect;
use ratatui::widgets::Cell;
use ratatui::Frame;

use super::network_detail;
use crate::tui::app::App;
use crate::tui::format::{self, MISSING};
use crate::tui::layout;
use crate::tui::widgets::table::{left, right};
use crate::tui::widgets::{Column, DataTable};

#[derive(Debug, Clone, Copy)]
enum Col {
    Name,
    State,
    Auto,
    Mode,
    Bridge,
    Ipv4,
    Ipv6,
    Dhcp,
    Ports,
    Rx,
    Tx,
    Drift,
}

fn columns() -> Vec<Column<Col>> {
    vec![
        Column::new(Col::Name, "Name", 10, 0).grow(),
        Column::new(Col::State, "State", 8, 0),
        Column::new(Col::Auto, "Auto", 4, 4),
        Column::new(Col::Mode, "Mode", 8, 2),
        Column::new(Col::Bridge, "Bridge", 8, 3),
        Column::new(Col::Ipv4, "IPv4", 18, 1),
        Column::new(Col::Ipv6, "IPv6", 20, 6),
        Column::new(Col::Dhcp, "DHCP range", 31, 5),
        Column::new(Col::Ports, "Ports", 5, 3).right(),
        Column::new(Col::Rx, "Rx", 9, 0).right(),
        Column::new(Col::Tx, "Tx", 9, 0).right(),
        Column::new(Col::Drift, "Drift", 5, 0),
    ]
}

fn cell<'a>(app: &App, i: usize, col: Col, width: u16) -> Cell<'a> {
    let t = &app.settings.theme;
    let net = &app.snapshot().networks[i];
    let traffic = app.network_traffic(&net.name);
    let units = app.settings.units;
    let opt =
        |v: &Option<String>| left(format::fit(format::opt(v.as_deref()), width.into()), t.base);
    let shown = |v: String| left(format::fit(&v, width.into()), t.base);
    match col {
        Col::Name => left(format::fit(&net.name, width.into()), t.base),
        Col::State if net.active => left("active", t.ok),
        // A macvtap network's links work whether or not it was started.
        Col::State if net.attachments > 0 => left("in use", t.ok),
        Col::State => left("inactive", t.inactive),
        Col::Auto => left(if net.autostart { "yes" } else { "no" }, t.base),
        Col::Mode => left(net.mode.short(), t.base),
        Col::Bridge => opt(&net.bridge),
        Col::Ipv4 => shown(format::shown(net.ipv4.as_ref())),
        Col::Ipv6 => shown(format::shown(net.ipv6.as_ref())),
        Col::Dhcp => shown(format::shown(net.dhcp.as_ref())),
        Col::Ports => right(traffic.ports.to_string(), t.base),
        Col::Rx => right(
            if net.active {
                format::rate(traffic.rx_bps, units)
            } else {
                MISSING.into()
            },
            t.base,
        ),
        Col::Tx => right(
            if net.active {
                format::rate(traffic.tx_bps, units)
            } else {
                MISSING.into()
            },
            t.base,
        ),
        Col::Drift if net.error.is_some() => left("✖ err", t.error),
        Col::Drift if net.needs_attention() => {
            let n = net.drift.len().max(1);
            left(format!("⚠ {n}"), t.warning)
        }
        Col::Drift => left("ok", t.ok),
    }
}

/// Draw the view.
pub fn draw(frame: &mut Frame, body: Rect, app: &App, focused: bool) {
    let nets = &app.snapshot().networks;
    let (table_area, detail_area) = layout::networks(body, nets.len());
    let cols = columns();
    let table = DataTable {
        title: format!("Networks ({})", nets.len()),
        focused,
        columns: &cols,
        len: nets.len(),
        list: app.nets,
        empty: if app.have_snapshot {
            "no networks defined"
        } else {
            "waiting for data…"
        },
    };
    table.render(frame, table_area, &app.settings.theme, |i, c, w| {
        cell(app, i, c, w)
    });
    if let (Some(area), Some(net)) = (detail_area, app.selected_network()) {
        network_detail::draw(frame, area, app, net);
    }
}
