//! `App::update` driven by action sequences: the state it reaches and the effects it emits.

mod tui_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use switchyard::live::demo::Demo;
use switchyard::tui::app::{LeaseSort, Popup, PortSort, Settings, View, COMMAND_TIMEOUT_TICKS};
use switchyard::tui::keymap::Keymap;
use switchyard::tui::{App, Command, CommandResult, Effect, Event};
use tui_support::*;

fn names(app: &App) -> Vec<String> {
    let s = app.ports_state();
    s.order
        .iter()
        .map(|i| app.snapshot().ports[*i].ifname.clone())
        .collect()
}

/// The leases as listed (filtered, sorted): their host names, "-" for none.
fn hosts(app: &App) -> Vec<String> {
    let s = app.leases_state();
    s.order
        .iter()
        .map(|i| {
            let lease = &app.snapshot().leases[*i];
            lease.hostname.clone().unwrap_or_else(|| "-".into())
        })
        .collect()
}

fn selected_host(app: &App) -> Option<String> {
    app.selected_lease()
        .map(|l| l.hostname.clone().unwrap_or_else(|| "-".into()))
}

fn executed(effects: &[Effect]) -> Option<(u64, Command)> {
    match effects {
        [Effect::Execute(id, cmd)] => Some((*id, cmd.clone())),
        _ => None,
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

#[test]
fn undefine_needs_confirmation() {
    let mut app = app(80, 24);
    assert!(app.update(ch('d')).is_empty(), "intent alone does nothing");
    assert!(matches!(app.popup(), Some(Popup::Confirm(_))));
    let (id, cmd) = executed(&app.update(ch('y'))).expect("y executes");
    // default is active: the question offers to stop it first, and the backend does both.
    assert_eq!(cmd, Command::StopAndUndefine("default".into()));
    let mut demo = Demo::new();
    let (_, r) = demo.execute(id, cmd.clone());
    assert!(r.ok, "{}", r.message);
    assert!(demo.backend().load_def("default").is_err(), "undefined");
    assert!(
        !demo.snapshot().networks.iter().any(|n| n.name == "default"),
        "gone from the list"
    );
    assert!(app.popup().is_none());
    assert!(app.pending().contains_key(&id));

    let mut app = tui_support::app(80, 24);
    app.update(ch('d'));
    assert!(app.update(ch('n')).is_empty());
    assert!(app.popup().is_none() && app.pending().is_empty());
    app.update(ch('d'));
    assert!(app.update(key(KeyCode::Esc)).is_empty(), "Esc cancels too");
    assert!(app.popup().is_none());

    // An inactive network is only undefined.
    let mut app = tui_support::app(80, 24);
    assert!(app.select_network("isolated"));
    app.update(ch('d'));
    let (_, cmd) = executed(&app.update(ch('y'))).expect("y executes");
    assert_eq!(cmd, Command::Undefine("isolated".into()));
}

#[test]
fn confirmation_is_modal() {
    let mut app = app(80, 24);
    app.update(ch('d'));
    for k in [ch('2'), ch('q'), ch('s'), key(KeyCode::Tab), ch('j')] {
        assert!(app.update(k).is_empty());
    }
    assert_eq!(app.view(), View::Networks);
    assert!(matches!(app.popup(), Some(Popup::Confirm(_))));
    let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(
        app.update(ctrl_c),
        vec![Effect::Quit],
        "Ctrl-c always quits"
    );
}

#[test]
fn start_stop_follows_the_network_state() {
    let mut app = app(80, 24);
    assert!(app.select_network("isolated"));
    let (_, cmd) = executed(&app.update(ch('s'))).expect("start runs at once");
    assert_eq!(cmd, Command::StartNetwork("isolated".into()));

    // Stopping a network with guests asks first and names them.
    assert!(app.select_network("default"));
    assert!(app.update(ch('s')).is_empty());
    match app.popup() {
        Some(Popup::Confirm(c)) => assert!(
            c.lines.iter().any(|l| l.contains("vnet0 (web01)")),
            "{:?}",
            c.lines
        ),
        other => panic!("expected a confirmation, got {other:?}"),
    }
    let (_, cmd) = executed(&app.update(ch('y'))).expect("stop after yes");
    assert_eq!(cmd, Command::StopNetwork("default".into()));
}

#[test]
fn autostart_and_repair() {
    let mut app = app(80, 24);
    let (_, cmd) = executed(&app.update(ch('a'))).expect("autostart toggles");
    assert_eq!(cmd, Command::SetAutostart("default".into(), false));
    app.update(done(1, true, "ok"));
    assert!(app.update(ch('r')).is_empty(), "default has no drift");
    assert!(app.toast().expect("says why").text.contains("no drift"));
    app.select_network("routed");
    let (_, cmd) = executed(&app.update(ch('r'))).expect("routed has drift");
    assert_eq!(cmd, Command::RepairNetwork("routed".into()));
}

#[test]
fn one_command_per_network_at_a_time() {
    let mut app = app(80, 24);
    app.select_network("isolated");
    let (id, _) = executed(&app.update(ch('s'))).expect("first runs");
    assert!(app.update(ch('a')).is_empty(), "second waits");
    assert!(app
        .toast()
        .expect("told to wait")
        .text
        .contains("still starting isolated"));
    app.update(done(id, true, "started"));
    assert!(
        executed(&app.update(ch('a'))).is_some(),
        "free again after the result"
    );
}

#[test]
fn results_land_in_log_and_toast_and_stale_ones_are_dropped() {
    let mut app = app(80, 24);
    app.select_network("isolated");
    let (id, _) = executed(&app.update(ch('s'))).expect("start");
    let before = app.log_entries().len();
    app.take_dirty();
    assert!(app.update(done(id + 100, false, "who?")).is_empty());
    assert!(!app.take_dirty(), "an unknown id changes nothing");
    assert_eq!(app.log_entries().len(), before);

    app.update(done(id, false, "permission denied"));
    assert!(app.pending().is_empty());
    let last = app.log_entries().last().expect("logged");
    assert!(
        last.text
            .contains("start isolated failed: permission denied"),
        "{}",
        last.text
    );
    assert!(app
        .toast()
        .expect("toast")
        .text
        .contains("permission denied"));
    let n = app.log_entries().len();
    app.update(done(id, true, "late duplicate"));
    assert_eq!(
        app.log_entries().len(),
        n,
        "a second result for the same id is stale"
    );
}

#[test]
fn commands_time_out_and_late_results_are_stale() {
    let mut app = app(80, 24);
    app.select_network("isolated");
    let (id, _) = executed(&app.update(ch('s'))).expect("start");
    for _ in 0..COMMAND_TIMEOUT_TICKS {
        app.update(Event::Tick);
    }
    assert!(app.pending().is_empty(), "given up");
    assert!(app
        .log_entries()
        .last()
        .expect("logged")
        .text
        .contains("no answer"));
    let n = app.log_entries().len();
    app.update(done(id, true, "finally"));
    assert_eq!(app.log_entries().len(), n, "late result dropped");
}

#[test]
fn ports_sort_cycles_and_reverses() {
    let mut app = app(80, 24);
    app.update(ch('2'));
    assert_eq!(app.ports_state().sort, PortSort::Name);
    assert_eq!(names(&app)[..2], ["bond0", "macvtap0"]);
    app.update(ch('O'));
    assert_eq!(names(&app)[0], "vnet2", "reversed name order");
    app.update(ch('o'));
    assert_eq!(
        (app.ports_state().sort, app.ports_state().reverse),
        (PortSort::Guest, false)
    );
    let order = names(&app);
    assert_eq!(
        order.first().map(String::as_str),
        Some("vnet2"),
        "build01 sorts first"
    );
    assert_eq!(
        order.last().map(String::as_str),
        Some("bond0"),
        "no guest goes last"
    );
    app.update(ch('o'));
    app.update(ch('o'));
    app.update(ch('o'));
    assert_eq!(app.ports_state().sort, PortSort::Rx);
    assert_eq!(names(&app)[0], "bond0", "busiest first: br0's uplink");
    app.update(ch('O'));
    assert_eq!(
        names(&app)[0],
        "veth3f9a2c1",
        "quietest first when reversed"
    );
}

#[test]
fn selection_stays_on_the_same_port_across_sorting_and_data() {
    let mut app = app(80, 24);
    app.update(ch('2'));
    app.update(ch('j'));
    app.update(ch('j'));
    let chosen = app.selected_port().expect("selected").ifname.clone();
    app.update(ch('O'));
    assert_eq!(app.selected_port().expect("still").ifname, chosen);
    // The next snapshot, with its ports listed in another order.
    let mut next = history()[HISTORY_SECS].clone();
    next.at += std::time::Duration::from_secs(1);
    next.now_unix += 1;
    next.ports.reverse();
    app.update(Event::Snapshot(Arc::new(next)));
    assert_eq!(app.selected_port().expect("still").ifname, chosen);
}

#[test]
fn filter_narrows_keeps_and_clears() {
    let mut app = app(80, 24);
    app.update(ch('2'));
    app.update(ch('/'));
    type_str(&mut app, "VNET1");
    assert_eq!(names(&app), ["vnet1"], "case-insensitive");
    app.update(key(KeyCode::Backspace));
    assert_eq!(names(&app), ["vnet0", "vnet1", "vnet2"]);
    app.update(key(KeyCode::Enter));
    assert!(app.popup().is_none());
    assert_eq!(names(&app).len(), 3, "Enter keeps the filter");
    app.update(ch('/'));
    type_str(&mut app, "2q");
    assert_eq!(
        app.view(),
        View::Ports,
        "typing digits and q edits the filter"
    );
    assert!(names(&app).is_empty());
    app.update(key(KeyCode::Esc));
    assert_eq!(names(&app).len(), 7, "Esc clears");
    app.update(ch('/'));
    type_str(&mut app, "db01");
    app.update(key(KeyCode::Enter));
    assert_eq!(names(&app), ["vnet1"], "matches the guest name");
}

#[test]
fn freeze_holds_the_display_and_thaw_catches_up() {
    let mut demo = Demo::new();
    let mut app = App::new(Settings::default(), (80, 24));
    app.update(Event::Snapshot(Arc::new(demo.snapshot())));
    app.update(ch('f'));
    assert!(app.is_frozen());
    let shown = app.snapshot().clone();
    demo.advance(std::time::Duration::from_secs(1));
    let newest = demo.snapshot();
    app.take_dirty();
    app.update(Event::Snapshot(Arc::new(newest.clone())));
    assert_eq!(app.snapshot(), &shown, "frozen");
    assert!(!app.take_dirty(), "nothing to redraw while frozen");
    app.update(ch('f'));
    assert!(!app.is_frozen());
    assert_eq!(app.snapshot(), &newest, "thaw shows the newest");
    assert!(
        app.rate_of(&app.snapshot().ports[0].key()).is_some(),
        "rates from the held snapshot"
    );
}

#[test]
fn interval_steps_and_limits() {
    let mut app = app(80, 24);
    assert_eq!(app.update(ch('+')), vec![Effect::SetInterval(500)]);
    assert_eq!(app.update(ch('-')), vec![Effect::SetInterval(1_000)]);
    assert_eq!(app.update(ch('-')), vec![Effect::SetInterval(2_000)]);
    for _ in 0..10 {
        app.update(ch('-'));
    }
    assert_eq!(app.interval_ms(), 60_000);
    assert!(app.update(ch('-')).is_empty(), "no change at the limit");
    for _ in 0..20 {
        app.update(ch('+'));
    }
    assert_eq!(app.interval_ms(), 100);
}

#[test]
fn views_switch_by_tab_digit_and_mouse() {
    let mut app = app(80, 24);
    app.update(key(KeyCode::Tab));
    assert_eq!(app.view(), View::Ports);
    app.update(Event::Key(KeyEvent::new(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
    )));
    app.update(Event::Key(KeyEvent::new(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
    )));
    assert_eq!(
        app.view(),
        View::Forwards,
        "back from the first view to the last"
    );
    app.update(Event::Key(KeyEvent::new(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
    )));
    assert_eq!(app.view(), View::Log);
    app.update(ch('6'));
    assert_eq!(app.view(), View::Forwards);
    app.update(ch('4'));
    assert_eq!(app.view(), View::Host);
    // Tabs are on row 1: " 1 Networks  2 Ports ..." — column 14 is inside " 2 Ports ".
    app.update(click(14, 1));
    assert_eq!(app.view(), View::Ports);
    // Rows start at y = 4 (header, tabs, border, column headings); click the third port.
    app.update(click(5, 6));
    assert_eq!(app.selected_port().expect("clicked").ifname, names(&app)[2]);
    app.update(wheel_down(5, 6));
    assert_eq!(
        app.selected_port().expect("scrolled").ifname,
        names(&app)[5]
    );
    app.update(click(5, 20));
    assert_eq!(
        app.selected_port().expect("unchanged").ifname,
        names(&app)[5],
        "click below rows"
    );
}

#[test]
fn quit_help_and_key_releases() {
    let mut app = app(80, 24);
    let release = Event::Key(KeyEvent::new_with_kind(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
        KeyEventKind::Release,
    ));
    assert!(app.update(release).is_empty(), "only presses count");
    app.update(ch('?'));
    assert!(matches!(app.popup(), Some(Popup::Help { .. })));
    app.update(ch('j'));
    assert!(matches!(app.popup(), Some(Popup::Help { scroll: 1 })));
    assert!(app.update(ch('q')).is_empty(), "q closes the popup first");
    assert!(app.popup().is_none());
    assert_eq!(app.update(ch('q')), vec![Effect::Quit]);
}

#[test]
fn port_detail_opens_on_the_selected_port() {
    let mut app = app(80, 24);
    app.update(ch('2'));
    app.update(ch('j'));
    app.update(key(KeyCode::Enter));
    match app.popup() {
        Some(Popup::PortDetail { name, .. }) => assert_eq!(name, "macvtap0"),
        other => panic!("expected the detail, got {other:?}"),
    }
    app.update(key(KeyCode::Esc));
    assert!(app.popup().is_none());
}

#[test]
fn a_renamed_port_keeps_its_history_selection_and_detail() {
    // `ip link set vnet0 name guest-web`: the same link (the same ifindex in the same
    // namespace), so the same port, called something else.
    let series = &history()[..4];
    let mut app = App::new(Settings::default(), (100, 30));
    for snap in &series[..3] {
        app.update(Event::Snapshot(Arc::new(snap.clone())));
    }
    app.update(ch('2'));
    select_port(&mut app, "vnet0");
    let port_key = app.selected_port().expect("selected").key();
    assert_eq!(
        app.rates().history(&port_key).map(|h| h.fine_len()),
        Some(2)
    );
    app.update(key(KeyCode::Enter));
    let mut renamed = series[3].clone();
    let port = renamed
        .ports
        .iter_mut()
        .find(|p| p.ifname == "vnet0")
        .expect("vnet0");
    port.ifname = "guest-web".into();
    app.update(Event::Snapshot(Arc::new(renamed)));
    let selected = app.selected_port().expect("still selected");
    assert_eq!(
        (selected.key(), selected.ifname.as_str()),
        (port_key, "guest-web")
    );
    assert_eq!(
        app.rates().history(&port_key).map(|h| h.fine_len()),
        Some(3),
        "its history goes on"
    );
    assert!(app.rate_of(&port_key).is_some(), "and its rate");
    let screen = lines(&render(&app, 100, 30)).join("\n");
    assert!(screen.contains("Port guest-web"), "{screen}");
    assert!(!screen.contains("this port is gone"), "{screen}");
}

#[test]
fn traffic_is_summed_per_network_and_missing_until_two_samples() {
    let series = &history()[..3];
    let mut app = App::new(Settings::default(), (80, 24));
    app.update(Event::Snapshot(Arc::new(series[0].clone())));
    assert_eq!(app.total_traffic().rx_bps, None, "one sample has no rate");
    assert_eq!(app.network_traffic("default").ports, 2);
    app.update(Event::Snapshot(Arc::new(series[1].clone())));
    let port_rx = |name: &str| {
        let p = app
            .snapshot()
            .ports
            .iter()
            .find(|p| p.ifname == name)
            .expect("port");
        app.rate_of(&p.key()).expect("rate").rx_bps
    };
    let want = port_rx("vnet0") + port_rx("vnet1");
    let got = app.network_traffic("default").rx_bps.expect("summed");
    assert!((got - want).abs() < 1e-6, "{got} != {want}");
    assert_eq!(
        app.network_traffic("isolated").rx_bps,
        None,
        "no ports, no rate"
    );
}

#[test]
fn drawing_only_when_something_changed() {
    let mut app = app(80, 24);
    assert!(app.take_dirty());
    app.update(Event::Tick);
    assert!(!app.take_dirty(), "idle tick");
    app.update(ch('j'));
    assert!(app.take_dirty());
    app.update(ch('3'));
    app.take_dirty();
    let dirty: Vec<bool> = (0..8)
        .map(|_| {
            app.update(Event::Tick);
            app.take_dirty()
        })
        .collect();
    assert_eq!(
        dirty.iter().filter(|d| **d).count(),
        2,
        "leases count down once a second: {dirty:?}"
    );
}

#[test]
fn lease_countdown_moves_with_ticks_and_stops_when_frozen() {
    let mut app = app(80, 24);
    let t0 = app.now_unix();
    for _ in 0..8 {
        app.update(Event::Tick);
    }
    assert_eq!(app.now_unix(), t0 + 2);
    app.update(ch('f'));
    for _ in 0..8 {
        app.update(Event::Tick);
    }
    assert_eq!(app.now_unix(), t0 + 2, "frozen clock");
}

#[test]
fn keymap_overrides_change_what_keys_do() {
    let overrides: BTreeMap<String, Vec<String>> =
        [("freeze".to_string(), vec!["F".to_string()])].into();
    let settings = Settings {
        keymap: Keymap::with_overrides(&overrides).expect("valid"),
        ..Settings::default()
    };
    let mut app = app_with(settings, 80, 24);
    app.update(ch('f'));
    assert!(!app.is_frozen(), "f is no longer bound");
    app.update(ch('F'));
    assert!(app.is_frozen());
}

#[test]
fn problems_are_logged_once_and_when_they_clear() {
    let mut demo = Demo::new();
    let mut app = App::new(Settings::default(), (80, 24));
    for snap in demo.series(3) {
        app.update(Event::Snapshot(Arc::new(snap)));
    }
    let warnings = |app: &App| {
        app.log_entries()
            .iter()
            .filter(|e| e.text.contains("routed: dnsmasq"))
            .count()
    };
    assert_eq!(warnings(&app), 1, "once, not per snapshot");
    // The backend repairs routed (its dnsmasq comes back): the next snapshot is in sync.
    let (_, r) = demo.execute(1, Command::RepairNetwork("routed".into()));
    assert!(r.ok, "{}", r.message);
    demo.advance(std::time::Duration::from_secs(1));
    app.update(Event::Snapshot(Arc::new(demo.snapshot())));
    let last = &app.log_entries().last().expect("entry").text;
    assert!(last.contains("routed: back in sync"), "{last}");
    assert_eq!(warnings(&app), 1, "the repair does not warn again");
}

/// A network in the middle of its own start is half-built on purpose: the Log says nothing
/// of its missing bridge, and nothing of it being "back in sync" afterwards.
#[test]
fn no_drift_is_reported_for_a_network_with_a_command_under_way() {
    use switchyard::plan::Drift;
    let mut demo = Demo::new();
    let mut app = App::new(Settings::default(), (80, 24));
    app.update(Event::Snapshot(Arc::new(demo.snapshot())));
    assert!(app.select_network("isolated"));
    let (id, cmd) = executed(&app.update(ch('s'))).expect("s starts it");
    assert_eq!(cmd, Command::StartNetwork("isolated".into()));
    let logged = |app: &App| {
        app.log_entries()
            .iter()
            .filter(|e| e.text.starts_with("isolated:"))
            .map(|e| e.text.clone())
            .collect::<Vec<_>>()
    };
    // A snapshot taken half-way: active, its bridge not there yet.
    let mut half = demo.snapshot();
    let row = half
        .networks
        .iter_mut()
        .find(|n| n.name == "isolated")
        .expect("listed");
    row.active = true;
    row.drift = vec![Drift::BridgeMissing("virbr2".into())];
    app.update(Event::Snapshot(Arc::new(half.clone())));
    assert_eq!(logged(&app), Vec::<String>::new(), "nothing while it runs");

    let (_, r) = demo.execute(id, cmd);
    assert!(r.ok, "{}", r.message);
    app.update(Event::CommandDone(r));
    app.update(Event::Snapshot(Arc::new(demo.snapshot())));
    assert_eq!(
        logged(&app),
        Vec::<String>::new(),
        "in sync after, no 'back in sync'"
    );

    // Without a command under way the same drift is reported.
    app.update(Event::Snapshot(Arc::new(half)));
    assert_eq!(logged(&app).len(), 1, "{:?}", logged(&app));
}

#[test]
fn leases_filter_narrows_keeps_and_clears() {
    let mut app = app(80, 24);
    app.update(ch('3'));
    assert_eq!(hosts(&app), ["-", "db01", "web01", "ci-runner"]);
    app.update(ch('/'));
    assert!(matches!(app.popup(), Some(Popup::Filter)));
    type_str(&mut app, "WEB");
    assert_eq!(hosts(&app), ["web01"], "host name, case-insensitive");
    app.update(key(KeyCode::Esc));
    assert_eq!(hosts(&app).len(), 4, "Esc clears");
    for (text, want) in [
        ("routed", vec!["ci-runner"]),
        ("52:54:00:6b:3c:0", vec!["db01", "web01"]),
        ("192.168.122.2", vec!["-"]),
        ("nothing-like-it", vec![]),
    ] {
        app.update(ch('/'));
        type_str(&mut app, text);
        app.update(key(KeyCode::Enter));
        assert!(app.popup().is_none());
        assert_eq!(hosts(&app), want, "filter {text:?}: network, MAC, IP");
        app.update(ch('/'));
        app.update(key(KeyCode::Esc));
    }
    app.update(ch('/'));
    type_str(&mut app, "db");
    app.update(key(KeyCode::Enter));
    assert_eq!(hosts(&app), ["db01"], "Enter keeps the filter");
    app.update(ch('2'));
    assert_eq!(names(&app).len(), 7, "the ports keep their own filter");
    app.update(ch('3'));
    assert_eq!(hosts(&app), ["db01"]);
}

#[test]
fn leases_sort_cycles_and_reverses() {
    let mut app = app(80, 24);
    app.update(ch('3'));
    assert_eq!(app.leases_state().sort, LeaseSort::Network);
    app.update(ch('o'));
    assert_eq!(app.leases_state().sort, LeaseSort::Expiry);
    assert_eq!(
        hosts(&app),
        ["-", "web01", "db01", "ci-runner"],
        "expired first, never last"
    );
    app.update(ch('O'));
    assert_eq!(hosts(&app), ["ci-runner", "db01", "web01", "-"]);
    app.update(ch('o'));
    assert_eq!(
        (app.leases_state().sort, app.leases_state().reverse),
        (LeaseSort::Hostname, false)
    );
    assert_eq!(
        hosts(&app),
        ["ci-runner", "db01", "web01", "-"],
        "no host name goes last"
    );
    app.update(ch('O'));
    assert_eq!(hosts(&app), ["web01", "db01", "ci-runner", "-"]);
    app.update(ch('o'));
    assert_eq!(app.leases_state().sort, LeaseSort::Mac);
    assert_eq!(hosts(&app), ["ci-runner", "web01", "db01", "-"]);
    app.update(ch('o'));
    assert_eq!(app.leases_state().sort, LeaseSort::Network, "round");
    assert_eq!(hosts(&app), ["-", "db01", "web01", "ci-runner"]);
}

#[test]
fn selection_stays_on_the_same_lease_across_sorting_filtering_and_data() {
    let mut app = app(80, 24);
    app.update(ch('3'));
    app.update(ch('j'));
    assert_eq!(selected_host(&app).as_deref(), Some("db01"));
    for _ in 0..4 {
        app.update(ch('o'));
        assert_eq!(selected_host(&app).as_deref(), Some("db01"));
        app.update(ch('O'));
        assert_eq!(selected_host(&app).as_deref(), Some("db01"));
    }
    // The next snapshot, with its leases listed in another order.
    let mut next = history()[HISTORY_SECS].clone();
    next.at += std::time::Duration::from_secs(1);
    next.now_unix += 1;
    next.leases.reverse();
    app.update(Event::Snapshot(Arc::new(next)));
    assert_eq!(selected_host(&app).as_deref(), Some("db01"));
    // Clearing a filter keeps the lease selected.
    app.update(ch('/'));
    type_str(&mut app, "db");
    assert_eq!(selected_host(&app).as_deref(), Some("db01"));
    app.update(key(KeyCode::Esc));
    assert_eq!(hosts(&app).len(), 4);
    assert_eq!(selected_host(&app).as_deref(), Some("db01"));
}

#[test]
fn pinned_leases_are_marked_and_pin_acts_on_the_sorted_selection() {
    let mut app = app(80, 24);
    app.update(ch('3'));
    let pinned = |app: &App| -> Vec<String> {
        let snap = app.snapshot();
        let mut out: Vec<String> = snap
            .leases
            .iter()
            .filter(|l| app.lease_pinned(l))
            .map(|l| l.hostname.clone().unwrap_or_default())
            .collect();
        out.sort();
        out
    };
    assert_eq!(pinned(&app), ["ci-runner"], "its <host> entry in routed");
    let text = lines(&render(&app, 80, 24)).join("\n");
    let row = text.lines().find(|l| l.contains("ci-runner")).expect("row");
    assert!(row.contains(" pin "), "{row}");
    let row = text.lines().find(|l| l.contains("web01")).expect("row");
    assert!(!row.contains(" pin "), "{row}");

    // By host name ci-runner comes first: already pinned, so `p` refuses.
    app.update(ch('o'));
    app.update(ch('o'));
    app.update(ch('g'));
    assert_eq!(selected_host(&app).as_deref(), Some("ci-runner"));
    assert!(app.update(ch('p')).is_empty());
    assert!(app.popup().is_none(), "nothing to confirm");
    app.update(ch('j'));
    app.update(ch('j'));
    assert_eq!(selected_host(&app).as_deref(), Some("web01"));
    app.update(ch('p'));
    let Some(Popup::Confirm(confirm)) = app.popup() else {
        panic!("p asks to pin web01: {:?}", app.popup());
    };
    assert!(confirm.lines[0].contains("192.168.122.4"), "{confirm:?}");
    let (id, cmd) = executed(&app.update(ch('y'))).expect("y pins");

    // The real backend pins it; the next snapshot marks it, and the selection stays.
    let mut demo = Demo::new();
    let mut series = demo.series(HISTORY_SECS);
    let (_, r) = demo.execute(id, cmd);
    assert!(r.ok, "{}", r.message);
    app.update(done(id, true, &r.message));
    demo.advance(std::time::Duration::from_secs(1));
    series.push(demo.snapshot());
    app.update(Event::Snapshot(Arc::new(series.pop().expect("one"))));
    assert_eq!(pinned(&app), ["ci-runner", "web01"]);
    assert_eq!(selected_host(&app).as_deref(), Some("web01"));
}

/// Shrink the terminal, go to the last row, grow it back: every row shows again (the scroll
/// is re-clamped on resize), not just the last ones.
#[test]
fn growing_the_terminal_back_shows_every_row_again() {
    let mut app = app(80, 24);
    app.update(ch('2'));
    let len = app.ports_state().order.len();
    assert!(len >= 5, "the demo has ports: {len}");
    app.update(Event::Resize(80, 9));
    app.update(ch('G'));
    app.update(Event::Resize(80, 24));
    let screen = lines(&render(&app, 80, 24)).join("\n");
    for i in &app.ports_state().order {
        let name = &app.snapshot().ports[*i].ifname;
        assert!(screen.contains(name.as_str()), "{name} missing:\n{screen}");
    }
}

/// Help scrolled to its end stops at its last line: no blank page below it.
#[test]
fn help_scrolled_to_the_end_ends_at_its_last_line() {
    let mut app = app(80, 24);
    app.update(ch('?'));
    for _ in 0..3 {
        app.update(ch('G'));
        app.update(key(KeyCode::PageDown));
    }
    let screen = lines(&render(&app, 80, 24));
    let bottom = screen
        .iter()
        .rposition(|l| l.contains('┗') || l.contains('└') && l.contains('┘'))
        .expect("the popup's bottom border");
    let above = &screen[bottom - 1];
    let inner: String = above.chars().filter(|c| !"┃│".contains(*c)).collect();
    assert!(
        !inner.trim().is_empty(),
        "a blank row above the border:\n{}",
        screen.join("\n")
    );
}

/// A macvtap made by attach is detached from the Ports view (D, asks first, names the guest);
/// the backend deletes it; undefining its network before that is refused with the fix.
#[test]
fn a_macvtap_is_detached_from_the_ports_view() {
    let mut demo = Demo::new();
    let xml = "<network><name>direct</name><forward mode='vepa'><interface dev='eth1.100'/></forward></network>";
    let create = Command::CreateNetwork {
        xml: xml.into(),
        autostart: false,
        start: false,
    };
    assert!(demo.execute(1, create).1.ok);
    let attach = Command::Attach {
        network: "direct".into(),
        name: Some("mvt-db".into()),
        mac: None,
    };
    assert!(demo.execute(2, attach).1.ok);
    let (_, r) = demo.execute(3, Command::Undefine("direct".into()));
    assert!(!r.ok && r.message.contains("mvt-db"), "{}", r.message);
    assert!(
        r.fix
            .as_deref()
            .is_some_and(|f| f.contains("switchyard detach mvt-db")),
        "{:?}",
        r.fix
    );

    let mut app = App::new(Settings::default(), (80, 24));
    app.update(Event::Snapshot(Arc::new(demo.snapshot())));
    app.update(ch('2'));
    while app.selected_port().is_some_and(|p| p.ifname != "mvt-db") {
        let before = app.selected_port().map(|p| p.ifname.clone());
        app.update(ch('j'));
        assert_ne!(
            before,
            app.selected_port().map(|p| p.ifname.clone()),
            "mvt-db listed"
        );
    }
    assert!(app.update(ch('D')).is_empty(), "asks first");
    let (id, cmd) = executed(&app.update(ch('y'))).expect("y detaches");
    assert_eq!(cmd, Command::Detach("mvt-db".into()));
    let (_, r) = demo.execute(id, cmd);
    assert!(r.ok, "{}", r.message);
    assert!(!demo.snapshot().ports.iter().any(|p| p.ifname == "mvt-db"));
    assert!(
        demo.execute(4, Command::Undefine("direct".into())).1.ok,
        "nothing orphaned now"
    );

    // Not a macvtap: D says so and does nothing.
    app.update(ch('g'));
    assert!(app.update(ch('D')).is_empty());
    assert!(app.popup().is_none());
}

/// A log entry longer than the screen is wide opens in full with Enter (Esc closes it).
#[test]
fn a_long_log_entry_opens_in_full() {
    let mut app = app(80, 24);
    assert!(app.select_network("isolated"));
    let (id, _) = executed(&app.update(ch('s'))).expect("s issues a command");
    let long = format!(
        "step 3 (add address 192.168.122.1/24 to virbr0) failed: {}; rolled back: the end of it",
        "x".repeat(120)
    );
    app.update(done(id, false, &long));
    app.update(ch('5'));
    app.update(ch('G'));
    app.update(key(KeyCode::Enter));
    assert!(
        matches!(app.popup(), Some(Popup::LogEntry(_))),
        "{:?}",
        app.popup()
    );
    let screen = lines(&render(&app, 80, 24)).join("\n");
    assert!(screen.contains("rolled back: the end of it"), "{screen}");
    app.update(key(KeyCode::Esc));
    assert!(app.popup().is_none());
}

/// Select the port `ifname` in the Ports view (the view is open).
fn select_port(app: &mut App, ifname: &str) {
    app.update(ch('g'));
    while app.selected_port().is_some_and(|p| p.ifname != ifname) {
        let before = app.selected_port().map(|p| p.ifname.clone());
        app.update(ch('j'));
        assert_ne!(
            before,
            app.selected_port().map(|p| p.ifname.clone()),
            "{ifname} listed"
        );
    }
}

/// A guest port moves to another running network's bridge from the Ports view: M offers the
/// other running networks with a bridge of their own, ↓ picks, y moves (through the real
/// backend over the simulated host, by interface index); Esc cancels; a port switchyard may not
/// touch is refused saying why, here and in the backend.
#[test]
fn a_port_moves_to_another_network_from_the_ports_view() {
    let mut demo = Demo::new();
    let mut app = App::new(Settings::default(), (80, 24));
    app.update(Event::Snapshot(Arc::new(demo.snapshot())));
    app.update(ch('2'));
    select_port(&mut app, "vnet0");

    // Esc: nothing happens.
    assert!(app.update(ch('M')).is_empty(), "asks first");
    match app.popup() {
        Some(Popup::MovePort(m)) => {
            assert_eq!(
                (m.from.as_str(), m.choices.clone()),
                ("default", vec!["routed".to_string()])
            );
        }
        other => panic!("expected the move popup, got {other:?}"),
    }
    assert!(app.update(key(KeyCode::Esc)).is_empty());
    assert!(app.popup().is_none());

    // ↓ wraps around the one choice; y moves.
    app.update(ch('M'));
    app.update(key(KeyCode::Down));
    let (id, cmd) = executed(&app.update(ch('y'))).expect("y moves");
    assert_eq!(
        cmd,
        Command::MovePort {
            ifname: "vnet0".into(),
            network: "routed".into()
        }
    );
    let before = demo
        .snapshot()
        .ports
        .iter()
        .find(|p| p.ifname == "vnet0")
        .map(|p| p.ifindex);
    let (_, r) = demo.execute(id, cmd);
    assert!(r.ok, "{}", r.message);
    assert!(
        r.message
            .contains("from default (virbr0) to routed (virbr1)"),
        "{}",
        r.message
    );
    let snap = demo.snapshot();
    let vnet0 = snap
        .ports
        .iter()
        .find(|p| p.ifname == "vnet0")
        .expect("still there");
    assert_eq!(
        (
            vnet0.network.as_deref(),
            vnet0.bridge.as_deref(),
            Some(vnet0.ifindex)
        ),
        (Some("routed"), Some("virbr1"), before),
        "the very link, on the other bridge"
    );

    // Refused in the TUI: a macvtap, a port on no network.
    for (port, why) in [
        ("macvtap0", "not a guest port"),
        ("veth3f9a2c1", "on no switchyard network's bridge"),
    ] {
        select_port(&mut app, port);
        assert!(app.update(ch('M')).is_empty());
        assert!(app.popup().is_none(), "{port}");
        let toast = app.toast().map(|t| t.text.clone()).unwrap_or_default();
        assert!(toast.contains(why), "{port}: {toast}");
    }

    // Refused by the backend, whatever the screen offered: each says why.
    for (n, (ifname, network, why)) in [
        ("vnet0", "routed", "already on routed"),
        ("vnet1", "isolated", "not active"),
        ("vnet1", "nosuch", "does not exist"),
        ("bond0", "routed", "not a guest port"),
        (
            "veth3f9a2c1",
            "routed",
            "which no running switchyard network made",
        ),
        ("nothere", "routed", "no interface nothere"),
    ]
    .into_iter()
    .enumerate()
    {
        let cmd = Command::MovePort {
            ifname: ifname.into(),
            network: network.into(),
        };
        let (_, r) = demo.execute(10 + n as u64, cmd);
        assert!(
            !r.ok && r.message.contains(why),
            "{ifname} → {network}: {}",
            r.message
        );
    }
}

/// Histories are kept for the ports, which the sparklines and the port detail chart, and for
/// nothing else: the other interfaces show the collector's rate (a veth pair's peer, the
/// uplink) and cost no ten minutes of points each.
#[test]
fn only_ports_keep_a_history() {
    let app = app(120, 40);
    let snap = app.snapshot();
    assert!(
        snap.ifaces
            .iter()
            .any(|i| !snap.ports.iter().any(|p| p.key() == i.key())),
        "the demo has interfaces that are not ports"
    );
    let ports: std::collections::HashSet<_> = snap.ports.iter().map(|p| p.key()).collect();
    let tracked: std::collections::HashSet<_> = app.rates().ports().copied().collect();
    assert_eq!(tracked, ports);
}
