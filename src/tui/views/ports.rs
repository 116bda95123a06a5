//! The ports view: every guest interface with traffic, sortable and filterable.

use ratatui::layout::Rect;
use ratatui::widgets::Cell;
use ratatui::Frame;

use super::filter_bar::FilteredList;
use crate::telemetry::{History, Metric};
use crate::tui::app::{App, PortSort, View};
use crate::tui::format;
use crate::tui::widgets::table::{left, right};
use crate::tui::widgets::{spark, Column};

/// Width of the sparkline column.
const SPARK_W: u16 = 10;

/// Columns of a row's " max 12.3 Mb/s" label (rates are at most 9 characters wide).
const LABEL_W: usize = 14;

/// Points a sparkline shows in a cell `width` wide: all of it, or what the label leaves when
/// there is room for both.
fn spark_points(width: u16) -> (usize, bool) {
    let width = usize::from(width);
    match width.checked_sub(LABEL_W) {
        Some(room) if room >= usize::from(SPARK_W) => (room, true),
        _ => (width, false),
    }
}

/// The scale the sparklines on screen share: the largest rx rate any of the `rows` shown (of
/// the listed ports) draws in a sparkline of `points`. One scale lets the rows compare at a
/// glance (a quiet port draws low bars, not full ones); each row says its own maximum where
/// there is room. Only the rows on screen are read: a thousand ports' histories are not.
fn spark_scale(app: &App, rows: std::ops::Range<usize>, points: usize) -> f64 {
    let snap = app.snapshot();
    app.ports_state()
        .order
        .get(rows)
        .unwrap_or_default()
        .iter()
        .filter_map(|i| app.rates().history(&snap.ports[*i].key()))
        .map(|h| spark::peak(&spark::tail(h.fine(Metric::RxBps), points)))
        .fold(0.0_f64, f64::max)
}

/// A row's sparkline on the view's `scale`, followed by " max 12.3 Mb/s" (the row's own
/// maximum) when the cell has room for it beside a sparkline of [`SPARK_W`].
fn spark_cell(app: &App, history: &History, width: u16, scale: f64) -> String {
    let (n, label) = spark_points(width);
    let points = spark::tail(history.fine(Metric::RxBps), n);
    let mut text = spark::scaled(&points, n, scale);
    if label {
        let max = format::rate(Some(spark::peak(&points)), app.settings.units);
        text.push_str(&format!(" max {max:>9}"));
    }
    text
}

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

fn cell<'a>(app: &App, row: usize, col: Col, width: u16, scale: &dyn Fn(u16) -> f64) -> Cell<'a> {
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
            Some(h) => left(spark_cell(app, h, width, scale(width)), t.rx),
            None => left(format::MISSING, t.muted),
        },
    }
}

/// Draw the view.
pub fn draw(frame: &mut Frame, body: Rect, app: &App, focused: bool) {
    let st = app.ports_state();
    let list = FilteredList {
        view: View::Ports,
        name: "Ports",
        columns: &columns(app),
        shown: st.order.len(),
        total: app.snapshot().ports.len(),
        list: st.list,
        filter: &st.filter,
        none: "no ports",
        no_match: "no port matches the filter",
    };
    let rows = list.visible(body, app);
    // Computed once per frame, at the first sparkline cell, when the column's width is known.
    let shared = std::cell::OnceCell::new();
    let scale =
        |width: u16| *shared.get_or_init(|| spark_scale(app, rows.clone(), spark_points(width).0));
    list.draw(frame, body, app, focused, |i, c, w| {
        cell(app, i, c, w, &scale)
    });
}
