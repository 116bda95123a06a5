//! The wizard through the real event loop against the real live source over the simulated host
//! (`live::demo::source`: the real backend on `FakeHost`): `n`, a name, Enter through the steps
//! and `y` create and start a NAT network; an overlapping subnet stops at its field and creates
//! nothing; the source reports the plan's steps while applying.

mod tui_support;

use std::future::pending;
use std::io;
use std::time::Duration;

use crossterm::event::{Event as CtEvent, KeyCode, KeyEvent, KeyModifiers};
use futures::stream::{self, BoxStream, StreamExt};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use switchyard::live::demo;
use switchyard::live::LiveSource;
use switchyard::tui::app::{App, Settings};
use switchyard::tui::runloop::{run_loop, Exit};
use switchyard::tui::{Command, DataSource, NetworkRow, ProgressSender};
use tokio::sync::mpsc;
use tokio::time::sleep;

/// Keys (or pauses, as `None` with milliseconds) fed to the loop.
enum In {
    Keys(&'static str),
    Code(KeyCode),
    Ctrl(char),
    Wait(u64),
}

fn script(steps: Vec<In>) -> BoxStream<'static, io::Result<CtEvent>> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for step in steps {
            let keys: Vec<KeyEvent> = match step {
                In::Wait(ms) => {
                    sleep(Duration::from_millis(ms)).await;
                    continue;
                }
                In::Keys(text) => text
                    .chars()
                    .map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
                    .collect(),
                In::Code(code) => vec![KeyEvent::new(code, KeyModifiers::NONE)],
                In::Ctrl(c) => vec![KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)],
            };
            for k in keys {
                if tx.send(Ok(CtEvent::Key(k))).is_err() {
                    return;
                }
            }
        }
        // A script whose last key was swallowed (a popup still open on a slow machine) must
        // end the loop anyway, so the test fails on its assertions instead of hanging.
        sleep(Duration::from_secs(10)).await;
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        while tx.send(Ok(CtEvent::Key(ctrl_c))).is_ok() {
            sleep(Duration::from_secs(1)).await;
        }
        pending::<()>().await;
    });
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) }).boxed()
}

async fn drive(source: &LiveSource, steps: Vec<In>) -> (Exit, App, Terminal<TestBackend>) {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test backend");
    let mut app = App::new(Settings::default(), (80, 24));
    let exit = run_loop(&mut terminal, &mut app, source, script(steps), pending())
        .await
        .expect("loop");
    (exit, app, terminal)
}

/// The simulated host under the live source, refreshing every 50 ms, each plan step taking
/// 10 ms; returned once it has published its first snapshot. Keep the folder until the source
/// is dropped.
async fn quick() -> (LiveSource, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("a folder for the simulated host");
    let source = demo::source(home.path(), 50, Duration::from_millis(10))
        .expect("the simulated host starts");
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

/// Network `name` once the source's snapshots show it (waiting up to 5 s), or `None`.
async fn network(source: &LiveSource, name: &str) -> Option<NetworkRow> {
    let mut rx = source.snapshots();
    let found = tokio::time::timeout(
        Duration::from_secs(5),
        rx.wait_for(|s| s.networks.iter().any(|n| n.name == name)),
    )
    .await
    .ok()?
    .ok()?
    .networks
    .iter()
    .find(|n| n.name == name)
    .cloned();
    found
}

#[tokio::test]
async fn n_name_enters_and_y_create_a_running_nat_network() {
    let (source, _home) = quick().await;
    let steps = vec![
        In::Wait(100),
        In::Keys("nlab"),
        In::Code(KeyCode::Enter),
        In::Code(KeyCode::Enter),
        In::Code(KeyCode::Enter),
        In::Wait(1500),
        In::Keys("y"),
        In::Wait(1500),
        In::Keys("q"),
    ];
    let (exit, app, terminal) = drive(&source, steps).await;
    assert_eq!(exit, Exit::Quit);
    let lab = network(&source, "lab").await.expect("lab defined");
    assert!(lab.active && lab.dnsmasq_pid.is_some(), "{lab:?}");
    assert_eq!(
        lab.ipv4.map(|n| n.to_string()).as_deref(),
        Some("192.168.100.1/24")
    );
    assert_eq!(lab.bridge.as_deref(), Some("sybr0"));
    assert!(app.popup().is_none(), "the wizard closed");
    let log: Vec<&str> = app.log_entries().iter().map(|e| e.text.as_str()).collect();
    assert!(
        log.iter()
            .any(|l| l.contains("create and start lab: lab defined and started")),
        "{log:?}"
    );
    assert_eq!(app.selected_network().map(|n| n.name.as_str()), Some("lab"));
    let screen = tui_support::lines(&terminal).join("\n");
    assert!(
        screen.contains("lab") && screen.contains("sybr0"),
        "{screen}"
    );
}

#[tokio::test]
async fn an_overlapping_subnet_stops_at_its_field_and_creates_nothing() {
    let (source, _home) = quick().await;
    let steps = vec![
        In::Wait(100),
        In::Keys("nlab2"),
        In::Code(KeyCode::Enter),
        In::Ctrl('u'),
        In::Keys("192.168.122.1/24"),
        In::Code(KeyCode::Enter),
        In::Code(KeyCode::Enter),
        In::Wait(300),
        In::Ctrl('c'),
    ];
    let (exit, _, terminal) = drive(&source, steps).await;
    assert_eq!(exit, Exit::Quit);
    let screen = tui_support::lines(&terminal).join("\n");
    assert!(screen.contains("step 2 of 4"), "{screen}");
    assert!(
        screen.contains("✖ 192.168.122.0/24 overlaps 192.168.122.0/24 of network"),
        "{screen}"
    );
    assert!(screen.contains("'default'"), "{screen}");
    assert!(!source
        .snapshots()
        .borrow()
        .networks
        .iter()
        .any(|n| n.name == "lab2"));
}

#[tokio::test]
async fn the_source_reports_each_step_before_the_result() {
    let (source, _home) = quick().await;
    let xml = "<network><name>lab</name><forward mode='nat'/><bridge name='sybr0'/>\
        <ip address='192.168.101.1' prefix='24'/></network>";
    let cmd = Command::CreateNetwork {
        xml: xml.into(),
        autostart: true,
        start: true,
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let result = source
        .execute_with_progress(7, cmd, ProgressSender::new(7, tx))
        .await;
    assert!(result.ok, "{result:?}");
    let mut steps = Vec::new();
    while let Ok(p) = rx.try_recv() {
        assert_eq!(p.id, 7);
        steps.push(p.step);
    }
    assert!(
        steps
            .first()
            .is_some_and(|s| s.starts_with("create bridge sybr0")),
        "{steps:?}"
    );
    assert!(
        steps.contains(&"add address 192.168.101.1/24 to sybr0".to_string()),
        "{steps:?}"
    );
    assert!(
        steps
            .last()
            .is_some_and(|s| s.starts_with("start dnsmasq for lab")),
        "DNS for the guests comes last: {steps:?}"
    );
    let lab = network(&source, "lab").await.expect("lab defined");
    assert!(lab.active && lab.autostart, "{lab:?}");
}

/// Two Esc presses in a row, with nothing between them, are two steps back: neither the loop
/// nor the App merges or debounces them. (Terminals that read "ESC ESC" in one go are asked
/// for the kitty keyboard protocol at start-up, so they send two distinct Esc keys.)
#[tokio::test]
async fn two_quick_escs_go_back_two_steps() {
    let (source, _home) = quick().await;
    let steps = vec![
        In::Wait(100),
        In::Keys("nlab"),
        In::Code(KeyCode::Enter),
        In::Code(KeyCode::Enter),
        In::Code(KeyCode::Esc),
        In::Code(KeyCode::Esc),
        In::Wait(200),
        In::Ctrl('c'),
    ];
    let (exit, app, terminal) = drive(&source, steps).await;
    assert_eq!(exit, Exit::Quit);
    let screen = tui_support::lines(&terminal).join("\n");
    assert!(screen.contains("step 1 of 4"), "{screen}");
    assert!(app.popup().is_some(), "a third Esc would close it");
}
