//! Bounded rate history of one port, for sparklines (pure).
//!
//! Two rings of fixed capacity, allocated once: a *fine* ring with one point per accepted tick
//! (the last [`FINE_POINTS`]; ten minutes at 1 s ticks) and a *coarse* ring with one average per
//! minute (the last [`COARSE_MINUTES`]). The fine ring keeps the bit rates only ([`FINE_METRICS`],
//! what sparklines and charts draw): with a thousand ports, keeping every metric at one point a
//! second would cost 19 MiB instead of 4.6. The coarse ring keeps every metric. Points are
//! stored as `f32` (ample for drawing, half the memory); every read returns `f64`, oldest first.

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

/// One stored coarse point: the rates in the order of [`Metric::ALL`].
type Point = [f32; METRICS];

/// One stored fine point: the rates of [`FINE_METRICS`].
type FinePoint = [f32; FINE_METRICS.len()];

/// What `fine()` reads for a metric the fine ring does not keep.
static NO_FINE: VecDeque<FinePoint> = VecDeque::new();

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
    fn average(&self) -> Point {
        self.weighted.map(|v| (v / self.secs) as f32)
    }
}

/// Fine and coarse rate rings of one port; memory is fixed when created.
#[derive(Debug, Clone)]
pub struct History {
    fine: VecDeque<FinePoint>,
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
            coarse: VecDeque::with_capacity(COARSE_MINUTES),
            minute: None,
        }
    }

    /// Record the rates measured over `elapsed` ending at `at` (monotonic time since the
    /// tracker's origin). A point whose minute is later than the one being accumulated closes
    /// that minute into the coarse ring; minutes with no points leave no entry.
    pub fn push(&mut self, at: Duration, elapsed: Duration, rates: Rates) {
        let fine = FINE_METRICS.map(|m| rates.get(m) as f32);
        push_bounded(&mut self.fine, FINE_POINTS, fine);
        let minute = at.as_secs() / 60;
        if let Some(acc) = self.minute.filter(|acc| acc.minute != minute) {
            push_bounded(&mut self.coarse, COARSE_MINUTES, acc.average());
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

    /// One metric over the fine ring, oldest first; empty for a metric not in
    /// [`FINE_METRICS`].
    pub fn fine(&self, metric: Metric) -> impl ExactSizeIterator<Item = f64> + '_ {
        let index = fine_index(metric);
        let ring = if index.is_some() {
            &self.fine
        } else {
            &NO_FINE
        };
        ring.iter().map(move |p| f64::from(p[index.unwrap_or(0)]))
    }

    /// One metric over the completed minutes, oldest first.
    pub fn coarse(&self, metric: Metric) -> impl ExactSizeIterator<Item = f64> + '_ {
        self.coarse
            .iter()
            .map(move |p| f64::from(p[metric.index()]))
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
        let avg = self.minute?.average();
        Some(Rates::from_array(avg.map(f64::from)))
    }

    /// Number of points in the fine ring.
    pub fn fine_len(&self) -> usize {
        self.fine.len()
    }

    /// Number of completed minutes in the coarse ring.
    pub fn coarse_len(&self) -> usize {
        self.coarse.len()
    }

    /// Reserved points (fine, coarse): constant over the history's life.
    pub fn capacity(&self) -> (usize, usize) {
        (self.fine.capacity(), self.coarse.capacity())
    }
}
