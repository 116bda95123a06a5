//! The ports view's state: sort column and direction, the text filter, and the visible order
//! (recomputed when data, sort or filter change — never while drawing).

use std::cmp::Ordering;
use std::net::IpAddr;

use tui_input::Input;

use super::list::ListState;
use super::popup::Popup;
use super::App;
use crate::telemetry::PortKey;
use crate::tui::data::{kind_name, PortRow};

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

impl PortSort {
    /// Every column, in the order `o` cycles through them.
    pub const ALL: [PortSort; 8] = [
        PortSort::Name,
        PortSort::Guest,
        PortSort::Network,
        PortSort::Ip,
        PortSort::Rx,
        PortSort::Tx,
        PortSort::Packets,
        PortSort::Drops,
    ];

    /// The next column.
    pub fn next(self) -> PortSort {
        let i = PortSort::ALL
            .iter()
            .position(|s| *s == self)
            .expect("every sort is in ALL");
        PortSort::ALL[(i + 1) % PortSort::ALL.len()]
    }
}

/// State of the ports view.
#[derive(Debug, Default)]
pub struct PortsState {
    /// Selection within `order`.
    pub list: ListState,
    /// Sort column.
    pub sort: PortSort,
    /// Whether the sort is reversed.
    pub reverse: bool,
    /// Filter text being typed or applied.
    pub filter: Input,
    /// Indices into the snapshot's ports: filtered and sorted.
    pub order: Vec<usize>,
}

#[derive(Debug, PartialEq, PartialOrd)]
enum SortKey {
    Text(Option<String>),
    Ip(Option<IpAddr>),
    Num(Option<f64>),
}

fn matches(port: &PortRow, needle: &str) -> bool {
    let fields = [
        Some(port.ifname.as_str()),
        Some(kind_name(&port.kind)),
        port.bridge.as_deref(),
        port.network.as_deref(),
        port.guest.as_deref(),
    ];
    let typed = [
        port.mac.map(|m| m.to_string()),
        port.ip.map(|ip| ip.to_string()),
    ];
    let hit = |f: &str| f.to_lowercase().contains(needle);
    fields.iter().flatten().any(|f| hit(f)) || typed.iter().flatten().any(|f| hit(f))
}

/// Compare with missing values last; `numeric_desc` puts big numbers first.
fn compare(a: &SortKey, b: &SortKey, reverse: bool) -> Ordering {
    let (present_a, present_b) = match (a, b) {
        (SortKey::Text(x), SortKey::Text(y)) => (x.is_some(), y.is_some()),
        (SortKey::Ip(x), SortKey::Ip(y)) => (x.is_some(), y.is_some()),
        (SortKey::Num(x), SortKey::Num(y)) => (x.is_some(), y.is_some()),
        _ => (true, true),
    };
    match (present_a, present_b) {
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        (false, false) => return Ordering::Equal,
        _ => {}
    }
    let natural = match (a, b) {
        (SortKey::Num(x), SortKey::Num(y)) => y.partial_cmp(x).unwrap_or(Ordering::Equal),
        _ => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    };
    if reverse {
        natural.reverse()
    } else {
        natural
    }
}

impl App {
    /// Whether the ports view shows its filter bar.
    pub fn ports_filter_bar(&self) -> bool {
        !self.ports.filter.value().is_empty() || matches!(self.popup(), Some(Popup::Filter))
    }

    fn sort_key(&self, port: &PortRow) -> SortKey {
        let num = |f: fn(&crate::telemetry::Rates) -> f64| SortKey::Num(port.rate.map(|r| f(&r)));
        match self.ports.sort {
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

    /// Recompute the visible order; keep `keep` selected if it is still visible.
    pub(crate) fn refresh_port_order(&mut self, keep: Option<PortKey>) {
        let needle = self.ports.filter.value().trim().to_lowercase();
        let ports = &self.snap.ports;
        let mut keyed: Vec<(usize, SortKey)> = (0..ports.len())
            .filter(|i| needle.is_empty() || matches(&ports[*i], &needle))
            .map(|i| (i, self.sort_key(&ports[i])))
            .collect();
        let reverse = self.ports.reverse;
        keyed.sort_by(|(ia, a), (ib, b)| {
            compare(a, b, reverse).then_with(|| ports[*ia].ifname.cmp(&ports[*ib].ifname))
        });
        self.ports.order = keyed.into_iter().map(|(i, _)| i).collect();
        if let Some(key) = keep {
            let found = self.ports.order.iter().position(|i| ports[*i].is(&key));
            if let Some(pos) = found {
                self.ports.list.selected = pos;
            }
        }
        self.ports.list.clamp(self.ports.order.len());
        if self.view == super::View::Ports {
            let page = self.page_rows();
            self.ports.list.scroll_into_view(page);
        }
        self.touch();
    }
}
