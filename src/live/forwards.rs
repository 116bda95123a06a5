//! The forwards in the live snapshots: their definitions come with the networks (read when the
//! networks are), their counters from one `firewall_counters()` call at most every
//! [`COUNTERS_EVERY`] (and only while a running network has forwards), and their hit rates
//! from two successive readings, here, as the collector does for the ports' rates. The views
//! only show what this computed.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::backend::{fill_counters, ForwardRow as Defined};
use crate::host::Host;
use crate::model::forward::{GuestRef, Target};
use crate::plan::firewall::forward_counters;
use crate::telemetry::rates::counter_delta;
use crate::tui::data::{ForwardRow, LeaseRow, NetworkRow, PortRow};

/// The least time between two readings of the counters.
pub const COUNTERS_EVERY: Duration = Duration::from_secs(2);

/// The named counters as last read, and the rates of their packets.
#[derive(Debug, Default, Clone)]
pub struct ForwardCounters {
    /// When they were last read (the snapshots' monotonic time); `None`: never.
    read_at: Option<Duration>,
    /// The reading: name → (packets, bytes); empty when it failed.
    counters: BTreeMap<String, (u64, u64)>,
    /// Packets per second of each counter between the last two readings.
    rates: BTreeMap<String, f64>,
}

impl ForwardCounters {
    /// Whether a reading is due at `at`.
    pub fn due(&self, at: Duration) -> bool {
        self.read_at
            .is_none_or(|t| at.checked_sub(t).is_none_or(|d| d >= COUNTERS_EVERY))
    }

    /// Takes a reading made at `at` (`None`: it failed): rates against the previous one, for
    /// counters present in both that did not go down (a counter that did was made again,
    /// its network restarted or its forward re-added: no rate until the next reading).
    pub fn record(&mut self, at: Duration, reading: Option<BTreeMap<String, (u64, u64)>>) {
        let now = reading.unwrap_or_default();
        let secs = self
            .read_at
            .and_then(|t| at.checked_sub(t))
            .map(|d| d.as_secs_f64())
            .filter(|s| *s > 0.0);
        self.rates = match secs {
            Some(secs) => now
                .iter()
                .filter_map(|(name, (packets, _))| {
                    let (before, _) = self.counters.get(name)?;
                    let delta = counter_delta(*before, *packets)?;
                    Some((name.clone(), delta as f64 / secs))
                })
                .collect(),
            None => BTreeMap::new(),
        };
        self.counters = now;
        self.read_at = Some(at);
    }

    /// Reads the counters through `host` if a running network has forwards and a reading is
    /// due; forgets them when none has.
    pub async fn poll<H: Host>(&mut self, host: &H, at: Duration, defined: &[Defined]) {
        if !defined.iter().any(|r| r.active) {
            *self = ForwardCounters::default();
            return;
        }
        if self.due(at) {
            let reading = host.firewall_counters().await.ok();
            self.record(at, reading);
        }
    }

    /// The hit rate of the counter named `name`.
    pub fn rate(&self, name: &str) -> Option<f64> {
        self.rates.get(name).copied()
    }

    /// The snapshot's rows: the defined forwards with their counters and rates, and the name
    /// of the guest each reaches (from the networks' pins, the leases and the ports).
    pub fn rows(
        &self,
        defined: &[Defined],
        networks: &[NetworkRow],
        leases: &[LeaseRow],
        ports: &[PortRow],
    ) -> Vec<ForwardRow> {
        let mut filled = defined.to_vec();
        if self.read_at.is_some() {
            fill_counters(&mut filled, &self.counters);
        }
        filled
            .into_iter()
            .map(|d| {
                let f = &d.forward;
                let (hits, _) = forward_counters(&d.network, f.proto, f.port.first);
                let hit_rate = d.active.then(|| self.rate(&hits)).flatten();
                ForwardRow {
                    guest: guest_name(&d, networks, leases, ports),
                    network: d.network,
                    active: d.active,
                    to: d.to,
                    hits: d.hits,
                    bytes: d.bytes,
                    hit_rate,
                    forward: d.forward,
                }
            })
            .collect()
    }
}

/// The name the forward's guest goes by: the name it was given; else the name of the pin
/// with its MAC, or of the lease or guest port with its MAC or target address.
fn guest_name(
    d: &Defined,
    networks: &[NetworkRow],
    leases: &[LeaseRow],
    ports: &[PortRow],
) -> Option<String> {
    let mac = match &d.forward.target {
        Target::Guest(GuestRef::Name(n)) => return Some(n.clone()),
        Target::Guest(GuestRef::Mac(m)) => Some(*m),
        Target::Addr(_) => None,
    };
    let ip = d.to.map(std::net::IpAddr::V4);
    let def = networks
        .iter()
        .find(|n| n.name == d.network)
        .and_then(|n| n.def.as_deref());
    let pinned = def.into_iter().flat_map(|def| {
        def.ips
            .iter()
            .flat_map(|i| i.hosts())
            .filter(|h| (mac.is_some() && h.mac == mac) || (h.ip.is_some() && h.ip == ip))
            .filter_map(|h| h.name.clone())
    });
    let leased = leases
        .iter()
        .filter(|l| l.network == d.network)
        .filter(|l| (mac.is_some() && l.mac == mac) || Some(l.ip) == ip)
        .filter_map(|l| l.hostname.clone());
    let guest = ports
        .iter()
        .filter(|p| p.network.as_deref() == Some(d.network.as_str()))
        .filter(|p| (mac.is_some() && p.mac == mac) || (p.ip.is_some() && p.ip == ip))
        .filter_map(|p| p.guest.clone());
    pinned.chain(leased).chain(guest).next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(pairs: &[(&str, u64)]) -> Option<BTreeMap<String, (u64, u64)>> {
        Some(
            pairs
                .iter()
                .map(|(n, p)| ((*n).to_owned(), (*p, p * 100)))
                .collect(),
        )
    }

    #[test]
    fn rates_come_from_two_readings_and_resets_give_none() {
        let s = Duration::from_secs;
        let mut c = ForwardCounters::default();
        assert!(c.due(s(10)), "never read: due");
        c.record(s(10), reading(&[("a", 100), ("b", 50)]));
        assert_eq!(c.rate("a"), None, "one reading is no rate");
        assert!(!c.due(s(11)), "not before COUNTERS_EVERY");
        assert!(c.due(s(12)));
        c.record(s(12), reading(&[("a", 110), ("b", 40), ("c", 5)]));
        assert_eq!(c.rate("a"), Some(5.0), "10 new connections in 2 s");
        assert_eq!(c.rate("b"), None, "went down: made again, no rate");
        assert_eq!(c.rate("c"), None, "new: no rate yet");
        c.record(s(12), reading(&[("a", 120)]));
        assert_eq!(c.rate("a"), None, "no time passed: nothing divided by zero");
        c.record(s(14), None);
        assert_eq!(c.rate("a"), None, "a failed reading: no rates");
        c.record(s(16), reading(&[("a", 130)]));
        assert_eq!(c.rate("a"), None, "after a failed reading, a new baseline");
        c.record(s(20), reading(&[("a", 150)]));
        assert_eq!(c.rate("a"), Some(5.0));
    }
}
