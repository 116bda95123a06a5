//! The collector as a task: a snapshot at every tick, and at once when links change.
//!
//! One `tokio::select!` loop owns the [`Collector`]. It wakes for the interval tick, for
//! netlink events (applied as they come; a link change schedules a snapshot after a short
//! settle time, so a burst costs one link dump), for a new interval and for a new network
//! list. Snapshots go out on a `watch` channel as `Arc<PortsSnapshot>`: receivers get the
//! latest one without copying it. The task ends when every receiver is gone or the handle is
//! dropped.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{interval_at, sleep_until, Instant, Interval, MissedTickBehavior};

use super::collector::{Collector, CollectorError, EventEffect};
use super::snapshot::{PortsSnapshot, SnapshotCause};

/// A running collector: its snapshots and its controls.
#[derive(Debug)]
pub struct CollectorHandle {
    snapshots: watch::Receiver<Arc<PortsSnapshot>>,
    interval: watch::Sender<Duration>,
    task: JoinHandle<()>,
}

impl CollectorHandle {
    /// A receiver of the snapshots; `borrow()` is the latest, `changed()` waits for the next.
    pub fn subscribe(&self) -> watch::Receiver<Arc<PortsSnapshot>> {
        self.snapshots.clone()
    }

    /// The latest snapshot.
    pub fn latest(&self) -> Arc<PortsSnapshot> {
        Arc::clone(&self.snapshots.borrow())
    }

    /// Change the time between snapshots; the next tick comes one new interval from now.
    pub fn set_interval(&self, interval: Duration) {
        self.interval
            .send_replace(interval.max(Duration::from_millis(1)));
    }

    /// The current interval.
    pub fn interval(&self) -> Duration {
        *self.interval.borrow()
    }
}

impl Drop for CollectorHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<H: crate::host::Host> Collector<H> {
    /// Take the first snapshot, then keep collecting on a task of the current runtime.
    pub async fn start(mut self) -> Result<CollectorHandle, CollectorError> {
        let first = self.cycle(SnapshotCause::Start).await?;
        let (tx, snapshots) = watch::channel(Arc::new(first));
        let (interval, interval_rx) = watch::channel(self.options().interval);
        let task = tokio::spawn(run(self, tx, interval_rx));
        Ok(CollectorHandle {
            snapshots,
            interval,
            task,
        })
    }
}

fn ticker(every: Duration) -> Interval {
    let mut t = interval_at(Instant::now() + every, every);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

async fn run<H: crate::host::Host>(
    mut c: Collector<H>,
    tx: watch::Sender<Arc<PortsSnapshot>>,
    mut interval_rx: watch::Receiver<Duration>,
) {
    let mut tick = ticker(c.options().interval);
    let mut topology_at: Option<Instant> = None;
    let mut networks_open = true;
    loop {
        let cause = tokio::select! {
            () = tx.closed() => return,
            changed = interval_rx.changed() => {
                if changed.is_err() {
                    return;
                }
                let every = *interval_rx.borrow_and_update();
                c.set_interval(every);
                tick = ticker(every);
                continue;
            }
            changed = c.networks.changed(), if networks_open => {
                if changed.is_err() {
                    networks_open = false; // the caller keeps the last list for good
                    continue;
                }
                c.networks_changed();
                SnapshotCause::Networks
            }
            event = c.events.next(), if c.events_open => {
                match event {
                    Some(event) => {
                        let effect = c.apply_event(event);
                        let soon = matches!(effect, EventEffect::Topology | EventEffect::Firewall);
                        if soon && topology_at.is_none() {
                            topology_at = Some(Instant::from_std(c.topology_due()));
                        }
                    }
                    None => c.events_closed(),
                }
                continue;
            }
            () = sleep_until(topology_at.unwrap_or_else(Instant::now)), if topology_at.is_some() => {
                SnapshotCause::Topology
            }
            _ = tick.tick() => SnapshotCause::Tick,
        };
        let result = c.cycle(cause).await;
        // This cycle published what was pending (a link dump, a firewall change).
        topology_at = topology_at.filter(|_| c.topology_pending());
        publish(&tx, result);
    }
}

/// Send a snapshot; a failed cycle re-sends the previous one carrying the error.
fn publish(tx: &watch::Sender<Arc<PortsSnapshot>>, result: Result<PortsSnapshot, CollectorError>) {
    let snapshot = match result {
        Ok(s) => s,
        Err(e) => {
            let mut last = PortsSnapshot::clone(&tx.borrow());
            last.errors = vec![e.to_string()];
            last
        }
    };
    tx.send_replace(Arc::new(snapshot));
}
