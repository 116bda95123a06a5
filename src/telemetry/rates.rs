//! Per-port rates from successive counter samples (pure: no clock, no I/O).
//!
//! The collector calls [`RateTracker::update`] once per tick with every port it saw and a
//! monotonic timestamp. Rules, each covered by the table tests in `tests/telemetry_rates.rs`:
//!
//! * Ports are keyed by [`PortKey`], `(netns, ifindex)`: a link deleted and re-created under the
//!   same name gets a new ifindex and starts from scratch, while a link renamed keeps its ifindex
//!   and its history (the kernel does not hand an ifindex out again within a namespace until its
//!   counter wraps); a port missing from a batch is forgotten.
//! * A rate needs two samples; before that [`RateTracker::rate`] is `None` (draw "–", not 0).
//! * A sample whose time is not after the previous one (zero or negative elapsed time) changes
//!   nothing: the previous rate and baseline stay, and nothing is divided by zero.
//! * A counter that goes down is a *reset* (driver reset, link re-initialised): the rate is
//!   `None` for that tick and the new values become the baseline. The one exception is a
//!   plausible 64-bit wrap, see [`counter_delta`].

use std::borrow::Borrow;
use std::collections::hash_map::{Entry, HashMap};
use std::hash::Hash;
use std::time::Duration;

use serde::Serialize;

use super::history::History;
use crate::state::LinkCounters;

/// Largest step (exclusive) accepted as a 64-bit counter wrap, 2^40.
///
/// A decrease from `prev` to `now` is read as a wrap only if `now - prev` modulo 2^64 is below
/// this window, i.e. `prev` was within 2^40 of `u64::MAX` and `now` is small. Any other decrease
/// is a reset. The window is far larger than one tick's traffic needs (2^40 bytes in a second is
/// 8.8 Tbit/s), so a fast port wrapping is never mistaken for a reset, and far smaller than 2^64,
/// so a reset from an ordinary value is never mistaken for a wrap.
pub const WRAP_WINDOW: u64 = 1 << 40;

/// The increase of a cumulative counter from `prev` to `now`, or `None` if it was reset.
pub fn counter_delta(prev: u64, now: u64) -> Option<u64> {
    if now >= prev {
        return Some(now - prev);
    }
    let wrapped = now.wrapping_sub(prev);
    (wrapped < WRAP_WINDOW).then_some(wrapped)
}

/// Identity of a port across ticks: the network namespace it was read in and its interface
/// index there. An ifindex is unique within a namespace and not handed out again until the
/// kernel's counter wraps, so a link renamed is the same port (its history continues) and a
/// link re-created under the same name is a new one. The name is not part of the key: it is
/// read from the port's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PortKey {
    /// Identity of the network namespace the port was read in: the inode number of that
    /// namespace (see [`Host::netns_id`](crate::host::Host::netns_id)).
    pub netns: u64,
    /// Kernel interface index, within `netns`.
    pub ifindex: u32,
}

impl PortKey {
    /// A key from its parts.
    pub fn new(netns: u64, ifindex: u32) -> Self {
        Self { netns, ifindex }
    }
}

/// One of the rates in [`Rates`], to pick a series out of a [`History`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Received bits per second.
    RxBps,
    /// Transmitted bits per second.
    TxBps,
    /// Received packets per second.
    RxPps,
    /// Transmitted packets per second.
    TxPps,
    /// Received packets dropped per second.
    RxDropPs,
    /// Transmitted packets dropped per second.
    TxDropPs,
    /// Receive errors per second.
    RxErrPs,
    /// Transmit errors per second.
    TxErrPs,
}

impl Metric {
    /// Every metric, in the order of [`Rates::to_array`].
    pub const ALL: [Metric; 8] = [
        Metric::RxBps,
        Metric::TxBps,
        Metric::RxPps,
        Metric::TxPps,
        Metric::RxDropPs,
        Metric::TxDropPs,
        Metric::RxErrPs,
        Metric::TxErrPs,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Rates of one port over one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Rates {
    /// Received bits per second.
    pub rx_bps: f64,
    /// Transmitted bits per second.
    pub tx_bps: f64,
    /// Received packets per second.
    pub rx_pps: f64,
    /// Transmitted packets per second.
    pub tx_pps: f64,
    /// Received packets dropped per second.
    pub rx_drop_ps: f64,
    /// Transmitted packets dropped per second.
    pub tx_drop_ps: f64,
    /// Receive errors per second.
    pub rx_err_ps: f64,
    /// Transmit errors per second.
    pub tx_err_ps: f64,
}

impl Rates {
    /// Rates from the counter increases over `elapsed`, which must not be zero.
    fn from_deltas(d: &LinkCounters, elapsed: Duration) -> Self {
        let secs = elapsed.as_secs_f64();
        let per_s = |v: u64| v as f64 / secs;
        Self {
            rx_bps: per_s(d.rx_bytes) * 8.0,
            tx_bps: per_s(d.tx_bytes) * 8.0,
            rx_pps: per_s(d.rx_packets),
            tx_pps: per_s(d.tx_packets),
            rx_drop_ps: per_s(d.rx_dropped),
            tx_drop_ps: per_s(d.tx_dropped),
            rx_err_ps: per_s(d.rx_errors),
            tx_err_ps: per_s(d.tx_errors),
        }
    }

    /// The value of one metric.
    pub fn get(&self, metric: Metric) -> f64 {
        self.to_array()[metric.index()]
    }

    /// The rates in the order of [`Metric::ALL`].
    pub fn to_array(&self) -> [f64; 8] {
        [
            self.rx_bps,
            self.tx_bps,
            self.rx_pps,
            self.tx_pps,
            self.rx_drop_ps,
            self.tx_drop_ps,
            self.rx_err_ps,
            self.tx_err_ps,
        ]
    }

    /// Rates from values in the order of [`Metric::ALL`].
    pub fn from_array(a: [f64; 8]) -> Self {
        let [rx_bps, tx_bps, rx_pps, tx_pps, rx_drop_ps, tx_drop_ps, rx_err_ps, tx_err_ps] = a;
        Self {
            rx_bps,
            tx_bps,
            rx_pps,
            tx_pps,
            rx_drop_ps,
            tx_drop_ps,
            rx_err_ps,
            tx_err_ps,
        }
    }
}

/// Field-wise counter increases, or `None` if any counter was reset.
fn deltas(prev: LinkCounters, now: LinkCounters) -> Option<LinkCounters> {
    let (p, n) = (prev.to_array(), now.to_array());
    let mut d = [0u64; 9];
    for i in 0..d.len() {
        d[i] = counter_delta(p[i], n[i])?;
    }
    let [rx_bytes, tx_bytes, rx_packets, tx_packets, rx_errors, tx_errors, rx_dropped, tx_dropped, multicast] =
        d;
    Some(LinkCounters {
        rx_bytes,
        tx_bytes,
        rx_packets,
        tx_packets,
        rx_errors,
        tx_errors,
        rx_dropped,
        tx_dropped,
        multicast,
    })
}

/// A link's last accepted sample, in a [`RateMeter`].
#[derive(Debug, Clone, Copy)]
struct Baseline {
    counters: LinkCounters,
    at: Duration,
    rate: Option<Rates>,
}

impl Baseline {
    /// The baseline after a new sample `counters` taken at `at`.
    fn next(mut self, at: Duration, counters: LinkCounters) -> Baseline {
        if let Some(elapsed) = at.checked_sub(self.at).filter(|d| !d.is_zero()) {
            self.rate = deltas(self.counters, counters).map(|d| Rates::from_deltas(&d, elapsed));
            self.counters = counters;
            self.at = at;
        }
        self
    }
}

/// Rates from successive counter samples: the one place rates are computed. The collector
/// keeps one (keyed by ifindex) and publishes its rates in every snapshot; the CLI and the
/// screens read those. Holds one baseline per link and nothing else.
///
/// The baselines are kept sorted by key, and each batch is merged into them in one pass (the
/// kernel dumps links in ifindex order, so a batch is already sorted): with thousands of links
/// a tick walks two arrays front to back instead of looking each link up in a hash map.
#[derive(Debug)]
pub struct RateMeter<K> {
    last: Vec<(K, Baseline)>,
    /// The previous tick's array, kept for its capacity.
    spare: Vec<(K, Baseline)>,
}

impl<K> Default for RateMeter<K> {
    fn default() -> Self {
        RateMeter {
            last: Vec::new(),
            spare: Vec::new(),
        }
    }
}

impl<K: Ord> RateMeter<K> {
    /// An empty meter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one batch taken at `at` (monotonic); afterwards [`Self::rate`] answers by the
    /// module's rules (`None` before a second sample and on the tick of a reset; a sample not
    /// after the previous one keeps the previous rate and baseline). Links missing from the
    /// batch are forgotten; a link listed twice counts once, with its first sample.
    pub fn update<I>(&mut self, at: Duration, samples: I)
    where
        I: IntoIterator<Item = (K, LinkCounters)>,
    {
        let mut samples: Vec<(K, LinkCounters)> = samples.into_iter().collect();
        if !samples.is_sorted_by(|a, b| a.0 <= b.0) {
            // Stable: of a key listed twice, the first sample stays first.
            samples.sort_by(|a, b| a.0.cmp(&b.0));
        }
        std::mem::swap(&mut self.last, &mut self.spare);
        self.last.clear();
        let mut old = self.spare.drain(..).peekable();
        for (key, counters) in samples {
            if self.last.last().is_some_and(|(k, _)| *k == key) {
                continue;
            }
            while old.next_if(|(k, _)| *k < key).is_some() {}
            let base = match old.next_if(|(k, _)| *k == key) {
                Some((_, base)) => base.next(at, counters),
                None => Baseline {
                    counters,
                    at,
                    rate: None,
                },
            };
            self.last.push((key, base));
        }
    }

    fn baseline(&self, key: &K) -> Option<&Baseline> {
        let at = self.last.binary_search_by(|(k, _)| k.cmp(key)).ok()?;
        Some(&self.last[at].1)
    }

    /// The latest rate of a link.
    pub fn rate(&self, key: &K) -> Option<Rates> {
        self.baseline(key).and_then(|b| b.rate)
    }

    /// The counters of the link's baseline (its latest accepted sample).
    pub fn counters(&self, key: &K) -> Option<LinkCounters> {
        self.baseline(key).map(|b| b.counters)
    }

    /// How many links are measured.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// Whether no link is measured.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

/// What a tracker remembers about one port: its rate and its history.
#[derive(Debug)]
struct Tracked {
    rate: Option<Rates>,
    /// When the last rate was recorded.
    at: Duration,
    history: History,
    seen: u64,
}

/// Rates and bounded histories of every port, for the screens: fed with the rates the
/// collector's [`RateMeter`] computed ([`Self::record`]), or with counters
/// ([`Self::update`], which runs a meter of its own). Keyed by [`PortKey`] unless told
/// otherwise (the TUI keeps networks' summed rates in one keyed by network name).
#[derive(Debug)]
pub struct RateTracker<K = PortKey> {
    meter: Option<RateMeter<K>>,
    ports: HashMap<K, Tracked>,
    generation: u64,
}

impl<K> Default for RateTracker<K> {
    fn default() -> Self {
        RateTracker {
            meter: None,
            ports: HashMap::new(),
            generation: 0,
        }
    }
}

impl<K: Hash + Eq> RateTracker<K> {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one tick of counters: `at` is monotonic time since a fixed origin, `samples` every
    /// port now present. Ports not in `samples` are dropped with their history.
    pub fn update<I>(&mut self, at: Duration, samples: I)
    where
        I: IntoIterator<Item = (K, LinkCounters)>,
        K: Copy + Ord,
    {
        let samples: Vec<(K, LinkCounters)> = samples.into_iter().collect();
        let meter = self.meter.get_or_insert_with(RateMeter::new);
        let keys: Vec<K> = samples.iter().map(|(k, _)| *k).collect();
        meter.update(at, samples);
        let batch: Vec<(K, Option<Rates>)> = keys
            .into_iter()
            .map(|k| {
                let r = meter.rate(&k);
                (k, r)
            })
            .collect();
        self.record(at, batch);
    }

    /// Feed one tick of rates already measured (the snapshot's): each port's rate (`None`:
    /// not measurable this tick) at `at`. A rate is added to the history once per new `at`.
    /// Ports not in the batch are dropped with their history.
    pub fn record<I>(&mut self, at: Duration, batch: I)
    where
        I: IntoIterator<Item = (K, Option<Rates>)>,
    {
        self.generation = self.generation.wrapping_add(1);
        let generation = self.generation;
        for (key, rate) in batch {
            match self.ports.entry(key) {
                Entry::Occupied(mut e) => {
                    let t = e.get_mut();
                    t.seen = generation;
                    let Some(elapsed) = at.checked_sub(t.at).filter(|d| !d.is_zero()) else {
                        continue;
                    };
                    t.rate = rate;
                    t.at = at;
                    if let Some(r) = rate {
                        t.history.push(at, elapsed, r);
                    }
                }
                Entry::Vacant(e) => {
                    e.insert(Tracked {
                        rate,
                        at,
                        history: History::new(),
                        seen: generation,
                    });
                }
            }
        }
        self.ports.retain(|_, t| t.seen == generation);
    }

    /// The latest rate of a port; `None` before its second sample and on the tick of a reset.
    pub fn rate<Q>(&self, key: &Q) -> Option<Rates>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.ports.get(key).and_then(|t| t.rate)
    }

    /// The counters of the port's current baseline, when this tracker was fed counters.
    pub fn counters(&self, key: &K) -> Option<LinkCounters>
    where
        K: Ord,
    {
        self.meter.as_ref().and_then(|m| m.counters(key))
    }

    /// The rate history of a port, for sparklines.
    pub fn history<Q>(&self, key: &Q) -> Option<&History>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.ports.get(key).map(|t| &t.history)
    }

    /// The ports currently tracked, in no particular order.
    pub fn ports(&self) -> impl Iterator<Item = &K> {
        self.ports.keys()
    }

    /// How many ports are tracked.
    pub fn len(&self) -> usize {
        self.ports.len()
    }

    /// Whether no port is tracked.
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_delta_table() {
        let max = u64::MAX;
        let cases: &[(u64, u64, Option<u64>, &str)] = &[
            (0, 0, Some(0), "unchanged"),
            (10, 25, Some(15), "increase"),
            (25, 10, None, "small decrease is a reset"),
            (
                5_000_000_000,
                3,
                None,
                "32-bit-sized value going small is a reset",
            ),
            (max, 0, Some(1), "wrap by one"),
            (max - 9, 5, Some(15), "wrap across the top"),
            (
                max - (WRAP_WINDOW - 2),
                0,
                Some(WRAP_WINDOW - 1),
                "largest accepted wrap",
            ),
            (
                max - (WRAP_WINDOW - 1),
                0,
                None,
                "wrap step of exactly the window is a reset",
            ),
            (max - 10, max - 20, None, "decrease near the top is a reset"),
            (max / 2, 1, None, "decrease from the middle is a reset"),
        ];
        for &(prev, now, want, why) in cases {
            assert_eq!(counter_delta(prev, now), want, "{why}: {prev} -> {now}");
        }
    }

    fn rx(rx_bytes: u64) -> LinkCounters {
        LinkCounters {
            rx_bytes,
            ..Default::default()
        }
    }

    #[test]
    fn the_same_ifindex_in_two_namespaces_is_two_ports() {
        // Every namespace numbers its links from 1: ifindex 2 here and there are unrelated.
        let (here, there) = (
            PortKey::new(4_026_531_840, 2),
            PortKey::new(4_026_532_301, 2),
        );
        let mut t = RateTracker::new();
        t.update(
            Duration::from_secs(1),
            [(here, rx(0)), (there, rx(1_000_000))],
        );
        t.update(
            Duration::from_secs(2),
            [(here, rx(100)), (there, rx(1_000_500))],
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t.rate(&here).map(|r| r.rx_bps), Some(800.0));
        assert_eq!(t.rate(&there).map(|r| r.rx_bps), Some(4000.0));
        assert_eq!(t.counters(&there).map(|c| c.rx_bytes), Some(1_000_500));
        assert_eq!(t.history(&here).map(History::fine_len), Some(1));
        // One of them gone: the other keeps its baseline and history.
        t.update(Duration::from_secs(3), [(there, rx(1_001_500))]);
        assert_eq!((t.len(), t.rate(&here)), (1, None));
        assert_eq!(t.rate(&there).map(|r| r.rx_bps), Some(8000.0));
        assert_eq!(t.history(&there).map(History::fine_len), Some(2));
    }

    #[test]
    fn a_tracker_keyed_by_name_is_looked_up_by_str() {
        let mut t: RateTracker<String> = RateTracker::new();
        let r = Rates::from_array([1.0; 8]);
        t.record(Duration::from_secs(1), [("lab".to_owned(), None)]);
        t.record(Duration::from_secs(2), [("lab".to_owned(), Some(r))]);
        assert_eq!(t.rate("lab"), Some(r));
        assert_eq!(t.history("lab").map(History::fine_len), Some(1));
        assert!(t.history("other").is_none());
    }

    #[test]
    fn a_meter_merges_batches_in_any_order() {
        let rx = |b: u64| LinkCounters {
            rx_bytes: b,
            ..Default::default()
        };
        let s = Duration::from_secs;
        let mut m: RateMeter<u32> = RateMeter::new();
        m.update(s(1), [(5, rx(0)), (2, rx(0)), (9, rx(0))]);
        // Unsorted, a link gone (9), one new between the others (3), one listed twice (5).
        m.update(s(2), [(5, rx(100)), (3, rx(7)), (2, rx(10)), (5, rx(999))]);
        assert_eq!(m.len(), 3);
        assert_eq!(m.rate(&2).map(|r| r.rx_bps), Some(80.0));
        assert_eq!(
            m.rate(&5).map(|r| r.rx_bps),
            Some(800.0),
            "the first of 5's samples"
        );
        assert_eq!(m.rate(&3), None, "new: one sample");
        assert_eq!(m.counters(&3).map(|c| c.rx_bytes), Some(7));
        assert_eq!(m.counters(&9), None, "forgotten");
        m.update(s(3), [(2, rx(20)), (3, rx(17)), (9, rx(5))]);
        assert_eq!(m.rate(&3).map(|r| r.rx_bps), Some(80.0));
        assert_eq!((m.rate(&5), m.rate(&9)), (None, None));
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn a_key_listed_twice_in_a_batch_counts_once_the_first() {
        let mut t: RateTracker<String> = RateTracker::new();
        let (a, b) = (Rates::from_array([1.0; 8]), Rates::from_array([2.0; 8]));
        t.record(Duration::from_secs(1), [("p".to_owned(), None)]);
        t.record(
            Duration::from_secs(2),
            [("p".to_owned(), Some(a)), ("p".to_owned(), Some(b))],
        );
        assert_eq!(t.rate("p"), Some(a));
        assert_eq!(t.history("p").map(History::fine_len), Some(1));
    }

    #[test]
    fn rates_array_round_trip() {
        let r = Rates::from_array([1., 2., 3., 4., 5., 6., 7., 8.]);
        for (i, m) in Metric::ALL.iter().enumerate() {
            assert_eq!(r.get(*m), (i + 1) as f64);
        }
        assert_eq!(Rates::from_array(r.to_array()), r);
    }
}
