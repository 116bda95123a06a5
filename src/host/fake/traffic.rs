//! How much traffic a fake link carries: smooth, deterministic functions of the fake clock, so
//! a series of snapshots is the same on every run.

use std::f64::consts::TAU;

use crate::state::LinkCounters;

/// The traffic model of one link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Traffic {
    /// No traffic at all.
    Idle,
    /// About `rx_bps` and `tx_bps` bytes a second, swaying by a quarter over a minute
    /// (`phase` in radians sets where in the sway it starts), and `drops_per_min` received
    /// packets dropped a minute.
    Steady {
        rx_bps: f64,
        tx_bps: f64,
        drops_per_min: f64,
        phase: f64,
    },
    /// A bridge: the sum of its ports.
    Sum,
}

/// Period of the sway, in seconds.
const PERIOD: f64 = 60.0;
/// Mean packet sizes, received and sent.
const RX_PACKET: f64 = 800.0;
const TX_PACKET: f64 = 600.0;

impl Traffic {
    pub fn steady(rx_bps: f64, tx_bps: f64, drops_per_min: f64) -> Traffic {
        // The phase follows from the rates, so two links don't sway in step.
        let phase = ((rx_bps * 7.0 + tx_bps * 3.0) % 628.0) / 100.0;
        Traffic::Steady {
            rx_bps,
            tx_bps,
            drops_per_min,
            phase,
        }
    }

    /// The counters after `secs` seconds of life (`None` for a [`Traffic::Sum`], which the
    /// caller adds up).
    pub fn counters(&self, secs: f64) -> Option<LinkCounters> {
        match *self {
            Traffic::Idle => Some(LinkCounters::default()),
            Traffic::Sum => None,
            Traffic::Steady {
                rx_bps,
                tx_bps,
                drops_per_min,
                phase,
            } => {
                let t = secs.max(0.0);
                let bytes = |rate: f64| {
                    let sway =
                        0.25 * PERIOD / TAU * (phase.cos() - (TAU * t / PERIOD + phase).cos());
                    (rate * (t + sway)).max(0.0)
                };
                let (rx, tx) = (bytes(rx_bps), bytes(tx_bps));
                Some(LinkCounters {
                    rx_bytes: rx as u64,
                    tx_bytes: tx as u64,
                    rx_packets: (rx / RX_PACKET) as u64,
                    tx_packets: (tx / TX_PACKET) as u64,
                    rx_dropped: (drops_per_min * t / 60.0) as u64,
                    multicast: (t / 10.0) as u64,
                    ..LinkCounters::default()
                })
            }
        }
    }
}

/// Field-wise sum of counters.
pub fn add(a: LinkCounters, b: LinkCounters) -> LinkCounters {
    LinkCounters {
        rx_bytes: a.rx_bytes + b.rx_bytes,
        tx_bytes: a.tx_bytes + b.tx_bytes,
        rx_packets: a.rx_packets + b.rx_packets,
        tx_packets: a.tx_packets + b.tx_packets,
        rx_errors: a.rx_errors + b.rx_errors,
        tx_errors: a.tx_errors + b.tx_errors,
        rx_dropped: a.rx_dropped + b.rx_dropped,
        tx_dropped: a.tx_dropped + b.tx_dropped,
        multicast: a.multicast + b.multicast,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_grow_at_about_the_rate_and_never_fall() {
        let t = Traffic::steady(1000.0, 500.0, 6.0);
        let mut last = t.counters(0.0).unwrap();
        assert_eq!(last.rx_bytes, 0);
        for s in 1..=600 {
            let now = t.counters(s as f64).unwrap();
            assert!(now.rx_bytes >= last.rx_bytes && now.tx_bytes >= last.tx_bytes);
            let d = (now.rx_bytes - last.rx_bytes) as f64;
            assert!((700.0..=1300.0).contains(&d), "{d} bytes in second {s}");
            last = now;
        }
        assert_eq!(last.rx_dropped, 60);
    }
}
