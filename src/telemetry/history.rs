//! Bounded rate history of one port, for sparklines (pure).
//!
//! Two rings of fixed capacity, allocated once: a *fine* ring with one point per accepted tick
//! (the last [`FINE_POINTS`]; ten minutes at 1 s ticks) and a *coarse* ring with one average per
//! minute (the last [`COARSE_MINUTES`]). The fine ring stores runs of equal points, and the
//! newest run lives beside the rings: a port whose rate stays the same (an idle port, most of
//! a big host's) adds a point without touching its ring's memory, which, for a thousand ports
//! each with its own ring, was one cache miss per port per tick. The fine ring keeps the bit
//! rates only ([`FINE_METRICS`], what sparklines and charts draw): with a thousand ports,
//! keeping every metric at one point a second would cost 19 MiB instead of 2.3. The coarse
//! ring keeps every metric. Each rate is stored in two bytes, as a [`Level`] (within 0.04 %
//! of 1 + the rate from 0 to 10^19, ample for drawing, a quarter of an `f64`); every read
//! returns `f64`, oldest first.

use std::collections::VecDeque;
use std::time::Duration;

use super::rates::{Metric, Rates};

/// Capacity of the fine ring: one point per tick.
pub const FINE_POINTS: usize = 600;
/// Capacity of the coarse ring: one point per minute.
pub const COARSE_MINUTES: usize = 60;

const METRICS: usize = Metric::ALL.len();

/// The metrics the fine ring keeps, in this order.
pub const FINE_METRICS: [Metric; 2] = [Metric::RxBps, Metric::TxBps];

/// A rate (≥ 0) in two bytes: `log2(1 + rate)` in steps of 1/1024, so that zero is exact
/// and any rate up to about 1.8·10^19 comes back within 0.034 % of `1 + rate` (half a
/// step). Negative and
/// NaN rates, which no counter gives, are stored as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Level(u16);

/// Steps per doubling of `1 + rate`.
const LEVEL_STEPS: f64 = 1024.0;

impl Level {
    /// The level nearest to `rate`.
    pub fn of(rate: f64) -> Level {
        if rate.is_nan() || rate <= 0.0 {
            return Level(0);
        }
        let steps = (rate.ln_1p() / std::f64::consts::LN_2 * LEVEL_STEPS).round();
        Level(steps.min(f64::from(u16::MAX)) as u16)
    }

    /// The rate this level stands for.
    pub fn rate(self) -> f64 {
        (f64::from(self.0) / LEVEL_STEPS * std::f64::consts::LN_2).exp_m1()
    }
}

/// One stored coarse point: the rates in the order of [`Metric::ALL`].
type Point = [Level; METRICS];

/// One stored fine point: the rates of [`FINE_METRICS`].
type FinePoint = [Level; FINE_METRICS.len()];

/// A run of equal fine points: the point and how many times it came in a row (≥ 1).
type Run = (FinePoint, u16);

fn fine_index(metric: Metric) -> Option<usize> {
    FINE_METRICS.iter().position(|m| *m == metric)
}

/// The minute being accumulated: time-weighted sums, so the average is total traffic over total
/// time (an interval counts toward the minute in which it ends).
#[derive(Debug, Clone, Copy)]
struct MinuteAcc {
    minute: u64,
    weighted: [f64; METRICS],
    secs: f64,
}

impl MinuteAcc {
    fn average(&self) -> [f64; METRICS] {
        self.weighted.map(|v| v / self.secs)
    }
}

/// Fine and coarse rate rings of one port; memory is fixed when created.
#[derive(Debug, Clone)]
pub struct History {
    /// Runs of fine points before the newest, oldest first.
    fine: VecDeque<Run>,
    /// The newest run (count 0 before the first point).
    last: Run,
    /// Points in `fine` and `last` together (at most [`FINE_POINTS`]).
    fine_len: usize,
    coarse: VecDeque<Point>,
    minute: Option<MinuteAcc>,
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}

/// Append to a ring, dropping the oldest point when full, so it never reallocates.
fn push_bounded<P>(ring: &mut VecDeque<P>, cap: usize, point: P) {
    if ring.len() == cap {
        ring.pop_front();
    }
    ring.push_back(point);
}

impl History {
    /// Empty rings with their full capacity reserved.
    pub fn new() -> Self {
        Self {
            fine: VecDeque::with_capacity(FINE_POINTS),
            last: ([Level(0); FINE_METRICS.len()], 0),
            fine_len: 0,
            coarse: VecDeque::with_capacity(COARSE_MINUTES),
            minute: None,
        }
    }

    /// Record the rates measured over `elapsed` ending at `at` (monotonic time since the
    /// tracker's origin). A point whose minute is later than the one being accumulated closes
    /// that minute into the coarse ring; minutes with no points leave no entry.
    pub fn push(&mut self, at: Duration, elapsed: Duration, rates: Rates) {
        self.push_fine(FINE_METRICS.map(|m| Level::of(rates.get(m))));
        let minute = at.as_secs() / 60;
        if let Some(acc) = self.minute.filter(|acc| acc.minute != minute) {
            push_bounded(
                &mut self.coarse,
                COARSE_MINUTES,
                acc.average().map(Level::of),
            );
            self.minute = None;
        }
        let acc = self.minute.get_or_insert(MinuteAcc {
            minute,
            weighted: [0.0; METRICS],
            secs: 0.0,
        });
        let secs = elapsed.as_secs_f64();
        for (sum, v) in acc.weighted.iter_mut().zip(rates.to_array()) {
            *sum += v * secs;
        }
        acc.secs += secs;
    }

    /// Appends a fine point: to the newest run when it is the same point, else as a new run;
    /// the oldest point goes when the ring holds [`FINE_POINTS`].
    fn push_fine(&mut self, point: FinePoint) {
        let (newest, count) = &mut self.last;
        if *count > 0 && *newest == point && *count < u16::MAX {
            *count += 1;
        } else {
            if *count > 0 {
                // At most FINE_POINTS runs here, each of at least one point, before the trim
                // below: never past the ring's capacity.
                self.fine.push_back(self.last);
            }
            self.last = (point, 1);
        }
        self.fine_len += 1;
        if self.fine_len > FINE_POINTS {
            let oldest = self.fine.front_mut().unwrap_or(&mut self.last);
            oldest.1 -= 1;
            if oldest.1 == 0 {
                self.fine.pop_front();
            }
            self.fine_len -= 1;
        }
    }

    /// One metric over the fine ring, oldest first; empty for a metric not in
    /// [`FINE_METRICS`].
    pub fn fine(&self, metric: Metric) -> impl ExactSizeIterator<Item = f64> + '_ {
        let index = fine_index(metric);
        let runs = index.map(|_| self.fine.iter().chain(std::iter::once(&self.last)));
        FinePoints {
            runs: runs.into_iter().flatten(),
            index: index.unwrap_or(0),
            current: None,
            left: if index.is_some() { self.fine_len } else { 0 },
        }
    }

    /// One metric over the completed minutes, oldest first.
    pub fn coarse(&self, metric: Metric) -> impl ExactSizeIterator<Item = f64> + '_ {
        self.coarse.iter().map(move |p| p[metric.index()].rate())
    }

    /// Received bits/s, one point per tick, oldest first.
    pub fn fine_rx_bps(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        self.fine(Metric::RxBps)
    }

    /// Transmitted bits/s, one point per tick, oldest first.
    pub fn fine_tx_bps(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        self.fine(Metric::TxBps)
    }

    /// Received bits/s, one average per minute, oldest first.
    pub fn coarse_rx_bps(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        self.coarse(Metric::RxBps)
    }

    /// Transmitted bits/s, one average per minute, oldest first.
    pub fn coarse_tx_bps(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        self.coarse(Metric::TxBps)
    }

    /// The average of the minute still being accumulated, if any point fell in it.
    pub fn current_minute(&self) -> Option<Rates> {
        Some(Rates::from_array(self.minute?.average()))
    }

    /// Number of points in the fine ring.
    pub fn fine_len(&self) -> usize {
        self.fine_len
    }

    /// Number of completed minutes in the coarse ring.
    pub fn coarse_len(&self) -> usize {
        self.coarse.len()
    }

    /// Reserved places (fine runs, coarse points): constant over the history's life.
    pub fn capacity(&self) -> (usize, usize) {
        (self.fine.capacity(), self.coarse.capacity())
    }
}

/// One metric of a history's fine points, oldest first, runs expanded.
struct FinePoints<'a, R: Iterator<Item = &'a Run>> {
    runs: R,
    index: usize,
    /// The value of the run being expanded and the points of it still to come.
    current: Option<(f64, u16)>,
    left: usize,
}

impl<'a, R: Iterator<Item = &'a Run>> Iterator for FinePoints<'a, R> {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        if self.left == 0 {
            return None;
        }
        loop {
            if let Some((value, n)) = self.current.as_mut().filter(|(_, n)| *n > 0) {
                *n -= 1;
                self.left -= 1;
                return Some(*value);
            }
            let (point, count) = self.runs.next()?;
            self.current = Some((point[self.index].rate(), *count));
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<'a, R: Iterator<Item = &'a Run>> ExactSizeIterator for FinePoints<'a, R> {}

#[cfg(test)]
mod tests {
    use super::{History, Level, FINE_POINTS};
    use crate::telemetry::rates::{Metric, Rates};
    use std::time::Duration;

    #[test]
    fn runs_of_equal_points_read_back_as_every_point_pushed() {
        // Sequences with long runs, short runs and no runs, past the ring's length, against
        // a plain list of what was pushed.
        let patterns: [fn(u64) -> f64; 4] = [
            |_| 0.0,
            |i| if (i / 7) % 3 == 0 { 1e6 } else { 0.0 },
            |i| (i % 5) as f64 * 1e3,
            |i| if i % 997 < 900 { 0.0 } else { i as f64 },
        ];
        for (p, rate) in patterns.iter().enumerate() {
            let mut h = History::new();
            let capacity = h.capacity();
            let mut pushed = Vec::new();
            for i in 1..=3 * FINE_POINTS as u64 + 17 {
                let r = Rates {
                    rx_bps: rate(i),
                    tx_bps: rate(i + 1),
                    ..Default::default()
                };
                h.push(Duration::from_secs(i), Duration::from_secs(1), r);
                pushed.push((Level::of(r.rx_bps).rate(), Level::of(r.tx_bps).rate()));
                let want = &pushed[pushed.len().saturating_sub(FINE_POINTS)..];
                assert_eq!(h.fine_len(), want.len(), "pattern {p}, point {i}");
                let rx: Vec<f64> = h.fine(Metric::RxBps).collect();
                let tx: Vec<f64> = h.fine(Metric::TxBps).collect();
                assert_eq!(h.fine(Metric::RxBps).len(), want.len());
                assert!(
                    rx.iter().copied().eq(want.iter().map(|w| w.0))
                        && tx.iter().copied().eq(want.iter().map(|w| w.1)),
                    "pattern {p}, point {i}"
                );
            }
            assert_eq!(h.capacity(), capacity, "pattern {p}: the ring never grew");
            assert_eq!(h.fine(Metric::RxPps).len(), 0, "not kept finely");
        }
    }

    #[test]
    fn a_level_is_within_half_a_step_of_its_rate() {
        // Half a step of 1/1024 doublings: 2^(1/2048) - 1.
        let bound = (2f64.powf(1.0 / 2048.0) - 1.0) * 1.0001;
        let mut rate = 1e-3;
        while rate < 1e19 {
            for r in [rate, rate * 1.37, rate * 7.9] {
                let back = Level::of(r).rate();
                // Relative to 1 + rate, the quantity stored in steps.
                let err = ((1.0 + back) / (1.0 + r) - 1.0).abs();
                assert!(
                    err <= bound,
                    "{r} came back as {back} ({err:e} > {bound:e})"
                );
            }
            rate *= 10.0;
        }
    }

    #[test]
    fn zero_is_exact_and_nonsense_is_zero() {
        assert_eq!(Level::of(0.0).rate(), 0.0);
        for bad in [-1.0, f64::NAN, f64::NEG_INFINITY] {
            assert_eq!(Level::of(bad), Level::of(0.0), "{bad}");
        }
    }

    #[test]
    fn levels_keep_order_and_saturate() {
        let rates = [0.0, 0.5, 1.0, 8.0, 1e3, 1e6, 1e9, 1e12, 1e18];
        let levels: Vec<Level> = rates.iter().map(|r| Level::of(*r)).collect();
        assert!(levels.windows(2).all(|w| w[0].0 < w[1].0), "{levels:?}");
        assert_eq!(Level::of(f64::INFINITY), Level(u16::MAX));
        assert_eq!(Level::of(1e30), Level(u16::MAX));
    }
}
