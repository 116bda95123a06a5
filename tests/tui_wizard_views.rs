//! Screenshots (insta, TestBackend, 80×24) of every wizard step, the review with its plan,
//! progress and failure, the edit's restart notice, the macvtap form and the pin confirmation;
//! tiny sizes that must not panic; and cell styles for errors and focus. Plans, steps and
//! results come from the real backend on the simulated host (`live::demo`).

mod tui_support;

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use switchyard::live::demo::Demo;
use switchyard::tui::{App, Command, CommandResult, Effect, Event, Theme};
use tui_support::*;

fn enter() -> Event {
    key(KeyCode::Enter)
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// `EEXIST`: the kernel's answer to an address that is already there.
const EEXIST: i32 = 17;

/// The backend's text with the simulated host's temporary home (which differs from run to
/// run) shown as `$HOME`, for stable screenshots.
fn stable(demo: &Demo, text: &str) -> String {
    let run = &demo.backend().paths().run;
    let home = run.parent().expect("the run folder is under the home");
    text.replace(&home.display().to_string(), "$HOME")
}

/// The simulated host, built on first use (that takes a moment, and most screens never ask).
#[derive(Default)]
struct Sim(Option<Demo>);

impl Sim {
    fn demo(&mut self) -> &mut Demo {
        self.0.get_or_insert_with(Demo::new)
    }
}

/// Send `ev`; if it asked for a plan, answer with the backend's.
fn step(app: &mut App, sim: &mut Sim, ev: Event) -> Option<(u64, Command)> {
    let fx = app.update(ev);
    let Some(Effect::Execute(id, cmd)) = fx.first().cloned() else {
        return None;
    };
    if let Command::PreviewStart { xml } = &cmd {
        let demo = sim.demo();
        let (ok, plan) = match demo.preview(xml) {
            Ok(plan) => (true, plan),
            Err(e) => (false, e),
        };
        app.update(Event::CommandDone(CommandResult {
            id,
            ok,
            message: stable(demo, &plan),
            ..Default::default()
        }));
    }
    Some((id, cmd))
}

fn keys(app: &mut App, sim: &mut Sim, evs: Vec<Event>) -> Option<(u64, Command)> {
    let mut last = None;
    for ev in evs {
        last = step(app, sim, ev).or(last);
    }
    last
}

/// Runs `cmd` on the simulated host; the App hears of its first `shown` steps (all of them
/// if `None`) and, if all were shown, its result.
fn run(app: &mut App, sim: &mut Sim, (id, cmd): (u64, Command), shown: Option<usize>) {
    let demo = sim.demo();
    let (steps, result) = demo.execute(id, cmd);
    let n = shown.unwrap_or(steps.len());
    for s in steps.iter().take(n) {
        app.update(Event::Progress {
            id,
            step: stable(demo, s),
        });
    }
    if shown.is_none() {
        app.update(Event::CommandDone(CommandResult {
            message: stable(demo, &result.message),
            ..result
        }));
    }
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

/// The simulated host with a macvtap network `direct` (defined once), as the App sees it on
/// the refresh after its history.
fn with_macvtap(app: &mut App, sim: &mut Sim) {
    let demo = sim.demo();
    if demo.backend().load_def("direct").is_err() {
        let xml = "<network><name>direct</name><forward mode='vepa'><interface dev='eth0'/><interface dev='eth1.100'/></forward></network>";
        let cmd = Command::CreateNetwork {
            xml: xml.into(),
            autostart: false,
            start: true,
        };
        let (_, result) = demo.execute(99, cmd);
        assert!(result.ok, "{result:?}");
    }
    // The collector measures rates from its second sample on.
    let _ = demo.snapshot();
    demo.advance(Duration::from_secs(HISTORY_SECS as u64 + 1));
    app.update(Event::Snapshot(Arc::new(demo.snapshot())));
}

type Setup = fn(&mut App, &mut Sim);

fn screens() -> Vec<(&'static str, Setup)> {
    vec![
        ("wizard_step1", |a, d| drop(keys(a, d, vec![ch('n')]))),
        ("wizard_step1_name_error", |a, d| {
            drop(keys(a, d, vec![ch('n'), enter()]))
        }),
        ("wizard_step1_long_error", |a, d| {
            let long = "x".repeat(70);
            drop(keys(a, d, new_to(1, &long)))
        }),
        ("wizard_step3_bridge_not_a_bridge", |a, d| {
            let mut evs = new_to(2, "lab");
            evs.extend(typed("eth0"));
            evs.push(key(KeyCode::Tab));
            evs.extend(typed("ex..com"));
            evs.push(enter());
            drop(keys(a, d, evs));
        }),
        ("wizard_step2_range_on_gateway", |a, d| {
            let mut evs = new_to(1, "lab");
            evs.extend([key(KeyCode::Tab), key(KeyCode::Tab), ctrl('u')]);
            evs.extend(typed("192.168.100.1-192.168.100.50"));
            evs.push(enter());
            drop(keys(a, d, evs));
        }),
        ("wizard_step1_macvtap", |a, d| {
            let mut evs = new_to(0, "direct");
            evs.push(key(KeyCode::Tab));
            evs.extend((0..5).map(|_| key(KeyCode::Down)));
            drop(keys(a, d, evs));
        }),
        ("wizard_step2_nat", |a, d| {
            drop(keys(a, d, new_to(1, "lab")))
        }),
        ("wizard_step2_overlap", |a, d| {
            let mut evs = new_to(1, "lab");
            evs.push(ctrl('u'));
            evs.extend(typed("172.16.5.1/24"));
            evs.push(key(KeyCode::Tab));
            evs.push(key(KeyCode::Tab));
            evs.extend(typed("x"));
            evs.push(enter());
            drop(keys(a, d, evs));
        }),
        ("wizard_step2_bridged", |a, d| {
            let mut evs = new_to(0, "lan");
            evs.push(key(KeyCode::Tab));
            evs.extend((0..4).map(|_| key(KeyCode::Down)));
            evs.push(enter());
            drop(keys(a, d, evs));
        }),
        ("wizard_step2_macvtap", |a, d| {
            let mut evs = new_to(0, "direct");
            evs.push(key(KeyCode::Tab));
            evs.extend((0..5).map(|_| key(KeyCode::Down)));
            evs.extend([enter(), ch(' '), key(KeyCode::Tab), key(KeyCode::Down)]);
            drop(keys(a, d, evs));
        }),
        ("wizard_step3_options", |a, d| {
            drop(keys(a, d, new_to(2, "lab")))
        }),
        ("wizard_review", |a, d| drop(keys(a, d, new_to(3, "lab")))),
        ("wizard_review_plan", |a, d| {
            let mut evs = new_to(3, "lab");
            evs.push(key(KeyCode::PageDown));
            evs.push(key(KeyCode::PageDown));
            drop(keys(a, d, evs));
        }),
        ("wizard_applying", |a, d| {
            let mut evs = new_to(3, "lab");
            evs.push(ch('y'));
            let apply = keys(a, d, evs).expect("apply sent");
            run(a, d, apply, Some(3));
        }),
        ("wizard_failed", |a, d| {
            let mut evs = new_to(3, "lab");
            evs.push(ch('y'));
            let apply = keys(a, d, evs).expect("apply sent");
            d.demo().host().fail_step("add-address", EEXIST);
            run(a, d, apply, None);
        }),
        ("edit_restart_notice", |a, d| {
            a.select_network("default");
            let mut evs = vec![ch('e'), enter(), ctrl('u')];
            evs.extend(typed("192.168.122.1/23"));
            evs.extend([enter(), enter()]);
            drop(keys(a, d, evs));
        }),
        ("attach_form", |a, d| {
            with_macvtap(a, d);
            drop(keys(a, d, vec![ch('m')]));
        }),
        ("attach_done", |a, d| {
            with_macvtap(a, d);
            let attach = keys(a, d, vec![ch('m'), enter()]).expect("attach sent");
            run(a, d, attach, None);
        }),
        // The QEMU line scrolled right once (→): one unwrapped row, its start marked ‹.
        ("attach_done_qemu_scrolled", |a, d| {
            with_macvtap(a, d);
            let attach = keys(a, d, vec![ch('m'), enter()]).expect("attach sent");
            run(a, d, attach, None);
            drop(keys(a, d, vec![key(KeyCode::Right)]));
        }),
        ("pin_confirm", |a, d| {
            drop(keys(a, d, vec![ch('3'), ch('j'), ch('j'), ch('p')]))
        }),
    ]
}

#[test]
fn every_wizard_screen_at_80x24() {
    for (name, setup) in screens() {
        let mut app = app(80, 24);
        setup(&mut app, &mut Sim::default());
        insta::assert_snapshot!(name, render(&app, 80, 24).backend());
    }
}

/// A focused field's long error wraps, and a short form scrolls so all of it shows.
#[test]
fn a_long_error_shows_whole_in_a_short_form() {
    let mut app = app(80, 10);
    let long = "x".repeat(70);
    keys(&mut app, &mut Sim::default(), new_to(1, &long));
    insta::assert_snapshot!("wizard_long_error_80x10", render(&app, 80, 10).backend());
    let text = lines(&render(&app, 80, 10)).join("\n");
    assert!(text.contains("is 70 bytes long; the limit is 64"), "{text}");
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
        // One simulated host per screen: the setups can be repeated on it.
        let mut sim = Sim::default();
        for (w, h) in sizes {
            let mut app = app(w, h);
            setup(&mut app, &mut sim);
            let _ = render(&app, w, h);
        }
        let mut app = app(80, 24);
        setup(&mut app, &mut sim);
        app.update(Event::Resize(20, 5));
        let _ = render(&app, 20, 5);
    }
}

#[test]
fn errors_and_focus_have_their_styles() {
    let theme = Theme::default();
    let mut app = app(80, 24);
    keys(&mut app, &mut Sim::default(), vec![ch('n'), enter()]);
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
