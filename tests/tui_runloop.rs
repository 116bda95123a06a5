//! The real event loop on a TestBackend with scripted input and the real live source over the
//! simulated host (`live::demo::source`: the real backend on `FakeHost`, wall clock): quitting,
//! command round trips, a backend that hangs or panics, signals, end of input. (Real time, kept
//! short: tokio's paused clock needs a feature the crate does not enable.)

mod tui_support;

use std::future::{pending, Future};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{Event as CtEvent, KeyCode, KeyEvent, KeyModifiers};
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};
use futures::FutureExt;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use switchyard::live::demo;
use switchyard::live::LiveSource;
use switchyard::tui::app::{App, Settings, View};
use switchyard::tui::runloop::{run_loop, Exit};
use switchyard::tui::{Command, CommandResult, DataSource, Snapshot};
use tokio::sync::{mpsc, watch};
use tokio::time::sleep;

/// A step of an input script: wait, then press a key (or end the input).
enum Step {
    Wait(u64),
    Key(char),
    Code(KeyCode),
    End,
}

/// Terminal events from a script, fed with real (paused) time between them.
fn script(steps: Vec<Step>) -> BoxStream<'static, io::Result<CtEvent>> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for step in steps {
            let ev = match step {
                Step::Wait(ms) => {
                    sleep(Duration::from_millis(ms)).await;
                    continue;
                }
                Step::Key(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
                Step::Code(code) => KeyEvent::new(code, KeyModifiers::NONE),
                Step::End => return,
            };
            if tx.send(Ok(CtEvent::Key(ev))).is_err() {
                return;
            }
        }
        // Keep the input open until the loop ends, as a real terminal would.
        pending::<()>().await;
    });
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) }).boxed()
}

async fn drive<S: DataSource>(
    source: &S,
    steps: Vec<Step>,
    stop: impl Future<Output = &'static str>,
) -> (Exit, App, Terminal<TestBackend>) {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test backend");
    let mut app = App::new(Settings::default(), (80, 24));
    let exit = run_loop(&mut terminal, &mut app, source, script(steps), stop)
        .await
        .expect("loop");
    (exit, app, terminal)
}

/// The simulated host under the live source, refreshing every 50 ms, each plan step taking
/// `step_delay`; returned once it has published its first snapshot. Keep the folder until the
/// source is dropped. (The step delay also slows the live source's own supervision.)
async fn simulated(step_delay: Duration) -> (LiveSource, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("a folder for the simulated host");
    let source = demo::source(home.path(), 50, step_delay).expect("the simulated host starts");
    let mut rx = source.snapshots();
    tokio::time::timeout(
        Duration::from_secs(10),
        rx.wait_for(|s| !s.networks.is_empty()),
    )
    .await
    .expect("a first snapshot within 10 s")
    .expect("the source runs");
    (source, home)
}

/// A simulated host whose plan steps take 10 ms.
async fn quick() -> (LiveSource, tempfile::TempDir) {
    simulated(Duration::from_millis(10)).await
}

fn screen(t: &Terminal<TestBackend>) -> String {
    tui_support::lines(t).join("\n")
}

#[tokio::test]
async fn draws_live_data_and_quits_on_q() {
    let (source, _home) = quick().await;
    let steps = vec![Step::Key('2'), Step::Wait(500), Step::Key('q')];
    let (exit, app, terminal) = drive(&source, steps, pending()).await;
    assert_eq!(exit, Exit::Quit);
    assert_eq!(app.view(), View::Ports);
    let text = screen(&terminal);
    assert!(text.contains("Ports (7)"), "{text}");
    assert!(text.contains("(simulated)"), "{text}");
    assert!(text.contains("Mb/s"), "rates after a few refreshes: {text}");
}

#[tokio::test]
async fn a_command_round_trip_updates_log_and_data() {
    let (source, _home) = quick().await;
    // default, isolated, routed: one down is isolated, which is not running.
    let steps = vec![
        Step::Key('j'),
        Step::Key('s'),
        Step::Wait(1_500),
        Step::Key('q'),
    ];
    let (_, app, _) = drive(&source, steps, pending()).await;
    let log: Vec<&str> = app.log_entries().iter().map(|e| e.text.as_str()).collect();
    assert!(
        log.iter()
            .any(|l| l.contains("start isolated: isolated started")),
        "{log:?}"
    );
    assert!(app.pending().is_empty());
    let isolated = app
        .snapshot()
        .networks
        .iter()
        .find(|n| n.name == "isolated")
        .expect("still defined");
    assert!(isolated.active, "the next snapshot shows it running");
}

#[tokio::test]
async fn a_hanging_backend_never_blocks_input() {
    let (live, _home) = quick().await;
    let source = Hanging(live);
    let steps = vec![
        Step::Key('j'),
        Step::Key('s'),
        Step::Wait(200),
        Step::Key('3'),
        Step::Wait(300),
        Step::Key('q'),
    ];
    let (exit, app, terminal) = drive(&source, steps, pending()).await;
    assert_eq!(exit, Exit::Quit, "q quits with the command still hanging");
    assert_eq!(
        app.view(),
        View::Leases,
        "keys still work while the command hangs"
    );
    assert_eq!(app.pending().len(), 1);
    let footer = tui_support::lines(&terminal)[23].clone();
    assert!(
        footer.contains("starting isolated…"),
        "spinner in the status line: {footer}"
    );
}

/// A stop signal ends the loop. (With a command under way it would also tell every
/// transaction in this process to roll back — a process-wide flag that would break the other
/// tests here, which run real transactions; `tests/apply_interrupt.rs` covers what it does to a
/// transaction.)
#[tokio::test]
async fn a_stop_signal_ends_the_loop() {
    let (source, _home) = quick().await;
    let steps = vec![Step::Key('3')];
    let stop = sleep(Duration::from_millis(300)).map(|_| "SIGTERM");
    let (exit, app, _) = drive(&source, steps, stop).await;
    assert_eq!(exit, Exit::Signal("SIGTERM"));
    assert_eq!(app.view(), View::Leases);
}

#[tokio::test]
async fn end_of_input_ends_the_loop() {
    let (source, _home) = quick().await;
    let (exit, _, _) = drive(&source, vec![Step::Wait(200), Step::End], pending()).await;
    assert_eq!(exit, Exit::InputClosed);
}

/// The live source with a backend that never answers a command.
struct Hanging(LiveSource);

impl DataSource for Hanging {
    fn snapshots(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.0.snapshots()
    }

    fn execute(&self, _id: u64, _cmd: Command) -> BoxFuture<'static, CommandResult> {
        pending().boxed()
    }

    fn refresh_interval(&self, ms: u64) {
        self.0.refresh_interval(ms);
    }
}

/// A source whose commands panic and whose snapshot channel can be closed.
struct BrokenSource {
    tx: Mutex<Option<watch::Sender<Arc<Snapshot>>>>,
    rx: watch::Receiver<Arc<Snapshot>>,
}

impl BrokenSource {
    fn new() -> Self {
        // The simulated host's snapshot, taken on a thread of its own (it runs a runtime).
        let snap = std::thread::spawn(|| demo::Demo::new().snapshot())
            .join()
            .expect("the simulated host's snapshot");
        let (tx, rx) = watch::channel(Arc::new(snap));
        Self {
            tx: Mutex::new(Some(tx)),
            rx,
        }
    }
}

impl DataSource for BrokenSource {
    fn snapshots(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.rx.clone()
    }

    fn execute(&self, _id: u64, cmd: Command) -> BoxFuture<'static, CommandResult> {
        if matches!(cmd, Command::SetAutostart(..)) {
            self.tx.lock().expect("lock").take();
        }
        async move { panic!("backend exploded on {cmd:?}") }.boxed()
    }

    fn refresh_interval(&self, _ms: u64) {}
}

#[tokio::test]
async fn backend_panics_and_a_closed_source_are_reported() {
    let source = BrokenSource::new();
    let steps = vec![
        Step::Key('a'),
        Step::Wait(300),
        Step::Code(KeyCode::Char('5')),
        Step::Wait(300),
        Step::Key('q'),
    ];
    let (exit, app, terminal) = drive(&source, steps, pending()).await;
    assert_eq!(exit, Exit::Quit);
    let log: Vec<&str> = app.log_entries().iter().map(|e| e.text.as_str()).collect();
    assert!(
        log.iter()
            .any(|l| l.contains("autostart default off failed: the backend task failed")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|l| l.contains("data source stopped")),
        "{log:?}"
    );
    assert!(screen(&terminal).contains("data source stopped"));
}
