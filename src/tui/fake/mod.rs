//! [`FakeSource`]: a [`DataSource`] over the deterministic [`FakeHost`], for tests, screenshots
//! and demo runs.

mod host;
mod inventory;
mod wizard;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::watch;

pub use host::{FakeHost, FAKE_EPOCH_UNIX};
pub use wizard::{preview_text, progress_steps};

use super::data::{Command, CommandResult, DataSource, ProgressSender, Snapshot};

/// Default refresh of the fake source, as for a real one.
const DEFAULT_INTERVAL_MS: u64 = 1_000;

struct Shared {
    host: Mutex<FakeHost>,
    tx: watch::Sender<Snapshot>,
    interval_ms: AtomicU64,
    ticking: AtomicBool,
}

impl Shared {
    fn host(&self) -> MutexGuard<'_, FakeHost> {
        // A panic while holding the lock leaves the fake in a usable state: take it anyway.
        self.host.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self) {
        let snap = self.host().snapshot();
        self.tx.send_replace(snap);
    }
}

/// A data source backed by [`FakeHost`].
///
/// Passive until [`DataSource::snapshots`] is called inside a tokio runtime: then a task steps
/// the host once per refresh interval. Tests drive it by hand with [`FakeSource::step`].
/// Commands take [`FakeSource::with_delay`] (700 ms by default) so the spinner shows.
#[derive(Clone)]
pub struct FakeSource {
    shared: Arc<Shared>,
    delay: Duration,
}

impl Default for FakeSource {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeSource {
    /// A fake host at step zero.
    pub fn new() -> Self {
        let host = FakeHost::new();
        let (tx, _) = watch::channel(host.snapshot());
        Self {
            shared: Arc::new(Shared {
                host: Mutex::new(host),
                tx,
                interval_ms: AtomicU64::new(DEFAULT_INTERVAL_MS),
                ticking: AtomicBool::new(false),
            }),
            delay: Duration::from_millis(700),
        }
    }

    /// The same source with commands taking `delay`.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Advance the fake host by `dt` and publish the new snapshot.
    pub fn step(&self, dt: Duration) {
        self.shared.host().step(dt);
        self.shared.publish();
    }

    /// The snapshot the fake host shows now.
    pub fn snapshot(&self) -> Snapshot {
        self.shared.host().snapshot()
    }

    /// `n + 1` successive snapshots one second apart, starting from a fresh host: enough for
    /// rates (from the second one on) and a little history.
    pub fn series(n: usize) -> Vec<Snapshot> {
        let mut host = FakeHost::new();
        let mut out = vec![host.snapshot()];
        for _ in 0..n {
            host.step(Duration::from_secs(1));
            out.push(host.snapshot());
        }
        out
    }

    /// The current refresh interval in milliseconds.
    pub fn interval_ms(&self) -> u64 {
        self.shared.interval_ms.load(Ordering::Relaxed)
    }

    fn start_ticker(&self) {
        if tokio::runtime::Handle::try_current().is_err()
            || self.shared.ticking.swap(true, Ordering::SeqCst)
        {
            return;
        }
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            loop {
                let ms = shared.interval_ms.load(Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                if shared.tx.is_closed() {
                    break;
                }
                shared.host().step(Duration::from_millis(ms));
                shared.publish();
            }
            shared.ticking.store(false, Ordering::SeqCst);
        });
    }
}

impl DataSource for FakeSource {
    fn snapshots(&self) -> watch::Receiver<Snapshot> {
        let rx = self.shared.tx.subscribe();
        self.start_ticker();
        rx
    }

    fn execute(&self, id: u64, cmd: Command) -> BoxFuture<'static, CommandResult> {
        let shared = Arc::clone(&self.shared);
        let delay = self.delay;
        async move {
            tokio::time::sleep(delay).await;
            let result = shared.host().apply(id, &cmd);
            shared.publish();
            result
        }
        .boxed()
    }

    /// Wizard commands report the plan's steps, spread over the delay.
    fn execute_with_progress(
        &self,
        id: u64,
        cmd: Command,
        progress: ProgressSender,
    ) -> BoxFuture<'static, CommandResult> {
        let steps = progress_steps(&cmd);
        if steps.is_empty() {
            return self.execute(id, cmd);
        }
        let shared = Arc::clone(&self.shared);
        let pause = self.delay / (steps.len() as u32 + 1);
        async move {
            for step in steps {
                progress.step(step);
                tokio::time::sleep(pause).await;
            }
            let result = shared.host().apply(id, &cmd);
            shared.publish();
            result
        }
        .boxed()
    }

    fn refresh_interval(&self, ms: u64) {
        self.shared.interval_ms.store(ms.max(1), Ordering::Relaxed);
    }
}
