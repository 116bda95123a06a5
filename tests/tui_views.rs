//! Screenshots of every view from the simulated host (insta, TestBackend) at 80×24 and 160×48, tiny
//! sizes that must not panic, and cell-style checks (snapshots carry no colour).

mod tui_support;

use std::sync::Arc;

use crossterm::event::KeyCode;
use ratatui::style::{Color, Modifier};
use switchyard::live::demo::Demo;
use switchyard::tui::app::{App, Settings};
use switchyard::tui::{Command, Event, Snapshot, Theme};

/// `EPERM`: what the kernel answers an unprivileged caller.
const EPERM: i32 = 1;
use tui_support::*;

/// Every screen worth a screenshot: a name and the keys that lead there from the start.
fn screens() -> Vec<(&'static str, Vec<Event>)> {
    vec![
        ("networks", vec![]),
        ("networks_xml", vec![ch('j'), ch('j'), ch('x')]),
        ("undefine_confirm", vec![ch('j'), ch('j'), ch('d')]),
        ("ports", vec![ch('2')]),
        (
            "port_detail",
            vec![
                ch('2'),
                ch('j'),
                ch('j'),
                ch('j'),
                ch('j'),
                key(KeyCode::Enter),
            ],
        ),
        (
            "move_port",
            vec![ch('2'), ch('j'), ch('j'), ch('j'), ch('j'), ch('M')],
        ),
        ("leases", vec![ch('3')]),
        (
            "leases_filtered",
            vec![
                ch('3'),
                ch('/'),
                ch('5'),
                ch('2'),
                ch(':'),
                ch('5'),
                ch('4'),
                key(KeyCode::Enter),
            ],
        ),
        ("host", vec![ch('4')]),
        ("log", vec![ch('5')]),
        ("help", vec![ch('?')]),
    ]
}

fn screen_app(keys: &[Event], w: u16, h: u16) -> App {
    let mut app = app(w, h);
    for k in keys {
        app.update(k.clone());
    }
    app
}

#[test]
fn every_view_at_standard_sizes() {
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        for (name, keys) in screens() {
            let app = screen_app(&keys, w, h);
            let terminal = render(&app, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
        }
    }
}

#[test]
fn filtered_ports_with_the_filter_bar() {
    let mut app = app(80, 24);
    app.update(ch('2'));
    app.update(ch('/'));
    type_str(&mut app, "vnet");
    insta::assert_snapshot!("ports_filter_editing_80x24", render(&app, 80, 24).backend());
}

/// The leases after web01's was pinned through the real backend, soonest expiry first: the
/// Static column marks web01 and ci-runner (pinned in the simulated host's routed network).
#[test]
fn pinned_leases_are_marked() {
    let mut demo = Demo::new();
    demo.series(HISTORY_SECS);
    let (_, r) = demo.execute(
        1,
        Command::PinLease {
            network: "default".into(),
            mac: "52:54:00:6b:3c:01".into(),
            ip: "192.168.122.4".into(),
            hostname: Some("web01".into()),
        },
    );
    assert!(r.ok, "{}", r.message);
    demo.advance(std::time::Duration::from_secs(1));
    let pinned = Arc::new(demo.snapshot());
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut app = app(w, h);
        app.update(Event::Snapshot(Arc::clone(&pinned)));
        app.update(ch('3'));
        app.update(ch('o'));
        insta::assert_snapshot!(
            format!("leases_pinned_{w}x{h}"),
            render(&app, w, h).backend()
        );
    }
}

#[test]
fn tiny_sizes_do_not_panic() {
    let sizes = [
        (0u16, 0u16),
        (1, 1),
        (2, 2),
        (20, 5),
        (10, 3),
        (5, 40),
        (40, 10),
        (79, 23),
        (30, 12),
    ];
    for (_, keys) in screens() {
        for (w, h) in sizes {
            let app = screen_app(&keys, w, h);
            let _ = render(&app, w, h);
        }
        // A resize after the keys, as when the SSH window shrinks.
        let mut app = screen_app(&keys, 80, 24);
        app.update(Event::Resize(20, 5));
        let _ = render(&app, 20, 5);
    }
}

#[test]
fn before_any_data_the_screen_says_so() {
    let app = App::new(Settings::default(), (80, 24));
    let text = lines(&render(&app, 80, 24)).join("\n");
    assert!(text.contains("waiting for data"), "{text}");
}

/// The row of network `name` in `snap`.
fn network<'a>(snap: &'a mut Snapshot, name: &str) -> &'a mut switchyard::tui::NetworkRow {
    snap.networks
        .iter_mut()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("{name} is not in the simulated host"))
}

/// Find the first cell whose row text contains `needle`, at the needle's first column.
fn find(terminal: &ratatui::Terminal<ratatui::backend::TestBackend>, needle: &str) -> (u16, u16) {
    for (y, line) in lines(terminal).iter().enumerate() {
        if let Some(byte) = line.find(needle) {
            return (line[..byte].chars().count() as u16, y as u16);
        }
    }
    panic!("{needle:?} not on screen:\n{}", lines(terminal).join("\n"));
}

#[test]
fn selected_row_uses_the_selected_style() {
    let theme = Theme::default();
    let mut app = app(80, 24);
    app.update(ch('j'));
    let t = render(&app, 80, 24);
    let (x, y) = find(&t, "isolated ");
    let cell = &t.backend().buffer()[(x, y)];
    assert_eq!(
        cell.style().bg,
        theme.selected.bg,
        "selected row background"
    );
    let (x, y) = find(&t, "default ");
    assert_ne!(
        t.backend().buffer()[(x, y)].style().bg,
        theme.selected.bg,
        "other rows are not selected"
    );
}

#[test]
fn drift_and_badge_use_the_warning_style() {
    let theme = Theme::default();
    let app = app(80, 24);
    let t = render(&app, 80, 24);
    let (x, y) = find(&t, "⚠ 1");
    assert_eq!(t.backend().buffer()[(x, y)].style().fg, theme.warning.fg);
    let (x, y) = find(&t, "⚠ routed");
    assert_eq!(
        (y, t.backend().buffer()[(x, y)].style().fg),
        (0, theme.warning.fg)
    );
}

#[test]
fn errors_use_the_error_style() {
    let theme = Theme::default();
    let mut broken = App::new(Settings::default(), (80, 24));
    let mut snap = history()[0].clone();
    network(&mut snap, "isolated").error = Some("bridge virbr2 vanished".into());
    broken.update(Event::Snapshot(Arc::new(snap)));
    let t = render(&broken, 80, 24);
    let (x, y) = find(&t, "✖ err");
    assert_eq!(t.backend().buffer()[(x, y)].style().fg, theme.error.fg);
    let (x, y) = find(&t, "✖ 2 networks need attention");
    assert_eq!(t.backend().buffer()[(x, y)].style().fg, theme.error.fg);

    // A failed command's toast in the footer.
    let mut app = app(80, 24);
    assert!(app.select_network("isolated"));
    let effects = app.update(ch('s'));
    let id = match effects.as_slice() {
        [switchyard::tui::Effect::Execute(id, _)] => *id,
        other => panic!("expected one Execute, got {other:?}"),
    };
    // The real backend refuses it: the kernel says no to the bridge.
    let mut demo = Demo::new();
    demo.host().fail_step("create-bridge", EPERM);
    let (_, result) = demo.execute(id, Command::StartNetwork("isolated".into()));
    assert!(!result.ok, "{result:?}");
    app.update(Event::CommandDone(result));
    let t = render(&app, 80, 24);
    let (x, y) = find(&t, "start isolated failed");
    assert_eq!(
        (y, t.backend().buffer()[(x, y)].style().fg),
        (23, theme.error.fg)
    );
}

#[test]
fn no_color_shows_selection_without_colour() {
    let mut app = app_with(no_color(), 80, 24);
    app.update(ch('j'));
    let t = render(&app, 80, 24);
    let buf = t.backend().buffer();
    let (x, y) = find(&t, "isolated ");
    assert!(buf[(x, y)]
        .style()
        .add_modifier
        .contains(Modifier::REVERSED));
    for cell in buf.content() {
        for c in [cell.fg, cell.bg] {
            assert!(
                matches!(c, Color::Reset),
                "colour {c:?} under NO_COLOR at {:?}",
                cell.symbol()
            );
        }
    }
}

#[test]
fn footer_hints_follow_key_overrides() {
    use std::collections::BTreeMap;
    use switchyard::tui::keymap::Keymap;
    let overrides: BTreeMap<String, Vec<String>> =
        [("start_stop".to_string(), vec!["S".to_string()])].into();
    let settings = Settings {
        keymap: Keymap::with_overrides(&overrides).expect("valid override"),
        ..Settings::default()
    };
    let app = app_with(settings, 80, 24);
    let footer = lines(&render(&app, 80, 24))[23].clone();
    assert!(footer.contains("S start/stop"), "{footer}");
}

#[test]
fn the_detail_names_what_is_dubious_and_what_is_tainted() {
    let mut app = app(120, 30);
    let mut snap = history()[0].clone();
    let net = network(&mut snap, "default");
    net.warnings =
        vec!["ip[0].address: 192.168.100.0 is the network address of 192.168.100.0/24".into()];
    net.taints = vec!["custom-dnsmasq-options".into()];
    app.update(Event::Snapshot(Arc::new(snap)));
    let text = render(&app, 120, 30).backend().to_string();
    assert!(
        text.contains("dubious") && text.contains("is the network address"),
        "{text}"
    );
    assert!(text.contains("tainted: custom-dnsmasq-options"), "{text}");
}

#[test]
fn the_header_says_when_the_host_is_simulated() {
    let app = app(80, 24);
    let header = lines(&render(&app, 80, 24))[0].clone();
    assert!(header.contains("kvm-lab01 (simulated)"), "{header}");

    let mut real = App::new(Settings::default(), (80, 24));
    let mut snap = history()[0].clone();
    snap.host.simulated = false;
    real.update(Event::Snapshot(Arc::new(snap)));
    let header = lines(&render(&real, 80, 24))[0].clone();
    assert!(
        header.contains("kvm-lab01") && !header.contains("simulated"),
        "{header}"
    );
}

#[test]
fn unknown_counters_show_a_dash_and_macvtap_networks_say_so() {
    let mut app = App::new(Settings::default(), (160, 30));
    let mut snap = history()[0].clone();
    let first = snap.ports[0].ifname.clone();
    snap.ports[0].counters = None;
    let xml = "<network><name>mv</name><forward mode='vepa'><interface dev='eth1'/></forward>\
               </network>";
    let def = switchyard::model::parse_network_xml(xml).expect("parses");
    let net = network(&mut snap, "isolated");
    net.mode = switchyard::tui::data::NetMode::of(&def);
    net.def = Some(Arc::new(def));
    app.update(Event::Snapshot(Arc::new(snap)));
    app.update(ch('j'));
    let text = render(&app, 160, 30).backend().to_string();
    let table = text.lines().find(|l| l.contains("isolated ")).expect("row");
    assert!(table.contains(" macvtap "), "the table: {text}");
    assert!(
        text.contains("mode       macvtap (vepa)"),
        "the detail: {text}"
    );

    app.update(ch('2'));
    let row = app.ports_state().order.iter().position(|i| *i == 0);
    for _ in 0..row.expect("the first port is listed") {
        app.update(ch('j'));
    }
    app.update(key(KeyCode::Enter));
    let text = render(&app, 160, 30).backend().to_string();
    assert!(text.contains(&format!("Port {first}")), "{text}");
    assert!(
        text.contains("total rx –") && text.contains("drops –"),
        "unknown, not zero: {text}"
    );
}

/// The network detail and the ports on a large terminal (200×50; `networks_80x24` and
/// `ports_80x24` are the small ones): the detail shows the network's traffic chart with its
/// legend, its totals, its ports and its leases; the ports' sparklines share one scale, each
/// row saying its own maximum where the column is wide.
#[test]
fn network_detail_and_ports_at_200x50() {
    let app = screen_app(&[], 200, 50);
    insta::assert_snapshot!("network_detail_200x50", render(&app, 200, 50).backend());
    let app = screen_app(&[ch('2')], 200, 50);
    insta::assert_snapshot!("ports_200x50", render(&app, 200, 50).backend());
}

#[test]
fn the_network_detail_charts_its_summed_traffic_at_200x50() {
    let app = screen_app(&[], 200, 50);
    let text = render(&app, 200, 50).backend().to_string();
    let ports = app
        .snapshot()
        .ports
        .iter()
        .filter(|p| p.network.as_deref() == Some("default"))
        .count();
    assert!(
        text.contains(&format!("traffic of its {ports} ports")),
        "{text}"
    );
    assert!(text.contains("━━ rx ━━ tx"), "legend: {text}");
    assert!(text.contains("totals     rx "), "totals: {text}");
    assert!(text.contains(&format!("Ports ({ports})")), "{text}");
    assert!(text.contains("Leases ("), "{text}");
    // The chart's history is the sum of the ports' rates, point for point (as a history
    // stores it: within 0.04 %).
    let net = app.network_history("default").expect("history");
    let newest = net.fine(switchyard::telemetry::Metric::RxBps).last();
    let summed: f64 = app
        .snapshot()
        .ports
        .iter()
        .filter(|p| p.network.as_deref() == Some("default"))
        .filter_map(|p| p.rate.map(|r| r.rx_bps))
        .sum();
    let newest = newest.expect("points");
    assert!(
        (newest - summed).abs() <= summed * 4e-4 + 1.0,
        "{newest} vs {summed}"
    );
    // At 80×24 the detail keeps to its definition and runtime.
    let small = render(&screen_app(&[], 80, 24), 80, 24)
        .backend()
        .to_string();
    assert!(!small.contains("━━ rx"), "{small}");
}

/// A reservation no client holds a lease of (spare, pinned through the real backend) is
/// listed in Leases beside the leases: marked pinned, "not leased" instead of an expiry, and
/// last when sorted by expiry.
#[test]
fn reservations_without_a_lease_are_listed() {
    let mut demo = Demo::new();
    demo.series(HISTORY_SECS);
    let (_, r) = demo.execute(
        1,
        Command::PinLease {
            network: "default".into(),
            mac: "52:54:00:aa:bb:cc".into(),
            ip: "192.168.122.50".into(),
            hostname: Some("spare".into()),
        },
    );
    assert!(r.ok, "{}", r.message);
    demo.advance(std::time::Duration::from_secs(1));
    let snap = Arc::new(demo.snapshot());
    let spare: Vec<_> = snap.leases.iter().filter(|l| l.reserved).collect();
    assert_eq!(spare.len(), 1, "{:?}", snap.leases);
    assert_eq!(
        (
            spare[0].ip.to_string(),
            spare[0].hostname.as_deref(),
            spare[0].expiry
        ),
        ("192.168.122.50".to_string(), Some("spare"), None)
    );
    assert!(
        !snap
            .leases
            .iter()
            .any(|l| l.reserved && l.hostname.as_deref() == Some("ci-runner")),
        "a reservation with a lease is listed once, as the lease"
    );
    for (w, h) in [(80u16, 24u16), (200, 50)] {
        let mut app = app(w, h);
        app.update(Event::Snapshot(Arc::clone(&snap)));
        app.update(ch('3'));
        let shot = render(&app, w, h);
        let row = lines(&shot)
            .into_iter()
            .find(|l| l.contains("192.168.122.50"))
            .expect("the reservation is listed");
        assert!(row.contains("pin") && row.contains("not leased"), "{row}");
        insta::assert_snapshot!(format!("leases_reserved_{w}x{h}"), shot.backend());
    }
}

/// The sparklines share the scale of the rows on screen: wherever the list is scrolled, the
/// busiest port shown draws a full bar (a busier port scrolled away does not flatten them).
#[test]
fn the_sparkline_scale_is_that_of_the_rows_on_screen() {
    let mut app = screen_app(&[ch('2')], 200, 9);
    let total = app.ports_state().order.len();
    assert!(total > 3, "needs more ports than fit: {total}");
    for at in 0..total {
        let text = render(&app, 200, 9).backend().to_string();
        let body: Vec<&str> = text.lines().skip(3).take(3).collect();
        let busy = body
            .iter()
            .any(|l| l.contains(" max ") && !l.contains("max       0 b/s"));
        if busy {
            assert!(
                body.iter().any(|l| l.contains('█')),
                "row {at}: the busiest row shown reaches the top:\n{text}"
            );
        }
        app.update(ch('j'));
    }
}
