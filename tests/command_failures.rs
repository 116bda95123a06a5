//! A failed command keeps what the kernel said (the errno) and carries a fix-it line for the
//! common failures, from the backend through the live source's actor to the screen's log.

use std::sync::Arc;

use switchyard::live::demo::Demo;
use switchyard::tui::data::Command;
use switchyard::tui::{App, Effect, Event, Settings};

#[test]
fn a_refused_step_reaches_the_operator_with_its_errno_and_a_fix() {
    let mut demo = Demo::new();
    demo.host().fail_step("create-bridge", libc::EPERM);
    let (_, r) = demo.execute(7, Command::StartNetwork("isolated".into()));
    assert!(!r.ok);
    assert_eq!(r.errno, Some(libc::EPERM), "{}", r.message);
    assert!(
        r.fix.as_deref().is_some_and(|f| f.contains("root")),
        "{:?}",
        r.fix
    );

    // The screen logs the failure and, under it, what to do.
    let mut app = App::new(Settings::default(), (80, 24));
    app.update(Event::Snapshot(Arc::new(demo.snapshot())));
    assert!(app.select_network("isolated"));
    let effects = app.update(Event::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('s'),
    )));
    let id = match effects.as_slice() {
        [Effect::Execute(id, _)] => *id,
        other => panic!("expected one Execute, got {other:?}"),
    };
    app.update(Event::CommandDone(switchyard::tui::data::CommandResult {
        id,
        ..r
    }));
    let texts: Vec<&str> = app.log_entries().iter().map(|e| e.text.as_str()).collect();
    let at = texts
        .iter()
        .position(|t| t.contains("start isolated failed"))
        .unwrap_or_else(|| panic!("{texts:?}"));
    assert!(
        texts[at + 1].contains("fix: run switchyard as root"),
        "{texts:?}"
    );

    // A failure with no errno gets no guessed fix.
    let (_, r) = demo.execute(8, Command::StopNetwork("nosuch".into()));
    assert!(!r.ok);
    assert_eq!((r.errno, r.fix), (None, None), "{}", r.message);
}
