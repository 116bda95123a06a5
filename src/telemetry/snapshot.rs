//! What the collector publishes: one owned, immutable snapshot per tick or change.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::leases::Lease;
use super::ports::{counters_of, PortInfo};
use super::rates::{counter_delta, PortKey, Rates};
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
    /// Every bridge port and macvtap with its guest and address; shared between snapshots
    /// until a port or what is known about it changes. Counters: [`Self::counters_of`].
    pub ports: Arc<Vec<PortInfo>>,
    /// The last link dump (links only: `addrs` and `routes` are left empty), for a host view.
    /// Shared between snapshots until the topology changes.
    pub host: Arc<HostState>,
    /// Counters of every link (ports, bridges, uplinks), sorted by ifindex.
    pub counters: Vec<(u32, LinkCounters)>,
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

    /// Every port with its counters.
    pub fn ports_with_counters(&self) -> impl Iterator<Item = (&PortInfo, Option<LinkCounters>)> {
        self.ports.iter().map(|p| (p, self.counters_of(p.ifindex)))
    }

    /// `(key, counters)` of every port that has counters, for [`RateTracker::update`].
    pub fn samples(&self) -> impl Iterator<Item = (PortKey, LinkCounters)> + '_ {
        self.ports_with_counters()
            .filter_map(|(p, c)| Some((p.key(), c?)))
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

/// Rates of every port present in both snapshots, over the time between them, by the rules of
/// [`RateTracker`](super::rates::RateTracker) (same `(ifindex, name)` key, wraps and resets as
/// [`counter_delta`] reads them) but without its histories, so a two-sample measurement costs
/// no ring buffers. A port that is new, re-created or whose counters were reset has no entry;
/// with no time between the snapshots, none has.
pub fn rates_between(earlier: &PortsSnapshot, later: &PortsSnapshot) -> HashMap<PortKey, Rates> {
    let Some(elapsed) = later.at.checked_sub(earlier.at).filter(|d| !d.is_zero()) else {
        return HashMap::new();
    };
    let before: HashMap<(u32, &str), LinkCounters> = earlier
        .ports_with_counters()
        .filter_map(|(p, c)| Some(((p.ifindex, p.ifname.as_str()), c?)))
        .collect();
    later
        .ports_with_counters()
        .filter_map(|(p, now)| {
            let prev = before.get(&(p.ifindex, p.ifname.as_str()))?;
            Some((p.key(), rates_from(prev, &now?, elapsed)?))
        })
        .collect()
}

/// Rates from two counter samples `elapsed` apart; `None` if a counter was reset.
fn rates_from(prev: &LinkCounters, now: &LinkCounters, elapsed: Duration) -> Option<Rates> {
    let (p, n) = (prev.to_array(), now.to_array());
    let mut d = [0f64; 9];
    for (i, delta) in d.iter_mut().enumerate() {
        *delta = counter_delta(p[i], n[i])? as f64 / elapsed.as_secs_f64();
    }
    // to_array order: rx/tx bytes, rx/tx packets, rx/tx errors, rx/tx dropped, multicast.
    let [rx_b, tx_b, rx_p, tx_p, rx_err, tx_err, rx_drop, tx_drop, _] = d;
    Some(Rates::from_array([
        rx_b * 8.0,
        tx_b * 8.0,
        rx_p,
        tx_p,
        rx_drop,
        tx_drop,
        rx_err,
        tx_err,
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(ifindex: u32, name: &str) -> PortInfo {
        PortInfo {
            ifindex,
            ifname: name.to_owned(),
            kind: "tap".to_owned(),
            bridge: Some("br".to_owned()),
            parent: None,
            network: Some("n".to_owned()),
            mac: None,
            guest_mac: None,
            mtu: 1500,
            up: true,
            oper_state: "up".to_owned(),
            guest: None,
            ip: None,
            ip_source: None,
        }
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
            counters,
            ports: Arc::new(ports),
            host: Arc::default(),
            leases: Arc::default(),
            topology: 0,
            cause: SnapshotCause::Tick,
            errors: Vec::new(),
        }
    }

    #[test]
    fn rates_over_the_window_between_two_snapshots() {
        let a = snap(
            1_000,
            vec![port(3, "vnet0"), port(4, "vnet1")],
            &[(3, 1_000, 10), (4, 500, 5), (1, 7, 7)],
        );
        // vnet1 was re-created (new ifindex 9); "new" is new; "gone" has no counters.
        let b = snap(
            1_500,
            vec![
                port(3, "vnet0"),
                port(9, "vnet1"),
                port(5, "new"),
                port(6, "gone"),
            ],
            &[(5, 1, 1), (3, 126_000, 110), (9, 0, 0), (1, 9, 9)],
        );
        let r = rates_between(&a, &b);
        let v = r[&PortKey::new(3, "vnet0")];
        assert_eq!(v.rx_bps, 125_000.0 * 8.0 * 2.0);
        assert_eq!(v.rx_pps, 200.0);
        assert_eq!(r.len(), 1, "re-created and new ports have no rate yet");
        assert_eq!(b.counters_of(3).map(|c| c.rx_packets), Some(110));
        assert_eq!(b.counters_of(1).map(|c| c.rx_bytes), Some(9), "any link");
        assert_eq!(b.counters_of(4), None);
        let with: Vec<(u32, bool)> = b
            .ports_with_counters()
            .map(|(p, c)| (p.ifindex, c.is_some()))
            .collect();
        assert_eq!(with, [(3, true), (9, true), (5, true), (6, false)]);
        assert_eq!(b.samples().count(), 3);
        assert!(
            rates_between(&b, &b).is_empty(),
            "zero elapsed time: no rate"
        );
    }

    /// The same answer as a `RateTracker` fed with both snapshots, for every kind of change.
    #[test]
    fn rates_between_agrees_with_the_rate_tracker() {
        use crate::telemetry::RateTracker;
        let c = |v: u64| LinkCounters {
            rx_bytes: v,
            tx_bytes: v.wrapping_mul(3),
            rx_packets: v / 7,
            tx_packets: v / 5,
            rx_errors: v / 1000,
            tx_errors: v / 999,
            rx_dropped: v / 100,
            tx_dropped: v / 101,
            multicast: v / 50,
        };
        let big = u64::MAX - 1_000;
        let cases: &[(u64, u64, &str)] = &[
            (0, 0, "idle"),
            (1_000, 5_000_000, "traffic"),
            (5_000_000, 1_000, "reset"),
            (big, 2_000, "rx wrapped (and tx reset): no rate"),
            (u64::MAX / 3 - 10, u64::MAX / 3 + 90_000, "large values"),
        ];
        for (i, &(a, b, why)) in cases.iter().enumerate() {
            let ifindex = i as u32 + 1;
            let mut before = snap(1_000, vec![port(ifindex, "p")], &[]);
            before.counters = vec![(ifindex, c(a))];
            let mut after = snap(1_250, vec![port(ifindex, "p")], &[]);
            after.counters = vec![(ifindex, c(b))];
            let mut tracker = RateTracker::new();
            tracker.update(before.at, before.samples());
            tracker.update(after.at, after.samples());
            let key = PortKey::new(ifindex, "p");
            let ours = rates_between(&before, &after).get(&key).copied();
            assert_eq!(ours, tracker.rate(&key), "{why}");
        }
    }

    #[test]
    fn monotonic_clock_moves_forward() {
        let a = monotonic_now();
        std::thread::sleep(Duration::from_millis(2));
        assert!(monotonic_now() > a);
    }
}
