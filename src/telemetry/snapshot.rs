//! What the collector publishes: one owned, immutable snapshot per tick or change.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::leases::Lease;
use super::ports::{counters_of, PortInfo};
use super::rates::{PortKey, Rates};
use crate::state::HostState;
use crate::state::LinkCounters;

/// Why a snapshot was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotCause {
    /// The first one.
    Start,
    /// The interval elapsed.
    Tick,
    /// Links appeared, disappeared or changed (a multicast event), seen before the next tick.
    Topology,
    /// The caller changed the list of networks.
    Networks,
}

/// One observation of every port.
#[derive(Debug, Clone)]
pub struct PortsSnapshot {
    /// When the counters were sampled, on the monotonic clock of [`monotonic_now`].
    pub at: Duration,
    /// Identity of the network namespace the links were read in (the collector's own:
    /// [`Host::netns_id`](crate::host::Host::netns_id)); with an ifindex, a port's
    /// [`PortKey`].
    pub netns: u64,
    /// Every bridge port and macvtap with its guest and address; shared between snapshots
    /// until a port or what is known about it changes. Counters: [`Self::counters_of`].
    pub ports: Arc<Vec<PortInfo>>,
    /// The last link dump (links only: `addrs` and `routes` are left empty), for a host view.
    /// Shared between snapshots until the topology changes.
    pub host: Arc<HostState>,
    /// Counters of every link (ports, bridges, uplinks), sorted by ifindex.
    pub counters: Vec<(u32, LinkCounters)>,
    /// Rates of every link that has one (a second sample, no reset), sorted by ifindex: the
    /// collector's [`RateMeter`](super::rates::RateMeter) measured them once, for every reader.
    pub rates: Vec<(u32, Rates)>,
    /// How many nftables changes the host reported so far: a new value means a ruleset
    /// changed (drift of our table is noticed from this, not by listing it on a timer).
    pub firewall: u64,
    /// DHCP leases of our networks, by network; shared until a lease file changes.
    pub leases: Arc<Vec<(String, Lease)>>,
    /// Increases each time the links were dumped again.
    pub topology: u64,
    /// Why this snapshot was taken.
    pub cause: SnapshotCause,
    /// Problems that did not stop the snapshot (unreadable lease file, failed lookups, or the
    /// error of a failed cycle, the rest being the previous snapshot's).
    pub errors: Vec<String>,
}

impl PortsSnapshot {
    /// Counters of any link (a port, a bridge, an uplink) by ifindex; `None` if the dump did
    /// not have it.
    pub fn counters_of(&self, ifindex: u32) -> Option<LinkCounters> {
        counters_of(&self.counters, ifindex)
    }

    /// The rate of any link by ifindex; `None` before its second sample or on a reset.
    pub fn rate_of(&self, ifindex: u32) -> Option<Rates> {
        self.rates
            .binary_search_by_key(&ifindex, |(i, _)| *i)
            .ok()
            .map(|at| self.rates[at].1)
    }

    /// Every port with its counters.
    pub fn ports_with_counters(&self) -> impl Iterator<Item = (&PortInfo, Option<LinkCounters>)> {
        self.ports.iter().map(|p| (p, self.counters_of(p.ifindex)))
    }

    /// `(key, counters)` of every port that has counters, for [`RateTracker::update`].
    pub fn samples(&self) -> impl Iterator<Item = (PortKey, LinkCounters)> + '_ {
        self.ports_with_counters()
            .filter_map(|(p, c)| Some((p.key(self.netns), c?)))
    }

    /// The ports of one network.
    pub fn ports_of<'a>(&'a self, network: &'a str) -> impl Iterator<Item = &'a PortInfo> + 'a {
        self.ports
            .iter()
            .filter(move |p| p.network.as_deref() == Some(network))
    }
}

/// Monotonic time since the first call in this process: the clock of [`PortsSnapshot::at`].
pub fn monotonic_now() -> Duration {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(ifindex: u32, name: &str) -> PortInfo {
        PortInfo::test_tap(ifindex, name)
    }

    /// A snapshot of `ports`, the counter list holding `(ifindex, rx_bytes, rx_packets)`.
    fn snap(at_ms: u64, ports: Vec<PortInfo>, counters: &[(u32, u64, u64)]) -> PortsSnapshot {
        let mut counters: Vec<(u32, LinkCounters)> = counters
            .iter()
            .map(|&(i, rx_bytes, rx_packets)| {
                let c = LinkCounters {
                    rx_bytes,
                    rx_packets,
                    ..Default::default()
                };
                (i, c)
            })
            .collect();
        counters.sort_by_key(|(i, _)| *i);
        PortsSnapshot {
            at: Duration::from_millis(at_ms),
            netns: 7,
            counters,
            ports: Arc::new(ports),
            host: Arc::default(),
            leases: Arc::default(),
            topology: 0,
            cause: SnapshotCause::Tick,
            errors: Vec::new(),
            rates: Vec::new(),
            firewall: 0,
        }
    }

    #[test]
    fn counters_and_rates_are_found_by_ifindex() {
        let mut b = snap(
            1_500,
            vec![
                port(3, "vnet0"),
                port(9, "vnet1"),
                port(5, "new"),
                port(6, "gone"),
            ],
            &[(5, 1, 1), (3, 126_000, 110), (9, 0, 0), (1, 9, 9)],
        );
        b.rates = vec![(3, Rates::from_array([8.0; 8]))];
        assert_eq!(b.rate_of(3).map(|r| r.rx_bps), Some(8.0));
        assert_eq!(b.rate_of(9), None);
        assert_eq!(b.counters_of(3).map(|c| c.rx_packets), Some(110));
        assert_eq!(b.counters_of(1).map(|c| c.rx_bytes), Some(9), "any link");
        assert_eq!(b.counters_of(4), None);
        let with: Vec<(u32, bool)> = b
            .ports_with_counters()
            .map(|(p, c)| (p.ifindex, c.is_some()))
            .collect();
        assert_eq!(with, [(3, true), (9, true), (5, true), (6, false)]);
        let keys: Vec<PortKey> = b.samples().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [PortKey::new(7, 3), PortKey::new(7, 9), PortKey::new(7, 5)],
            "keyed in the snapshot's namespace"
        );
    }

    #[test]
    fn monotonic_clock_moves_forward() {
        let a = monotonic_now();
        std::thread::sleep(Duration::from_millis(2));
        assert!(monotonic_now() > a);
    }
}
