//! The wizard through the real event loop against the fake host: `n`, a name, Enter through
//! the steps and `y` create and start a NAT network; an overlapping subnet stops at its field
//! and creates nothing; a source reports steps while applying.

mod tui_support;

use std::future::pending;
use std::io;
use std::time::Duration;

use crossterm::event::{Event as CtEvent, KeyCode, KeyEvent, KeyModifiers};
use futures::stream::{self, BoxStream, StreamExt};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use switchyard::tui::app::{App, Settings};
use switchyard::tui::runloop::{run_loop, Exit};
use switchyard::tui::{Command, DataSource, FakeSource, ProgressSender};
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
        pending::<()>().await;
    });
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) }).boxed()
}

async fn drive(source: &FakeSource, steps: Vec<In>) -> (Exit, App, Terminal<TestBackend>) {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test backend");
    let mut app = App::new(Settings::default(), (80, 24));
    let exit = run_loop(&mut terminal, &mut app, source, script(steps), pending())
        .await
        .expect("loop");
    (exit, app, terminal)
}

fn quick_fake() -> FakeSource {
    let source = FakeSource::new().with_delay(Duration::from_millis(200));
    source.refresh_interval(50);
    source
}

#[tokio::test]
async fn n_name_enters_and_y_create_a_running_nat_network() {
    let source = quick_fake();
    let steps = vec![
        In::Wait(100),
        In::Keys("nlab"),
        In::Code(KeyCode::Enter),
        In::Code(KeyCode::Enter),
        In::Code(KeyCode::Enter),
        In::Wait(600),
        In::Keys("y"),
        In::Wait(800),
        In::Keys("q"),
    ];
    let (exit, app, terminal) = drive(&source, steps).await;
    assert_eq!(exit, Exit::Quit);
    let lab = source
        .snapshot()
        .networks
        .into_iter()
        .find(|n| n.name == "lab")
        .expect("lab defined");
    assert!(lab.active && lab.dnsmasq_pid.is_some(), "{lab:?}");
    assert_eq!(lab.ipv4.as_deref(), Some("192.168.101.1/24"));
    assert_eq!(lab.bridge.as_deref(), Some("sybr0"));
    assert!(app.popup().is_none(), "the wizard closed");
    let log: Vec<&str> = app.log_entries().iter().map(|e| e.text.as_str()).collect();
    assert!(
        log.iter()
            .any(|l| l.contains("create and start lab: network 'lab' defined and started")),
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
    let source = quick_fake();
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
    assert!(!source.snapshot().networks.iter().any(|n| n.name == "lab2"));
}

#[tokio::test]
async fn the_fake_reports_each_step_before_the_result() {
    let source = FakeSource::new().with_delay(Duration::from_millis(50));
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
    assert_eq!(
        steps.first().map(String::as_str),
        Some("write the definition")
    );
    assert!(
        steps.iter().any(|s| s.starts_with("create bridge sybr0")),
        "{steps:?}"
    );
    assert!(source
        .snapshot()
        .networks
        .iter()
        .any(|n| n.name == "lab" && n.autostart));
}
