//! Table tests for the rate tracker and its history rings (pure, no root needed).

use std::time::Duration;

use switchyard::telemetry::history::{COARSE_MINUTES, FINE_POINTS};
use switchyard::telemetry::{History, LinkCounters, Metric, PortKey, RateTracker, Rates};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn counters(rx_bytes: u64, tx_bytes: u64) -> LinkCounters {
    LinkCounters {
        rx_bytes,
        tx_bytes,
        rx_packets: rx_bytes / 100,
        tx_packets: tx_bytes / 100,
        ..Default::default()
    }
}

fn rx_only(rx_bytes: u64) -> LinkCounters {
    LinkCounters {
        rx_bytes,
        ..Default::default()
    }
}

/// The namespace the ports of these tests were read in (any value does).
const NS: u64 = 4_026_531_840;

/// "vnet0", ifindex 7. Its name is not part of its key: renamed, it stays this port.
fn vnet0() -> PortKey {
    PortKey::new(NS, 7)
}

/// A step of a scenario: time, the batch, and the expected rx_bps of `vnet0` after it.
struct Step {
    at: f64,
    batch: Vec<(PortKey, LinkCounters)>,
    want_rx_bps: Option<f64>,
}

fn step(at: f64, batch: Vec<(PortKey, LinkCounters)>, want_rx_bps: Option<f64>) -> Step {
    Step {
        at,
        batch,
        want_rx_bps,
    }
}

fn run(name: &str, steps: Vec<Step>) -> RateTracker {
    let mut t = RateTracker::new();
    for (i, s) in steps.into_iter().enumerate() {
        t.update(secs(s.at), s.batch);
        let got = t.rate(&vnet0()).map(|r| r.rx_bps);
        assert_eq!(got, s.want_rx_bps, "{name}: step {i}");
    }
    t
}

#[test]
fn rate_scenarios() {
    let k = vnet0;
    let max = u64::MAX;
    let scenarios: Vec<(&str, Vec<Step>)> = vec![
        (
            "first sample has no rate, second has",
            vec![
                step(0.0, vec![(k(), counters(1000, 0))], None),
                step(1.0, vec![(k(), counters(2000, 0))], Some(8000.0)),
            ],
        ),
        (
            "elapsed time is honoured, not assumed 1 s",
            vec![
                step(10.0, vec![(k(), counters(0, 0))], None),
                step(12.5, vec![(k(), counters(1000, 0))], Some(3200.0)),
            ],
        ),
        (
            "zero elapsed keeps the previous rate and baseline",
            vec![
                step(0.0, vec![(k(), counters(0, 0))], None),
                step(1.0, vec![(k(), counters(1000, 0))], Some(8000.0)),
                step(1.0, vec![(k(), counters(5000, 0))], Some(8000.0)),
                // baseline still (1.0 s, 1000): 3000 bytes over 1 s
                step(2.0, vec![(k(), counters(4000, 0))], Some(24000.0)),
            ],
        ),
        (
            "zero elapsed before any rate stays None",
            vec![
                step(3.0, vec![(k(), counters(0, 0))], None),
                step(3.0, vec![(k(), counters(10, 0))], None),
            ],
        ),
        (
            "time going backwards is ignored like zero elapsed",
            vec![
                step(5.0, vec![(k(), counters(0, 0))], None),
                step(6.0, vec![(k(), counters(100, 0))], Some(800.0)),
                step(4.0, vec![(k(), counters(900, 0))], Some(800.0)),
            ],
        ),
        (
            "counter reset gives None for the tick, then rates from the new baseline",
            vec![
                step(0.0, vec![(k(), counters(1_000_000, 0))], None),
                step(1.0, vec![(k(), counters(2_000_000, 0))], Some(8_000_000.0)),
                step(2.0, vec![(k(), counters(500, 0))], None),
                step(3.0, vec![(k(), counters(1500, 0))], Some(8000.0)),
            ],
        ),
        (
            "a reset of any single counter resets the port",
            vec![
                step(0.0, vec![(k(), counters(1000, 1000))], None),
                step(1.0, vec![(k(), counters(2000, 10))], None),
                step(2.0, vec![(k(), counters(3000, 20))], Some(8000.0)),
            ],
        ),
        (
            "64-bit wrap near the top is traffic, not a reset",
            vec![
                step(0.0, vec![(k(), rx_only(max - 99))], None),
                step(1.0, vec![(k(), rx_only(900))], Some(8000.0)),
            ],
        ),
        (
            "link re-created (under the same name, a new ifindex) starts over",
            vec![
                step(0.0, vec![(k(), counters(0, 0))], None),
                step(1.0, vec![(k(), counters(1000, 0))], Some(8000.0)),
                step(2.0, vec![(PortKey::new(NS, 9), counters(10, 0))], None),
            ],
        ),
        (
            "the same ifindex in another namespace is another port",
            vec![
                step(0.0, vec![(k(), counters(0, 0))], None),
                step(1.0, vec![(k(), counters(1000, 0))], Some(8000.0)),
                step(
                    2.0,
                    vec![(PortKey::new(NS + 1, 7), counters(5000, 0))],
                    None,
                ),
            ],
        ),
        (
            "a port absent from a batch is forgotten",
            vec![
                step(0.0, vec![(k(), counters(0, 0))], None),
                step(1.0, vec![(k(), counters(1000, 0))], Some(8000.0)),
                step(2.0, vec![], None),
                step(3.0, vec![(k(), counters(2000, 0))], None),
                step(4.0, vec![(k(), counters(3000, 0))], Some(8000.0)),
            ],
        ),
    ];
    for (name, steps) in scenarios {
        run(name, steps);
    }
}

#[test]
fn recreated_link_does_not_inherit_state() {
    // vnet0 deleted and created again: the kernel gives the new link a new ifindex.
    let old = PortKey::new(NS, 7);
    let new = PortKey::new(NS, 12);
    let mut t = RateTracker::new();
    t.update(secs(0.0), [(old, counters(0, 0))]);
    t.update(secs(1.0), [(old, counters(10_000, 0))]);
    t.update(secs(2.0), [(new, counters(50, 0))]);
    assert_eq!(t.len(), 1);
    assert!(t.rate(&old).is_none() && t.counters(&old).is_none());
    assert!(
        t.rate(&new).is_none(),
        "new link must not get a rate from the old one"
    );
    assert_eq!(t.history(&new).map(History::fine_len), Some(0));
    t.update(secs(3.0), [(new, counters(150, 0))]);
    assert_eq!(t.rate(&new).map(|r| r.rx_bps), Some(800.0));
}

#[test]
fn every_rate_field_is_computed() {
    let a = LinkCounters {
        rx_bytes: 100,
        tx_bytes: 200,
        rx_packets: 10,
        tx_packets: 20,
        rx_errors: 1,
        tx_errors: 2,
        rx_dropped: 3,
        tx_dropped: 4,
        multicast: 5,
    };
    let b = LinkCounters {
        rx_bytes: 300,
        tx_bytes: 600,
        rx_packets: 14,
        tx_packets: 28,
        rx_errors: 3,
        tx_errors: 6,
        rx_dropped: 5,
        tx_dropped: 12,
        multicast: 9,
    };
    let mut t = RateTracker::new();
    t.update(secs(1.0), [(vnet0(), a)]);
    t.update(secs(3.0), [(vnet0(), b)]);
    let want = Rates {
        rx_bps: 800.0,
        tx_bps: 1600.0,
        rx_pps: 2.0,
        tx_pps: 4.0,
        rx_drop_ps: 1.0,
        tx_drop_ps: 4.0,
        rx_err_ps: 1.0,
        tx_err_ps: 2.0,
    };
    assert_eq!(t.rate(&vnet0()), Some(want));
    assert_eq!(t.counters(&vnet0()), Some(b));
}

#[test]
fn many_ports_are_independent() {
    let mut t = RateTracker::new();
    let batch =
        |n: u64| (0..50u32).map(move |i| (PortKey::new(NS, i), counters(n * u64::from(i), 0)));
    t.update(secs(0.0), batch(0));
    t.update(secs(1.0), batch(1));
    assert_eq!(t.len(), 50);
    for i in 0..50u32 {
        let got = t.rate(&PortKey::new(NS, i)).map(|r| r.rx_bps);
        assert_eq!(got, Some(8.0 * f64::from(i)));
    }
}

/// Whether `got` is the rate `want` as a history stores it (within 0.04 %).
fn near(got: f64, want: f64) -> bool {
    (got - want).abs() <= 4e-4 * (1.0 + want)
}

/// Whether each of `got` is `want`'s value as a history stores it.
fn all_near(got: impl IntoIterator<Item = f64>, want: &[f64]) -> bool {
    let got: Vec<f64> = got.into_iter().collect();
    got.len() == want.len() && got.iter().zip(want).all(|(g, w)| near(*g, *w))
}

#[test]
fn history_is_bounded_and_never_reallocates() {
    let mut h = History::new();
    let cap = h.capacity();
    assert!(cap.0 >= FINE_POINTS && cap.1 >= COARSE_MINUTES);
    let n = 10 * 3600;
    for i in 1..=n {
        let r = Rates {
            rx_bps: i as f64,
            ..Default::default()
        };
        h.push(secs(i as f64), secs(1.0), r);
    }
    assert_eq!(h.fine_len(), FINE_POINTS);
    assert_eq!(h.coarse_len(), COARSE_MINUTES);
    assert_eq!(h.capacity(), cap, "rings must not grow");
    let fine: Vec<f64> = h.fine_rx_bps().collect();
    assert!(
        near(fine[0], (n - FINE_POINTS + 1) as f64),
        "oldest first: {}",
        fine[0]
    );
    assert!(near(fine[FINE_POINTS - 1], n as f64));
}

#[test]
fn history_through_tracker_is_bounded() {
    let mut t = RateTracker::new();
    for i in 0..2000u64 {
        t.update(secs(i as f64), [(vnet0(), counters(i * 125, i * 250))]);
    }
    let h = t.history(&vnet0()).expect("port is tracked");
    assert_eq!(h.fine_len(), FINE_POINTS);
    assert!(h.fine_rx_bps().all(|v| near(v, 1000.0)));
    assert!(h.fine_tx_bps().all(|v| near(v, 2000.0)));
    // 1999 s of points: minutes 0..=32 closed, minute 33 open (ticks land at 1..=1999 s).
    assert_eq!(h.coarse_len(), 33);
    assert!(h.coarse_rx_bps().all(|v| near(v, 1000.0)));
}

#[test]
fn minute_rollup_is_time_weighted_and_skips_empty_minutes() {
    let mut h = History::new();
    let r = |bps: f64| Rates {
        rx_bps: bps,
        tx_pps: bps / 10.0,
        ..Default::default()
    };
    // Minute 0: 10 s at 100 and 30 s at 200 -> (1000 + 6000) / 40 = 175.
    h.push(secs(10.0), secs(10.0), r(100.0));
    h.push(secs(40.0), secs(30.0), r(200.0));
    assert_eq!(h.coarse_len(), 0, "minute 0 still open");
    assert_eq!(h.current_minute().map(|m| m.rx_bps), Some(175.0));
    // Minute 1 has one point; minute 2 has none; minute 3 closes minute 1.
    h.push(secs(61.0), secs(21.0), r(50.0));
    h.push(secs(185.0), secs(124.0), r(10.0));
    assert!(all_near(h.coarse_rx_bps(), &[175.0, 50.0]));
    assert!(all_near(h.coarse(Metric::TxPps), &[17.5, 5.0]));
    assert_eq!(h.coarse_tx_bps().len(), 2);
    assert_eq!(h.fine_len(), 4);
}

#[test]
fn reset_tick_adds_no_history_point() {
    let mut t = RateTracker::new();
    t.update(secs(0.0), [(vnet0(), counters(5000, 0))]);
    t.update(secs(1.0), [(vnet0(), counters(6000, 0))]);
    t.update(secs(2.0), [(vnet0(), counters(10, 0))]);
    t.update(secs(3.0), [(vnet0(), counters(20, 0))]);
    let h = t.history(&vnet0()).expect("tracked");
    assert!(all_near(h.fine_rx_bps(), &[8000.0, 80.0]));
}

#[test]
fn fine_history_keeps_bit_rates_only() {
    let mut h = History::new();
    let r = Rates {
        rx_bps: 8.0,
        tx_bps: 16.0,
        rx_pps: 1.0,
        ..Default::default()
    };
    h.push(secs(1.0), secs(1.0), r);
    assert!(all_near(h.fine(Metric::RxBps), &[8.0]));
    assert!(all_near(h.fine(Metric::TxBps), &[16.0]));
    assert_eq!(
        h.fine(switchyard::telemetry::Metric::RxPps).len(),
        0,
        "not kept at 1 s"
    );
    assert_eq!(
        h.current_minute().map(|m| m.rx_pps),
        Some(1.0),
        "minutes keep every metric"
    );
}
