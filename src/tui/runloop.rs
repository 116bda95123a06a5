//! The event loop: one `tokio::select!` over terminal events, snapshots, a tick, command
//! results and a shutdown signal. It owns the App, turns effects into I/O, and draws only when
//! the App says something changed. Generic over the backend and the event stream, so tests run
//! this very loop on a `TestBackend` with scripted input.

use std::future::Future;
use std::io;
use std::time::Duration;

use crossterm::event::Event as CtEvent;
use futures::{Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::Terminal;
use tokio::sync::mpsc;

use super::app::App;
use super::data::{CommandResult, DataSource, Progress, ProgressSender, Snapshot};
use super::event::{Effect, Event, TICK_MS};
use super::views;

/// Why the loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// The user quit.
    Quit,
    /// The terminal event stream ended.
    InputClosed,
    /// A signal asked us to stop (its name).
    Signal(&'static str),
}

fn translate(ev: CtEvent) -> Option<Event> {
    match ev {
        CtEvent::Key(k) => Some(Event::Key(k)),
        CtEvent::Mouse(m) => Some(Event::Mouse(m)),
        CtEvent::Resize(w, h) => Some(Event::Resize(w, h)),
        _ => None,
    }
}

/// The loop's ends of the channels commands report through.
struct Reports {
    results: mpsc::UnboundedSender<CommandResult>,
    progress: mpsc::UnboundedSender<Progress>,
}

/// How long a stop signal waits for commands under way to finish or roll back.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// After a stop signal: commands under way are told to stop before their next step and roll
/// back ([`crate::host::apply::interrupt`]); their results are awaited (up to
/// [`DRAIN_TIMEOUT`]) so the process never ends in the middle of a transaction.
async fn drain(results: &mut mpsc::UnboundedReceiver<CommandResult>, mut running: usize) {
    if running == 0 {
        return;
    }
    crate::host::apply::interrupt();
    let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
    while running > 0 {
        match tokio::time::timeout_at(deadline, results.recv()).await {
            Ok(Some(_)) => running -= 1,
            Ok(None) | Err(_) => return,
        }
    }
}

/// Run a command on its own task; a panic in the backend becomes a failed result.
fn spawn_command<S: DataSource>(source: &S, id: u64, cmd: super::data::Command, to: &Reports) {
    let progress = ProgressSender::new(id, to.progress.clone());
    let work = tokio::spawn(source.execute_with_progress(id, cmd, progress));
    let tx = to.results.clone();
    tokio::spawn(async move {
        let result = match work.await {
            Ok(r) => CommandResult { id, ..r },
            Err(e) => CommandResult::failed(id, format!("the backend task failed: {e}").into()),
        };
        // The loop may have ended meanwhile; then nobody needs the result.
        let _ = tx.send(result);
    });
}

/// Run until quit, end of input, a stop signal, or a terminal error.
pub async fn run_loop<B, S, E, F>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    source: &S,
    mut events: E,
    stop: F,
) -> io::Result<Exit>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: DataSource,
    E: Stream<Item = io::Result<CtEvent>> + Unpin,
    F: Future<Output = &'static str>,
{
    tokio::pin!(stop);
    let mut snaps = source.snapshots();
    let (results_tx, mut results) = mpsc::unbounded_channel();
    let (progress_tx, mut progress) = mpsc::unbounded_channel();
    let reports = Reports {
        results: results_tx,
        progress: progress_tx,
    };
    let mut tick = tokio::time::interval(Duration::from_millis(TICK_MS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut source_open = true;
    let mut running = 0usize;
    let first = snaps.borrow_and_update().clone();
    if *first != Snapshot::default() {
        app.update(Event::Snapshot(first));
    }
    loop {
        if app.take_dirty() {
            terminal
                .draw(|f| views::draw(f, app))
                .map_err(io::Error::other)?;
        }
        let event = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => match translate(ev) {
                    Some(ev) => ev,
                    None => continue,
                },
                Some(Err(e)) => return Err(e),
                None => return Ok(Exit::InputClosed),
            },
            changed = snaps.changed(), if source_open => match changed {
                Ok(()) => Event::Snapshot(snaps.borrow_and_update().clone()),
                Err(_) => {
                    source_open = false;
                    Event::SourceClosed
                }
            },
            _ = tick.tick() => Event::Tick,
            Some(result) = results.recv() => {
                running = running.saturating_sub(1);
                Event::CommandDone(result)
            }
            Some(p) = progress.recv() => Event::Progress { id: p.id, step: p.step },
            name = &mut stop => {
                drain(&mut results, running).await;
                return Ok(Exit::Signal(name));
            }
        };
        for effect in app.update(event) {
            match effect {
                Effect::Quit => return Ok(Exit::Quit),
                Effect::SetInterval(ms) => source.refresh_interval(ms),
                Effect::Execute(id, cmd) => {
                    running += 1;
                    spawn_command(source, id, cmd, &reports);
                }
            }
        }
    }
}
