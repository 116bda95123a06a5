//! Screenshots (insta, TestBackend, 80×24) of every wizard step, the review with its plan,
//! progress and failure, the edit's restart notice, the macvtap form and the pin confirmation;
//! tiny sizes that must not panic; and cell styles for errors and focus.

mod tui_support;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use switchyard::tui::fake::{preview_text, FakeHost};
use switchyard::tui::{App, Command, CommandResult, Effect, Event, Theme};
use tui_support::*;

fn enter() -> Event {
    key(KeyCode::Enter)
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Send `ev`; if it asked for a plan, answer with the fake planner's.
fn step(app: &mut App, ev: Event) -> Option<(u64, Command)> {
    let fx = app.update(ev);
    let Some(Effect::Execute(id, cmd)) = fx.first().cloned() else {
        return None;
    };
    if let Command::PreviewStart { xml } = &cmd {
        let plan = preview_text(xml).unwrap_or_else(|e| e);
        app.update(Event::CommandDone(CommandResult {
            id,
            ok: true,
            message: plan,
            ..Default::default()
        }));
    }
    Some((id, cmd))
}

fn keys(app: &mut App, evs: Vec<Event>) -> Option<(u64, Command)> {
    let mut last = None;
    for ev in evs {
        last = step(app, ev).or(last);
    }
    last
}

fn typed(text: &str) -> Vec<Event> {
    text.chars().map(ch).collect()
}

fn new_to(steps: usize, name: &str) -> Vec<Event> {
    let mut evs = vec![ch('n')];
    evs.extend(typed(name));
    evs.extend((0..steps).map(|_| enter()));
    evs
}

/// The fake host with a macvtap network, as the App sees it.
fn with_macvtap(app: &mut App) {
    let xml = "<network><name>direct</name><forward mode='vepa'><interface dev='eth0'/><interface dev='eth1.100'/></forward></network>";
    let mut host = FakeHost::new();
    for _ in 0..=HISTORY_SECS {
        host.step(Duration::from_secs(1));
    }
    assert!(
        host.apply(
            99,
            &Command::CreateNetwork {
                xml: xml.into(),
                autostart: false,
                start: true
            }
        )
        .ok
    );
    app.update(Event::Snapshot(Box::new(host.snapshot())));
}

type Setup = fn(&mut App);

fn screens() -> Vec<(&'static str, Setup)> {
    vec![
        ("wizard_step1", |a| drop(keys(a, vec![ch('n')]))),
        ("wizard_step1_name_error", |a| {
            drop(keys(a, vec![ch('n'), enter()]))
        }),
        ("wizard_step1_macvtap", |a| {
            let mut evs = new_to(0, "direct");
            evs.push(key(KeyCode::Tab));
            evs.extend((0..5).map(|_| key(KeyCode::Down)));
            drop(keys(a, evs));
        }),
        ("wizard_step2_nat", |a| drop(keys(a, new_to(1, "lab")))),
        ("wizard_step2_overlap", |a| {
            let mut evs = new_to(1, "lab");
            evs.push(ctrl('u'));
            evs.extend(typed("172.16.5.1/24"));
            evs.push(key(KeyCode::Tab));
            evs.push(key(KeyCode::Tab));
            evs.extend(typed("x"));
            evs.push(enter());
            drop(keys(a, evs));
        }),
        ("wizard_step2_bridged", |a| {
            let mut evs = new_to(0, "lan");
            evs.push(key(KeyCode::Tab));
            evs.extend((0..4).map(|_| key(KeyCode::Down)));
            evs.push(enter());
            drop(keys(a, evs));
        }),
        ("wizard_step2_macvtap", |a| {
            let mut evs = new_to(0, "direct");
            evs.push(key(KeyCode::Tab));
            evs.extend((0..5).map(|_| key(KeyCode::Down)));
            evs.extend([enter(), ch(' '), key(KeyCode::Tab), key(KeyCode::Down)]);
            drop(keys(a, evs));
        }),
        ("wizard_step3_options", |a| drop(keys(a, new_to(2, "lab")))),
        ("wizard_review", |a| drop(keys(a, new_to(3, "lab")))),
        ("wizard_review_plan", |a| {
            let mut evs = new_to(3, "lab");
            evs.push(key(KeyCode::PageDown));
            evs.push(key(KeyCode::PageDown));
            drop(keys(a, evs));
        }),
        ("wizard_applying", |a| {
            let (id, cmd) = keys(a, {
                let mut evs = new_to(3, "lab");
                evs.push(ch('y'));
                evs
            })
            .expect("apply sent");
            let (id, cmd) = (id, cmd);
            for s in switchyard::tui::fake::progress_steps(&cmd)
                .into_iter()
                .take(3)
            {
                a.update(Event::Progress { id, step: s });
            }
        }),
        ("wizard_failed", |a| {
            let mut evs = new_to(3, "fail");
            evs.push(ch('y'));
            let (id, cmd) = keys(a, evs).expect("apply sent");
            for s in switchyard::tui::fake::progress_steps(&cmd) {
                a.update(Event::Progress { id, step: s });
            }
            let result = FakeHost::new().apply(id, &cmd);
            a.update(Event::CommandDone(result));
        }),
        ("edit_restart_notice", |a| {
            a.select_network("default");
            let mut evs = vec![ch('e'), enter(), ctrl('u')];
            evs.extend(typed("192.168.123.1/24"));
            evs.extend([enter(), enter()]);
            drop(keys(a, evs));
        }),
        ("attach_form", |a| {
            with_macvtap(a);
            drop(keys(a, vec![ch('m')]));
        }),
        ("attach_done", |a| {
            with_macvtap(a);
            let (id, cmd) = keys(a, vec![ch('m'), enter()]).expect("attach sent");
            let mut host = FakeHost::new();
            let xml = "<network><name>direct</name><forward mode='vepa'><interface dev='eth0'/></forward></network>";
            host.apply(
                98,
                &Command::CreateNetwork {
                    xml: xml.into(),
                    autostart: false,
                    start: true,
                },
            );
            a.update(Event::CommandDone(host.apply(id, &cmd)));
        }),
        ("pin_confirm", |a| drop(keys(a, vec![ch('3'), ch('p')]))),
    ]
}

#[test]
fn every_wizard_screen_at_80x24() {
    for (name, setup) in screens() {
        let mut app = app(80, 24);
        setup(&mut app);
        insta::assert_snapshot!(name, render(&app, 80, 24).backend());
    }
}

#[test]
fn tiny_sizes_do_not_panic() {
    let sizes = [
        (0u16, 0u16),
        (1, 1),
        (2, 2),
        (10, 3),
        (20, 5),
        (30, 12),
        (40, 10),
        (5, 40),
        (79, 23),
    ];
    for (_, setup) in screens() {
        for (w, h) in sizes {
            let mut app = app(w, h);
            setup(&mut app);
            let _ = render(&app, w, h);
        }
        let mut app = app(80, 24);
        setup(&mut app);
        app.update(Event::Resize(20, 5));
        let _ = render(&app, 20, 5);
    }
}

#[test]
fn errors_and_focus_have_their_styles() {
    let theme = Theme::default();
    let mut app = app(80, 24);
    keys(&mut app, vec![ch('n'), enter()]);
    let t = render(&app, 80, 24);
    let screen = lines(&t);
    let (y, line) = screen
        .iter()
        .enumerate()
        .find(|(_, l)| l.contains("✖ the network needs a name"))
        .expect("the error is drawn");
    let x = line.chars().position(|c| c == '✖').expect("mark") as u16;
    assert_eq!(
        t.backend().buffer()[(x, y as u16)].style().fg,
        theme.error.fg
    );
    let (y, line) = screen
        .iter()
        .enumerate()
        .find(|(_, l)| l.contains("▸Name"))
        .expect("the focused label is marked");
    let x = line.chars().position(|c| c == '[').expect("input") as u16 + 1;
    assert_eq!(
        t.backend().buffer()[(x, y as u16)].style().bg,
        theme.selected.bg,
        "focused input"
    );
    let cursor = t.backend().cursor_position();
    assert_eq!(
        (cursor.x, cursor.y),
        (x, y as u16),
        "the cursor sits in the empty name field"
    );
}
