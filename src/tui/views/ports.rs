//! The ports view: every guest interface with traffic, sortable and filterable.

use ratatui::layout::Rect;
use ratatui::widgets::Cell;
use ratatui::Frame;

use super::filter_bar;
use crate::telemetry::Metric;
use crate::tui::app::{App, PortSort, View};
use crate::tui::format;
use crate::tui::layout;
use crate::tui::widgets::table::{left, right};
use crate::tui::widgets::{spark, Column, DataTable};

/// Width of the sparkline column.
const SPARK_W: u16 = 10;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Col {
    Port,
    Guest,
    Network,
    Mac,
    Ip,
    Rx,
    Tx,
    Packets,
    Drops,
    Spark,
}

fn sorted_by(col: Col) -> Option<PortSort> {
    Some(match col {
        Col::Port => PortSort::Name,
        Col::Guest => PortSort::Guest,
        Col::Network => PortSort::Network,
        Col::Ip => PortSort::Ip,
        Col::Rx => PortSort::Rx,
        Col::Tx => PortSort::Tx,
        Col::Packets => PortSort::Packets,
        Col::Drops => PortSort::Drops,
        Col::Mac | Col::Spark => return None,
    })
}

fn columns(app: &App) -> Vec<Column<Col>> {
    let st = app.ports_state();
    let title = |col: Col, name: &str| match sorted_by(col) {
        Some(s) if s == st.sort => format!("{name}{}", if st.reverse { "▲" } else { "▼" }),
        _ => name.to_string(),
    };
    let c = |col, name: &str, w, p| Column::new(col, title(col, name), w, p);
    vec![
        c(Col::Port, "Port", 11, 0),
        c(Col::Guest, "Guest", 10, 0).grow_to(28),
        c(Col::Network, "Network", 8, 1),
        c(Col::Mac, "MAC", 17, 5),
        c(Col::Ip, "IP", 15, 1),
        c(Col::Rx, "Rx", 9, 0).right(),
        c(Col::Tx, "Tx", 9, 0).right(),
        c(Col::Packets, "Pkt/s rx/tx", 11, 3).right(),
        c(Col::Drops, "Drop/Err/s", 10, 4).right(),
        c(Col::Spark, "Rx history", SPARK_W, 2).grow(),
    ]
}

fn cell<'a>(app: &App, row: usize, col: Col, width: u16) -> Cell<'a> {
    let t = &app.settings.theme;
    let port = &app.snapshot().ports[app.ports_state().order[row]];
    let rate = port.rate;
    let units = app.settings.units;
    let opt =
        |v: &Option<String>| left(format::fit(format::opt(v.as_deref()), width.into()), t.base);
    let shown = |v: String| left(format::fit(&v, width.into()), t.base);
    let name = || format::fit(&port.ifname, width.into());
    match col {
        Col::Port if port.up => left(name(), t.base),
        Col::Port => left(name(), t.inactive),
        Col::Guest => opt(&port.guest),
        Col::Network => opt(&port.network),
        Col::Mac => shown(format::shown(port.mac.as_ref())),
        Col::Ip => shown(format::shown(port.ip.as_ref())),
        Col::Rx => right(format::rate(rate.map(|r| r.rx_bps), units), t.rx),
        Col::Tx => right(format::rate(rate.map(|r| r.tx_bps), units), t.tx),
        Col::Packets => {
            let (rx, tx) = (rate.map(|r| r.rx_pps), rate.map(|r| r.tx_pps));
            right(
                format!("{}/{}", format::per_sec(rx), format::per_sec(tx)),
                t.base,
            )
        }
        Col::Drops => {
            let drops = rate.map(|r| r.rx_drop_ps + r.tx_drop_ps);
            let errs = rate.map(|r| r.rx_err_ps + r.tx_err_ps);
            let bad = drops.unwrap_or(0.0) + errs.unwrap_or(0.0) > 0.0;
            let text = format!("{}/{}", format::per_sec(drops), format::per_sec(errs));
            right(text, if bad { t.warning } else { t.base })
        }
        Col::Spark => match app.rates().history(&port.key()) {
            Some(h) => left(spark(h.fine(Metric::RxBps), usize::from(width)), t.rx),
            None => left(format::MISSING, t.muted),
        },
    }
}

/// Draw the view.
pub fn draw(frame: &mut Frame, body: Rect, app: &App, focused: bool) {
    let (table_area, bar) = layout::filtered(body, app.filter_bar(View::Ports));
    let st = app.ports_state();
    let cols = columns(app);
    let total = app.snapshot().ports.len();
    let title = if st.order.len() == total {
        format!("Ports ({total})")
    } else {
        format!("Ports ({} of {total})", st.order.len())
    };
    let table = DataTable {
        title,
        focused,
        columns: &cols,
        len: st.order.len(),
        list: st.list,
        empty: if total == 0 {
            "no ports"
        } else {
            "no port matches the filter"
        },
    };
    table.render(frame, table_area, &app.settings.theme, |i, c, w| {
        cell(app, i, c, w)
    });
    if let Some(bar) = bar {
        filter_bar::draw(frame, bar, app, &st.filter, st.order.len(), total);
    }
}
