//! `App::update` sequences through the wizards: the commands they emit (parsed back), going
//! back, progress, failures that keep the wizard open, edits, macvtap attach and lease pins.
//! Plans, steps and results come from the real backend on the simulated host (`live::demo`).

mod tui_support;

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use switchyard::host::fake::Traffic;
use switchyard::live::demo::Demo;
use switchyard::model::{parse_network_xml, ForwardMode};
use switchyard::state::LinkKind;
use switchyard::tui::app::Popup;
use switchyard::tui::wizard::{ApplyState, AttachState, FieldId, Preview, Step};
use switchyard::tui::{App, Command, CommandResult, Effect, Event};
use tui_support::*;

fn executed(effects: &[Effect]) -> (u64, Command) {
    match effects {
        [Effect::Execute(id, cmd)] => (*id, cmd.clone()),
        other => panic!("expected one command, got {other:?}"),
    }
}

fn done(id: u64, ok: bool, message: &str) -> Event {
    Event::CommandDone(CommandResult {
        id,
        ok,
        message: message.into(),
        ..Default::default()
    })
}

/// `EEXIST`: the kernel's answer to an address that is already there.
const EEXIST: i32 = 17;

fn enter() -> Event {
    key(KeyCode::Enter)
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn wizard(app: &App) -> &switchyard::tui::wizard::NetworkWizard {
    match app.popup() {
        Some(Popup::Wizard(w)) => w,
        _ => panic!("no wizard open"),
    }
}

fn screen(app: &App) -> String {
    lines(&render(app, 80, 24)).join("\n")
}

/// Answers a preview request with the backend's plan.
fn answer_preview(app: &mut App, demo: &mut Demo, (id, cmd): (u64, Command)) {
    let Command::PreviewStart { xml } = cmd else {
        panic!("the review asks for the plan, not {cmd:?}")
    };
    let plan = demo.preview(&xml).expect("the backend plans it");
    app.update(done(id, true, &plan));
}

/// From the networks view: `n`, a name, Enter to the review, the backend's plan answered.
fn at_review(app: &mut App, demo: &mut Demo, name: &str) {
    app.update(ch('n'));
    type_str(app, name);
    app.update(enter());
    app.update(enter());
    let request = executed(&app.update(enter()));
    answer_preview(app, demo, request);
}

/// Runs `cmd` on the simulated host: each step it reports goes to the App as progress, then
/// its result. Returns the steps and the result.
fn run(app: &mut App, demo: &mut Demo, id: u64, cmd: Command) -> (Vec<String>, CommandResult) {
    let (steps, result) = demo.execute(id, cmd);
    for step in &steps {
        app.update(Event::Progress {
            id,
            step: step.clone(),
        });
    }
    app.update(Event::CommandDone(result.clone()));
    (steps, result)
}

/// The simulated host's snapshot just after the App's history, as the next refresh shows it.
fn next_snapshot(demo: &mut Demo) -> Event {
    demo.advance(Duration::from_secs(HISTORY_SECS as u64 + 1));
    Event::Snapshot(Arc::new(demo.snapshot()))
}

#[test]
fn n_a_name_and_enters_create_and_start_a_nat_network() {
    let mut demo = Demo::new();
    let mut app = app(80, 24);
    at_review(&mut app, &mut demo, "lab");
    assert_eq!(wizard(&app).step(), Step::Review);
    assert!(
        matches!(wizard(&app).preview(), Preview::Ready(p) if p.contains("create bridge sybr0"))
    );
    assert!(
        app.log_entries()
            .iter()
            .all(|e| !e.text.contains("plan lab")),
        "previews stay out of the log"
    );
    let (id, cmd) = executed(&app.update(ch('y')));
    let Command::CreateNetwork {
        xml,
        autostart,
        start,
    } = cmd.clone()
    else {
        panic!("{cmd:?}")
    };
    assert!(start && !autostart);
    let def = parse_network_xml(&xml).expect("the XML parses back");
    assert_eq!(
        (def.name.as_str(), def.mode()),
        ("lab", Some(ForwardMode::Nat))
    );
    assert_eq!(
        def.ipv4().map(|n| n.to_string()).as_deref(),
        Some("192.168.100.1/24")
    );
    assert_eq!(def.dhcp_ranges().len(), 1);
    assert!(
        app.update(ch('y')).is_empty(),
        "no second apply while one runs"
    );

    let (steps, result) = demo.execute(id, cmd);
    assert!(result.ok, "{result:?}");
    let first = steps.first().expect("a start reports its steps").clone();
    assert!(first.starts_with("create bridge sybr0"), "{steps:?}");
    app.update(Event::Progress {
        id,
        step: first.clone(),
    });
    assert_eq!(app.pending()[&id].step.as_deref(), Some(first.as_str()));
    assert!(screen(&app).contains("creating lab…: create bridge sybr0"));

    app.update(Event::CommandDone(result.clone()));
    assert!(app.popup().is_none(), "success closes the wizard");
    let toast = app.toast().expect("toast").text.clone();
    assert!(
        toast.contains(&format!("create and start lab: {}", result.message)),
        "{toast}"
    );

    app.update(next_snapshot(&mut demo));
    assert_eq!(app.selected_network().map(|n| n.name.as_str()), Some("lab"));
    let lab = app.selected_network().expect("selected");
    assert!(lab.active && lab.drift.is_empty(), "{lab:?}");
}

#[test]
fn esc_goes_back_a_step_then_closes() {
    let mut app = app(80, 24);
    app.update(ch('n'));
    type_str(&mut app, "lab");
    app.update(enter());
    assert_eq!(wizard(&app).step(), Step::Addressing);
    app.update(key(KeyCode::Esc));
    assert_eq!(wizard(&app).step(), Step::NameMode);
    assert_eq!(
        wizard(&app).draft().name,
        "lab",
        "going back keeps what was typed"
    );
    app.update(key(KeyCode::Esc));
    assert!(app.popup().is_none());
    app.update(ch('q'));
    assert!(app.popup().is_none(), "keys reach the views again");
}

#[test]
fn keys_typed_in_the_wizard_do_not_reach_the_views() {
    let mut app = app(80, 24);
    app.update(ch('n'));
    for c in ['q', '2', 's', 'd', '?'] {
        assert!(app.update(ch(c)).is_empty());
    }
    assert_eq!(wizard(&app).draft().name, "q2sd?");
    assert_eq!(app.view(), switchyard::tui::app::View::Networks);
}

#[test]
fn a_failed_create_keeps_the_wizard_with_the_error() {
    let mut demo = Demo::new();
    let mut app = app(80, 24);
    at_review(&mut app, &mut demo, "lab");
    let (id, cmd) = executed(&app.update(ch('y')));
    // The kernel refuses the bridge's address: the backend stops there and rolls back.
    demo.host().fail_step("add-address", EEXIST);
    let (steps, result) = run(&mut app, &mut demo, id, cmd);
    assert!(!result.ok, "{result:?}");
    let failed_at = steps.len();
    assert!(
        steps[failed_at - 1].starts_with("add address 192.168.100.1/24 to sybr0"),
        "{steps:?}"
    );
    let w = wizard(&app);
    assert_eq!(w.step(), Step::Review);
    assert!(
        matches!(w.apply_state(), ApplyState::Failed { steps, .. } if steps.len() == failed_at)
    );
    let text = screen(&app);
    for want in ["apply failed", "✓ create bridge sybr0", "File exists"] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    assert!(result.message.contains("rolled back"), "{}", result.message);
    assert!(
        app.log_entries()
            .iter()
            .any(|e| e.text.contains("create and start lab failed: ")
                && e.text.contains("add address 192.168.100.1/24 to sybr0")),
        "{:?}",
        app.log_entries()
    );

    // Fix and retry: back to the options, forward to a new plan, apply again.
    app.update(key(KeyCode::Esc));
    assert_eq!(wizard(&app).step(), Step::Options);
    let request = executed(&app.update(enter()));
    answer_preview(&mut app, &mut demo, request);
    let (id, cmd) = executed(&app.update(enter()));
    assert!(
        matches!(cmd, Command::CreateNetwork { .. }),
        "Enter applies too"
    );
    // The rollback left nothing behind: the same definition now goes through.
    let (_, result) = run(&mut app, &mut demo, id, cmd);
    assert!(result.ok, "{result:?}");
    assert!(app.popup().is_none(), "success closes the wizard");
}

#[test]
fn no_apply_without_a_plan() {
    let mut demo = Demo::new();
    // Since the last snapshot, something else took the bridge name the wizard picks.
    demo.host()
        .add_link("sybr0", LinkKind::Veth, None, Traffic::Idle)
        .expect("a link on the simulated host");
    let mut app = app(80, 24);
    app.update(ch('n'));
    type_str(&mut app, "lab");
    app.update(enter());
    app.update(enter());
    let (id, cmd) = executed(&app.update(enter()));
    assert!(app.update(ch('y')).is_empty(), "the plan is not there yet");
    let (_, result) = demo.execute(id, cmd);
    assert!(!result.ok, "the backend cannot plan it: {result:?}");
    app.update(Event::CommandDone(result));
    assert!(app.update(ch('y')).is_empty());
    assert!(app.toast().is_some_and(|t| t.text.contains("no plan")));
    assert!(screen(&app).contains("exists and is not a bridge"));
}

#[test]
fn a_step_with_errors_does_not_advance() {
    let mut app = app(80, 24);
    app.update(ch('n'));
    app.update(enter());
    assert_eq!(wizard(&app).step(), Step::NameMode);
    assert!(screen(&app).contains("the network needs a name"));
    type_str(&mut app, "lab");
    app.update(enter());
    app.update(ctrl('u'));
    type_str(&mut app, "172.16.5.1/24");
    app.update(enter());
    let w = wizard(&app);
    assert_eq!(
        (w.step(), w.focused()),
        (Step::Addressing, Some(FieldId::Ipv4))
    );
    assert!(screen(&app).contains("overlaps 172.16.5.0/24 of network 'isolated'"));
}

/// Edit `default`: change its subnet, and `toggle_autostart` if asked; returns the preview
/// request.
fn edit_default(app: &mut App, toggle_autostart: bool) -> (u64, Command) {
    assert!(app.select_network("default"));
    app.update(ch('e'));
    app.update(enter());
    app.update(ctrl('u'));
    type_str(app, "192.168.122.1/23");
    app.update(enter());
    if toggle_autostart {
        for _ in 0..2 {
            app.update(key(KeyCode::Tab));
        }
        app.update(ch(' '));
    }
    executed(&app.update(enter()))
}

#[test]
fn edit_says_it_restarts_and_sends_edit_then_autostart() {
    let mut demo = Demo::new();
    let mut app = app(80, 24);
    let preview = edit_default(&mut app, true);
    answer_preview(&mut app, &mut demo, preview);
    let text = screen(&app);
    assert!(
        text.contains("Applying restarts the bridge of 'default'"),
        "{text}"
    );
    assert!(
        text.contains("IPv4: 192.168.122.1/24 → 192.168.122.1/23  (restart)"),
        "{text}"
    );
    assert!(text.contains("autostart: on → off  (live)"), "{text}");
    let (id, cmd) = executed(&app.update(ch('y')));
    let Command::EditNetwork { name, xml } = cmd.clone() else {
        panic!("{cmd:?}")
    };
    assert_eq!(name, "default");
    assert!(xml.contains("prefix='23'"), "{xml}");
    let (_, result) = demo.execute(id, cmd);
    assert!(result.ok, "{result:?}");
    let (id2, cmd) = executed(&app.update(Event::CommandDone(result)));
    assert_eq!(cmd, Command::SetAutostart("default".into(), false));
    assert!(app.popup().is_some(), "open until the last command is done");
    let (_, result) = demo.execute(id2, cmd);
    assert!(result.ok, "{result:?}");
    app.update(Event::CommandDone(result));
    assert!(app.popup().is_none());
    app.update(next_snapshot(&mut demo));
    let default = app.selected_network().expect("default still selected");
    assert_eq!(
        (
            default.name.as_str(),
            default.ipv4.map(|n| n.to_string()),
            default.autostart
        ),
        ("default", Some("192.168.122.1/23".to_string()), false),
        "the host runs the new definition"
    );
}

#[test]
fn an_edit_refused_while_the_network_is_busy_says_so() {
    let mut demo = Demo::new();
    let mut app = app(80, 24);
    assert!(app.select_network("routed"));
    executed(&app.update(ch('r')));
    app.update(ch('e'));
    app.update(enter());
    app.update(enter());
    app.update(key(KeyCode::Tab));
    type_str(&mut app, "lab.example");
    let request = executed(&app.update(enter()));
    answer_preview(&mut app, &mut demo, request);
    assert!(app.update(ch('y')).is_empty());
    assert!(
        matches!(wizard(&app).apply_state(), ApplyState::Failed { message, .. } if message.contains("still running"))
    );
}

/// The simulated host with a macvtap network `direct` (VEPA on eth0), as the App sees it.
fn with_macvtap(app: &mut App, demo: &mut Demo) {
    let xml = "<network><name>direct</name><forward mode='vepa'><interface dev='eth0'/></forward></network>";
    let cmd = Command::CreateNetwork {
        xml: xml.into(),
        autostart: false,
        start: true,
    };
    let (_, result) = demo.execute(99, cmd);
    assert!(result.ok, "{result:?}");
    app.update(next_snapshot(demo));
}

#[test]
fn macvtap_attach_shows_the_device_and_qemu_line() {
    let mut demo = Demo::new();
    let mut app = app(80, 24);
    app.update(ch('m'));
    assert!(app.popup().is_none());
    assert!(app
        .toast()
        .is_some_and(|t| t.text.contains("no macvtap network")));
    with_macvtap(&mut app, &mut demo);
    app.update(ch('m'));
    assert!(matches!(app.popup(), Some(Popup::Attach(_))));
    let (id, cmd) = executed(&app.update(enter()));
    let Command::Attach { network, name, mac } = cmd.clone() else {
        panic!("{cmd:?}")
    };
    assert_eq!((network.as_str(), name), ("direct", None));
    assert!(mac.expect("a generated MAC").starts_with("52:54:00:"));
    let (_, result) = demo.execute(id, cmd);
    assert!(result.ok, "{result:?}");
    let device = result
        .message
        .split_whitespace()
        .find(|w| w.starts_with("/dev/tap"))
        .unwrap_or_else(|| panic!("the answer names the tap device: {}", result.message))
        .to_string();
    app.update(Event::CommandDone(result));
    let Some(Popup::Attach(form)) = app.popup() else {
        panic!("the form stays to copy from")
    };
    assert!(matches!(form.state(), AttachState::Done(_)));
    let text = screen(&app);
    assert!(
        text.contains(&device) && text.contains("-netdev tap,id=net0,fd=3"),
        "{device}: {text}"
    );
    app.update(enter());
    assert!(app.popup().is_none());
}

#[test]
fn macvtap_form_checks_name_and_mac() {
    let mut demo = Demo::new();
    let mut app = app(80, 24);
    with_macvtap(&mut app, &mut demo);
    app.update(ch('m'));
    app.update(key(KeyCode::Tab));
    type_str(&mut app, "eth0");
    app.update(key(KeyCode::Tab));
    app.update(ctrl('u'));
    type_str(&mut app, "52:54:00:zz:00:01");
    assert!(app.update(enter()).is_empty());
    let text = screen(&app);
    assert!(text.contains("'eth0' already exists"), "{text}");
    assert!(text.contains("is not a MAC address"), "{text}");
    let Some(Popup::Attach(form)) = app.popup() else {
        panic!("form")
    };
    assert_eq!(
        form.focused(),
        FieldId::IfName,
        "Enter went to the first bad field"
    );
    app.update(key(KeyCode::Tab));
    app.update(ctrl('u'));
    type_str(&mut app, "01:00:5e:00:00:01");
    assert!(screen(&app).contains("not a unicast MAC"));
}

#[test]
fn p_pins_the_selected_lease_after_a_confirmation() {
    let mut demo = Demo::new();
    let mut app = app(80, 24);
    app.update(ch('3'));
    // web01's lease, the third (by address) of `default`.
    app.update(ch('j'));
    app.update(ch('j'));
    assert!(app.update(ch('p')).is_empty());
    let Some(Popup::Confirm(c)) = app.popup() else {
        panic!("a confirmation")
    };
    assert!(
        c.lines
            .iter()
            .any(|l| l.contains("<host mac='52:54:00:6b:3c:01' name='web01' ip='192.168.122.4'/>")),
        "{:?}",
        c.lines
    );
    let (id, cmd) = executed(&app.update(ch('y')));
    assert_eq!(
        cmd,
        Command::PinLease {
            network: "default".into(),
            mac: "52:54:00:6b:3c:01".into(),
            ip: "192.168.122.4".into(),
            hostname: Some("web01".into()),
        }
    );
    let (_, result) = demo.execute(id, cmd);
    assert!(result.ok, "{result:?}");
    app.update(Event::CommandDone(result));
    app.update(next_snapshot(&mut demo));
    let default = app
        .snapshot()
        .networks
        .iter()
        .find(|n| n.name == "default")
        .expect("default");
    let xml = default.xml();
    assert!(
        xml.contains("mac='52:54:00:6b:3c:01'") && xml.contains("192.168.122.4"),
        "the definition holds the reservation: {xml}"
    );
}

#[test]
fn a_preview_timing_out_is_shown_in_the_review() {
    let mut app = app(80, 24);
    app.update(ch('n'));
    type_str(&mut app, "lab");
    for _ in 0..3 {
        app.update(enter());
    }
    for _ in 0..=switchyard::tui::app::COMMAND_TIMEOUT_TICKS {
        app.update(Event::Tick);
    }
    assert!(matches!(wizard(&app).preview(), Preview::Failed(m) if m.contains("no answer")));
}

#[test]
fn progress_keeps_a_long_apply_alive() {
    let mut demo = Demo::new();
    let mut app = app(80, 24);
    at_review(&mut app, &mut demo, "lab");
    let (id, _) = executed(&app.update(ch('y')));
    let limit = switchyard::tui::app::COMMAND_TIMEOUT_TICKS;
    for _ in 0..limit - 1 {
        app.update(Event::Tick);
    }
    app.update(Event::Progress {
        id,
        step: "start dnsmasq for lab".into(),
    });
    for _ in 0..limit - 1 {
        app.update(Event::Tick);
    }
    assert!(
        app.pending().contains_key(&id),
        "a command reporting steps is not given up on"
    );
    for _ in 0..2 {
        app.update(Event::Tick);
    }
    assert!(!app.pending().contains_key(&id));
    assert!(
        matches!(wizard(&app).apply_state(), ApplyState::Failed { message, .. } if message.contains("no answer"))
    );
}

/// A bridge made while the wizard is open shows in the bridged step with the next snapshot;
/// the chosen bridge stays chosen.
#[test]
fn the_bridged_step_lists_bridges_made_while_it_is_open() {
    let mut demo = Demo::new();
    let mut app = app(80, 24);
    app.update(next_snapshot(&mut demo));
    app.update(ch('n'));
    type_str(&mut app, "lan");
    app.update(key(KeyCode::Tab));
    for _ in 0..4 {
        app.update(key(KeyCode::Down));
    }
    app.update(enter());
    assert_eq!(wizard(&app).step(), Step::Addressing);
    app.update(key(KeyCode::Down));
    assert_eq!(wizard(&app).draft().host_bridge.as_deref(), Some("docker0"));
    demo.host()
        .add_link("br7", LinkKind::Bridge, None, Traffic::Idle)
        .expect("br7");
    app.update(next_snapshot(&mut demo));
    let w = wizard(&app);
    let bridges = w.choices(FieldId::HostBridge).expect("choices");
    assert!(bridges.contains(&"br7".to_string()), "{bridges:?}");
    assert_eq!(w.draft().host_bridge.as_deref(), Some("docker0"));
    assert!(screen(&app).contains("br7"), "{}", screen(&app));
}
