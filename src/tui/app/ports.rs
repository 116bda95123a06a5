//! The ports view's state: sort column and direction, the text filter, and the visible order
//! (recomputed when data, sort or filter change — never while drawing). The mechanism is the
//! one every sortable table shares (`table`); here are the ports' columns and fields.

use super::table::{any_contains, SortColumn, SortKey, TableState};
use super::{App, View};
use crate::telemetry::PortKey;
use crate::tui::data::PortRow;

/// Column the ports are sorted by. Text columns sort A→Z, traffic columns busiest first;
/// missing values always go last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PortSort {
    /// Interface name.
    #[default]
    Name,
    /// Guest name.
    Guest,
    /// Network name.
    Network,
    /// Guest address.
    Ip,
    /// Received rate.
    Rx,
    /// Transmitted rate.
    Tx,
    /// Packets per second, both directions.
    Packets,
    /// Drops and errors per second.
    Drops,
}

impl SortColumn for PortSort {
    const ALL: &'static [PortSort] = &[
        PortSort::Name,
        PortSort::Guest,
        PortSort::Network,
        PortSort::Ip,
        PortSort::Rx,
        PortSort::Tx,
        PortSort::Packets,
        PortSort::Drops,
    ];
}

/// State of the ports view.
pub type PortsState = TableState<PortSort>;

fn matches(port: &PortRow, needle: &str) -> bool {
    let typed = [
        port.mac.map(|m| m.to_string()),
        port.ip.map(|ip| ip.to_string()),
    ];
    let fields = [
        Some(port.ifname.as_str()),
        Some(port.kind.name()),
        port.bridge.as_deref(),
        port.network.as_deref(),
        port.guest.as_deref(),
    ];
    let typed = typed.iter().flatten().map(String::as_str);
    any_contains(fields.into_iter().flatten().chain(typed), needle)
}

fn sort_key(sort: PortSort, port: &PortRow) -> SortKey {
    let num = |f: fn(&crate::telemetry::Rates) -> f64| SortKey::Num(port.rate.map(|r| f(&r)));
    match sort {
        PortSort::Name => SortKey::Text(Some(port.ifname.clone())),
        PortSort::Guest => SortKey::Text(port.guest.clone()),
        PortSort::Network => SortKey::Text(port.network.clone()),
        PortSort::Ip => SortKey::Ip(port.ip),
        PortSort::Rx => num(|r| r.rx_bps),
        PortSort::Tx => num(|r| r.tx_bps),
        PortSort::Packets => num(|r| r.rx_pps + r.tx_pps),
        PortSort::Drops => num(|r| r.rx_drop_ps + r.tx_drop_ps + r.rx_err_ps + r.tx_err_ps),
    }
}

impl App {
    /// Recompute the visible order; keep `keep` selected if it is still visible.
    pub(crate) fn refresh_port_order(&mut self, keep: Option<PortKey>) {
        let needle = self.ports.needle();
        let sort = self.ports.sort;
        let keep = keep.as_ref().map(|k| move |p: &PortRow| p.is(k));
        self.ports.reorder(
            &self.snap.ports,
            |p| needle.is_empty() || matches(p, &needle),
            |p| sort_key(sort, p),
            |a, b| a.ifname.cmp(&b.ifname),
            keep.as_ref().map(|k| k as &dyn Fn(&PortRow) -> bool),
        );
        self.scroll_table(View::Ports);
    }
}
