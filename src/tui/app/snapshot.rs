//! Taking in a snapshot: feed the rate tracker, derive per-network and total traffic, keep
//! selections on the same items, and log problems when they appear.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::log::Level;
use super::App;
use crate::state::LinkKind;
use crate::telemetry::{PortKey, Rates};
use crate::tui::data::{Drift, IfaceRow, Snapshot};

/// Traffic summed over a set of ports. A sum is `None` only when no port had a rate yet.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Traffic {
    /// Received bits per second.
    pub rx_bps: Option<f64>,
    /// Transmitted bits per second.
    pub tx_bps: Option<f64>,
    /// Number of ports counted.
    pub ports: usize,
    /// Bytes received since the ports' counters began, summed; `None` when no port has
    /// counters.
    pub rx_bytes: Option<u64>,
    /// Bytes transmitted, summed likewise.
    pub tx_bytes: Option<u64>,
}

impl Traffic {
    fn add(&mut self, rate: Option<Rates>, counters: Option<&crate::telemetry::LinkCounters>) {
        self.ports += 1;
        if let Some(r) = rate {
            self.rx_bps = Some(self.rx_bps.unwrap_or(0.0) + r.rx_bps);
            self.tx_bps = Some(self.tx_bps.unwrap_or(0.0) + r.tx_bps);
        }
        if let Some(c) = counters {
            self.rx_bytes = Some(self.rx_bytes.unwrap_or(0).saturating_add(c.rx_bytes));
            self.tx_bytes = Some(self.tx_bytes.unwrap_or(0).saturating_add(c.tx_bytes));
        }
    }
}

/// Every rate of `a` and `b` added (a network's rate is the sum of its ports' rates).
fn sum_rates(a: Option<Rates>, b: Option<Rates>) -> Option<Rates> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (x, y) = (a.to_array(), b.to_array());
            Some(Rates::from_array(std::array::from_fn(|i| x[i] + y[i])))
        }
        (a, None) => a,
        (None, b) => b,
    }
}

impl App {
    pub(crate) fn on_snapshot(&mut self, snap: Arc<Snapshot>) {
        if self.frozen {
            self.held = Some(snap);
            return;
        }
        self.apply_snapshot(snap);
    }

    /// Thaw: show the newest snapshot that arrived while frozen.
    pub(crate) fn thaw(&mut self) {
        self.frozen = false;
        if let Some(snap) = self.held.take() {
            self.apply_snapshot(snap);
        }
    }

    pub(crate) fn freeze(&mut self) {
        self.frozen = true;
        self.frozen_tick = self.tick;
    }

    fn apply_snapshot(&mut self, snap: Arc<Snapshot>) {
        let selected_net = self.selected_network().map(|n| n.name.clone());
        let selected_port = self.selected_port().map(|p| p.key());
        let selected_lease = self.selected_lease_key();
        let selected_forward = self.selected_forward().map(|f| f.key());
        let first = !self.have_snapshot;
        self.feed_rates(&snap);
        self.snap = snap;
        self.snap_tick = self.tick;
        self.have_snapshot = true;
        self.derive_traffic();
        if let Some(name) = selected_net {
            if let Some(i) = self.snap.networks.iter().position(|n| n.name == name) {
                self.nets.selected = i;
            }
        }
        self.nets.clamp(self.snap.networks.len());
        self.iface_order = iface_order(&self.snap.ifaces);
        self.host.clamp(self.iface_order.len());
        self.refresh_port_order(selected_port);
        self.refresh_lease_order(selected_lease);
        self.refresh_forward_order(selected_forward);
        if let Some(name) = self.select_after.take() {
            if !self.select_network(&name) {
                self.select_after = Some(name);
            }
        }
        self.refresh_forms();
        self.refresh_forward_forms();
        if first {
            let s = &self.snap;
            let text = format!(
                "connected to {}: {} networks, {} ports",
                s.host.hostname,
                s.networks.len(),
                s.ports.len()
            );
            self.log(Level::Info, text);
        }
        self.log_problems();
        self.log_notices();
        self.touch();
    }

    /// Log the source's notices not logged yet.
    fn log_notices(&mut self) {
        let new: Vec<(bool, String)> = self
            .snap
            .notices
            .iter()
            .filter(|n| n.seq > self.notice_seq)
            .map(|n| (n.ok, n.text.clone()))
            .collect();
        if let Some(last) = self.snap.notices.last() {
            self.notice_seq = self.notice_seq.max(last.seq);
        }
        for (ok, text) in new {
            self.log(if ok { Level::Ok } else { Level::Error }, text);
        }
    }

    /// The ports' rates into their histories (the sparklines and the port detail's charts).
    /// Other interfaces show the collector's rate and keep no history: a host with a
    /// thousand veth pairs has a thousand peers nobody charts.
    fn feed_rates(&mut self, snap: &Snapshot) {
        // The collector measured them; the screen keeps their history. A key listed twice
        // counts once (the tracker takes the first).
        let measured = snap.ports.iter().map(|p| (p.key(), p.rate));
        self.rates.record(snap.at, measured);
    }

    /// Per-network and total traffic from the rates the collector measured (summed, never
    /// measured again), and each network's summed rates into its own history, for the
    /// network detail's chart.
    fn derive_traffic(&mut self) {
        let mut per_net: BTreeMap<String, Traffic> = BTreeMap::new();
        let mut net_rates: BTreeMap<&str, Option<Rates>> = self
            .snap
            .networks
            .iter()
            .map(|n| (n.name.as_str(), None))
            .collect();
        let mut total = Traffic::default();
        for port in &self.snap.ports {
            total.add(port.rate, port.counters.as_ref());
            if let Some(net) = &port.network {
                // The name is copied once per network, not once per port.
                if !per_net.contains_key(net) {
                    per_net.insert(net.clone(), Traffic::default());
                }
                if let Some(traffic) = per_net.get_mut(net) {
                    traffic.add(port.rate, port.counters.as_ref());
                }
                let sum = net_rates.entry(net.as_str()).or_default();
                *sum = sum_rates(*sum, port.rate);
            }
        }
        let batch: Vec<_> = net_rates
            .into_iter()
            .map(|(name, rate)| (name.to_owned(), rate))
            .collect();
        self.net_rates.record(self.snap.at, batch);
        self.net_traffic = per_net;
        self.total = total;
    }

    /// Log each network problem once when it appears, and once when it clears.
    fn log_problems(&mut self) {
        // A network with a command under way is half-built or half-torn-down on purpose: its
        // state is judged again when the command is done, against what was known before.
        let busy: std::collections::BTreeSet<String> = self
            .pending
            .values()
            .filter_map(|p| p.cmd.network())
            .collect();
        let mut now: BTreeMap<String, String> = BTreeMap::new();
        for net in &self.snap.networks {
            if busy.contains(&net.name) {
                if let Some(known) = self.problems.get(&net.name) {
                    now.insert(net.name.clone(), known.clone());
                }
                continue;
            }
            let mut parts: Vec<String> = net.drift.iter().map(ToString::to_string).collect();
            if net.dnsmasq_dead() && !net.drift.iter().any(|d| matches!(d, Drift::DnsmasqDown)) {
                parts.push(Drift::DnsmasqDown.to_string());
            }
            parts.extend(net.error.iter().cloned());
            if !parts.is_empty() {
                now.insert(net.name.clone(), parts.join("; "));
            }
        }
        let old = std::mem::take(&mut self.problems);
        for (name, text) in &now {
            if old.get(name) != Some(text) {
                self.log(Level::Warn, format!("{name}: {text}"));
            }
        }
        for name in old.keys().filter(|n| !now.contains_key(*n)) {
            if self.snap.networks.iter().any(|n| n.name == **name) {
                self.log(Level::Ok, format!("{name}: back in sync"));
            }
        }
        self.problems = now;
    }

    /// The latest rate of a port.
    pub fn rate_of(&self, key: &PortKey) -> Option<Rates> {
        self.rates.rate(key)
    }

    /// Rate tracker, for history and sparklines.
    pub fn rates(&self) -> &crate::telemetry::RateTracker {
        &self.rates
    }

    /// The history of a network's summed port rates (rx/tx of all its ports), for its chart.
    pub fn network_history(&self, name: &str) -> Option<&crate::telemetry::History> {
        self.net_rates.history(name)
    }
}

/// Host interfaces grouped: physical, bonds, VLANs, bridges, others; by name within a group.
fn iface_order(ifaces: &[IfaceRow]) -> Vec<usize> {
    let group = |kind: &LinkKind| match kind {
        LinkKind::Physical => 0,
        LinkKind::Bond => 1,
        LinkKind::Vlan => 2,
        LinkKind::Bridge => 3,
        _ => 4,
    };
    let mut order: Vec<usize> = (0..ifaces.len()).collect();
    order.sort_by(|a, b| {
        let (x, y) = (&ifaces[*a], &ifaces[*b]);
        (group(&x.kind), &x.ifname).cmp(&(group(&y.kind), &y.ifname))
    });
    order
}
