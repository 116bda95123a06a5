//! The wizard's form logic without a terminal: key sequences → draft → definition, for every
//! mode, and every kind of problem reaching the field it concerns.

mod tui_wizard_support;

use crossterm::event::KeyCode;
use switchyard::model::ForwardMode;
use switchyard::tui::wizard::{FieldId, NetMode, Outcome, Step, TapMode, WizardContext};
use switchyard::tui::Command;
use tui_wizard_support::*;

#[test]
fn name_and_enter_through_every_step_makes_a_nat_network() {
    let mut d = Driver::new();
    assert_eq!(
        (d.w.step(), d.w.focused()),
        (Step::NameMode, Some(FieldId::Name))
    );
    assert_eq!(d.w.draft().name, "", "the name starts empty");
    d.type_str("lab");
    d.enter();
    assert_eq!(
        d.w.focused(),
        Some(FieldId::Ipv4),
        "step 2 opens on the IPv4 field"
    );
    d.go_to_review();
    let def = d.previewed();
    assert_eq!(def.name, "lab");
    assert_eq!(def.mode(), Some(ForwardMode::Nat));
    assert_eq!(
        def.ipv4().map(|n| n.to_string()).as_deref(),
        Some("192.168.100.1/24"),
        "the first free candidate subnet"
    );
    let range = def.dhcp_ranges()[0].1;
    assert_eq!(
        (range.start.to_string(), range.end.to_string()),
        ("192.168.100.2".into(), "192.168.100.254".into())
    );
    assert_eq!(def.bridge_name(), Some("sybr0"));
    assert!(!def.stp() && def.uuid.is_some() && def.mac.is_some());
    let cmds = d.w.commands();
    assert!(matches!(
        &cmds[..],
        [Command::CreateNetwork {
            autostart: false,
            start: true,
            ..
        }]
    ));
}

#[test]
fn every_mode_builds_its_definition() {
    // Routed out of eth0, with IPv6.
    let mut d = Driver::new();
    d.type_str("rt");
    d.mode(NetMode::Route);
    d.enter();
    d.focus(FieldId::Ipv6);
    d.space();
    d.focus(FieldId::ForwardDev);
    d.code(KeyCode::Right);
    d.go_to_review();
    let def = d.previewed();
    assert_eq!(def.mode(), Some(ForwardMode::Route));
    assert_eq!(def.forward.as_ref().and_then(|f| f.dev()), Some("eth0"));
    assert!(def.ipv6().is_some_and(|n| n.to_string().starts_with("fd")));

    // Isolated without DHCP; open; each with its own free bridge.
    for (mode, want) in [
        (NetMode::Isolated, None),
        (NetMode::Open, Some(ForwardMode::Open)),
    ] {
        let mut d = Driver::new();
        d.type_str("x");
        d.mode(mode);
        d.enter();
        d.focus(FieldId::Dhcp);
        d.space();
        d.go_to_review();
        let def = d.previewed();
        assert_eq!(def.mode(), want);
        assert!(def.dhcp_ranges().is_empty() && def.ipv4().is_some());
    }

    // Bridged onto br0.
    let mut d = Driver::new();
    d.type_str("lan");
    d.mode(NetMode::Bridged);
    d.enter();
    assert_eq!(d.w.focused(), Some(FieldId::HostBridge));
    d.go_to_review();
    let def = d.previewed();
    assert!(def.is_host_bridge() && def.bridge_name() == Some("br0") && def.ips.is_empty());

    // Macvtap in every mode, over both NICs.
    for tap in TapMode::ALL {
        let mut d = Driver::new();
        d.type_str("direct");
        d.mode(NetMode::Macvtap);
        d.enter();
        d.focus(FieldId::Devices);
        d.space();
        d.code(KeyCode::Down);
        d.space();
        d.tap_mode(tap);
        d.go_to_review();
        let def = d.previewed();
        assert!(def.is_macvtap(), "{tap:?}");
        let pool = &def.forward.as_ref().expect("forward").interfaces;
        assert_eq!(pool, &["eth0", "eth1.100"]);
        let want = match tap {
            TapMode::Bridge => ForwardMode::Bridge,
            TapMode::Vepa => ForwardMode::Vepa,
            TapMode::Private => ForwardMode::Private,
            TapMode::Passthrough => ForwardMode::Passthrough,
        };
        assert_eq!(def.mode(), Some(want));
    }
}

#[test]
fn options_reach_the_definition() {
    let mut d = Driver::new();
    d.type_str("opts");
    d.enter();
    d.enter();
    d.set(FieldId::BridgeName, "labbr0");
    d.set(FieldId::Domain, "lab.example");
    d.focus(FieldId::Autostart);
    d.space();
    d.focus(FieldId::Stp);
    d.space();
    d.set(FieldId::Mtu, "9000");
    d.go_to_review();
    let def = d.previewed();
    assert_eq!(def.bridge_name(), Some("labbr0"));
    assert_eq!(
        def.domain.as_ref().map(|x| x.name.as_str()),
        Some("lab.example")
    );
    assert!(def.stp());
    assert_eq!(def.mtu, Some(9000));
    assert!(matches!(
        &d.w.commands()[..],
        [Command::CreateNetwork {
            autostart: true,
            start: true,
            ..
        }]
    ));
}

/// "Define only" defines the network without starting it; the demo host then lists it
/// inactive. An edit does not offer the choice.
#[test]
fn define_only_defines_without_starting() {
    let mut d = Driver::new();
    d.type_str("later");
    d.enter();
    d.enter();
    d.focus(FieldId::DefineOnly);
    d.space();
    d.go_to_review();
    let cmds = d.w.commands();
    assert!(
        matches!(&cmds[..], [Command::CreateNetwork { start: false, .. }]),
        "{cmds:?}"
    );
    let mut demo = switchyard::live::demo::Demo::new();
    let (_, r) = demo.execute(1, cmds[0].clone());
    assert!(r.ok, "{}", r.message);
    let snap = demo.snapshot();
    let row = snap
        .networks
        .iter()
        .find(|n| n.name == "later")
        .expect("defined");
    assert!(!row.active, "defined, not started");

    let mut edit = Driver::edit(&snap, row);
    edit.enter();
    edit.enter();
    let shown = edit.w.visible();
    assert!(
        shown.contains(&FieldId::Autostart),
        "on the options: {shown:?}"
    );
    assert!(!shown.contains(&FieldId::DefineOnly), "{shown:?}");
}

/// Build to step `step`, set `field` to `text`, press Enter: the step must not advance, the
/// focus must be on `field`, and its error must contain `want`.
fn refused(mode: NetMode, field: FieldId, text: &str, want: &str) {
    let mut d = Driver::new();
    d.type_str("t");
    d.mode(mode);
    let step = switchyard::tui::wizard::steps::step_of(field);
    while d.w.step() != step {
        d.enter();
    }
    d.set(field, text);
    d.enter();
    assert_eq!(d.w.step(), step, "{field:?}={text:?} advanced");
    assert_eq!(d.w.focused(), Some(field), "{field:?}={text:?}: focus");
    let err = d.error(field);
    assert!(
        err.contains(want),
        "{field:?}={text:?}: {err:?} lacks {want:?}"
    );
}

#[test]
fn every_problem_reaches_its_field() {
    use FieldId::*;
    use NetMode::*;
    let long = "n".repeat(65);
    let long_label = format!("{}.example", "l".repeat(64));
    let long_domain = vec!["d".repeat(50); 6].join(".");
    let cases: &[(NetMode, FieldId, &str, &str)] = &[
        (Nat, Name, "", "needs a name"),
        (Nat, Name, "a/b", "contains '/'"),
        (Nat, Name, &long, "the limit is 64"),
        (Nat, Name, "default", "already defined"),
        (Nat, Ipv4, "300.1.1.1/24", "not an IPv4 address"),
        (Nat, Ipv4, "10.9.0.1", "no prefix length"),
        (Nat, Ipv4, "10.9.0.1/33", "out of range"),
        (Nat, Ipv4, "10.9.0.1/x", "not a prefix length"),
        (Nat, Ipv4, "10.9.0.0/24", "network address"),
        (Nat, Ipv4, "10.9.0.255/24", "broadcast address"),
        (Nat, Ipv4, "172.16.5.1/24", "of network 'isolated'"),
        (Route, Ipv4, "198.51.100.1/24", "in use on this host"),
        (Isolated, Ipv4, "172.17.0.1/16", "in use on this host"),
        (Nat, Ipv4, "", "needs at least one <ip> address"),
        (Nat, DhcpRange, "10.0.0.2-10.0.0.9", "outside"),
        (Nat, DhcpRange, "192.168.100.99-192.168.100.10", "after end"),
        (Open, DhcpRange, "lots", "not a range"),
        (Nat, DhcpRange, "", "START-END"),
        (
            Nat,
            BridgeName,
            "much-too-long-name",
            "not a valid interface name",
        ),
        (Nat, BridgeName, "br 0", "a space"),
        (Nat, BridgeName, "eth0", "eth0 exists and is not a bridge"),
        (Nat, BridgeName, "bond0", "bond0 exists and is not a bridge"),
        (Nat, BridgeName, "lo", "lo is the loopback interface"),
        (Nat, BridgeName, "br0", "already exists"),
        (
            Nat,
            DhcpRange,
            "192.168.100.1-192.168.100.9",
            "includes 192.168.100.1, the network's own (gateway) address",
        ),
        (
            Nat,
            DhcpRange,
            "192.168.100.0-192.168.100.0",
            "includes 192.168.100.0, the network address of 192.168.100.0/24",
        ),
        (
            Route,
            DhcpRange,
            "192.168.100.200-192.168.100.255",
            "includes 192.168.100.255, the broadcast address of 192.168.100.0/24",
        ),
        (Nat, Domain, "ex..com", "has an empty label"),
        (Nat, Domain, "-dash", "starts or ends with '-'"),
        (Nat, Domain, "dash-.example", "starts or ends with '-'"),
        (Nat, Domain, &long_label, "label longer than 63"),
        (Nat, Domain, &long_domain, "longer than 253"),
        (Nat, BridgeName, "virbr1", "already"),
        (Nat, Domain, "lab example", "letters, digits"),
        (Nat, Mtu, "big", "not a number"),
        (Nat, Mtu, "40", "out of range"),
    ];
    for (mode, field, text, want) in cases {
        refused(*mode, *field, text, want);
    }
}

#[test]
fn ipv6_problems_reach_the_ipv6_field() {
    for (text, want) in [
        ("fd00::1", "no prefix length"),
        ("fd00::zz/64", "not an IPv6 address"),
        ("fd00::1/129", "out of range"),
        ("", "give ADDR/PREFIX"),
    ] {
        let mut d = Driver::new();
        d.type_str("six");
        d.enter();
        d.focus(FieldId::Ipv6);
        d.space();
        d.set(FieldId::Ipv6Prefix, text);
        d.enter();
        assert_eq!(d.w.focused(), Some(FieldId::Ipv6Prefix), "{text}");
        assert!(
            d.error(FieldId::Ipv6Prefix).contains(want),
            "{text}: {}",
            d.error(FieldId::Ipv6Prefix)
        );
    }
}

#[test]
fn missing_devices_reach_their_fields() {
    let mut d = Driver::new();
    d.type_str("m");
    d.mode(NetMode::Macvtap);
    d.enter();
    d.enter();
    assert_eq!(
        (d.w.step(), d.w.focused()),
        (Step::Addressing, Some(FieldId::Devices))
    );
    assert!(d.error(FieldId::Devices).contains("at least one NIC"));

    let mut ctx = WizardContext::from_snapshot(&snapshot(), None);
    ctx.bridges.clear();
    let mut d = Driver::over(ctx);
    d.type_str("b");
    d.mode(NetMode::Bridged);
    d.enter();
    d.enter();
    assert!(d.error(FieldId::HostBridge).contains("no host bridge"));

    // A forward device that vanished from the host since the network was defined.
    let mut snap = snapshot();
    let row = &mut snap.networks[0];
    let xml = row
        .xml()
        .replace("<forward mode='nat'/>", "<forward mode='nat' dev='eth9'/>");
    let def = switchyard::model::parse_network_xml(&xml).expect("parses");
    row.def = Some(std::sync::Arc::new(def));
    let row = row.clone();
    let mut d = Driver::edit(&snap, &row);
    d.enter();
    d.enter();
    assert_eq!(d.w.focused(), Some(FieldId::ForwardDev));
    assert!(d.error(FieldId::ForwardDev).contains("no interface 'eth9'"));
}

#[test]
fn errors_show_as_typed_and_clear_when_fixed() {
    let mut d = Driver::new();
    d.type_str("ok");
    d.enter();
    d.set(FieldId::Ipv4, "10.9.0.");
    assert!(
        d.error(FieldId::Ipv4).contains("no prefix length"),
        "shown while typing"
    );
    d.type_str("1/24");
    assert_eq!(d.w.shown_error(FieldId::Ipv4), None);
    assert_eq!(
        d.w.draft().dhcp_range,
        "10.9.0.2-10.9.0.254",
        "the range follows the subnet"
    );
    d.set(FieldId::DhcpRange, "10.9.0.100-10.9.0.200");
    d.set(FieldId::Ipv4, "10.8.0.1/24");
    assert_eq!(
        d.w.draft().dhcp_range,
        "10.9.0.100-10.9.0.200",
        "an edited range stays"
    );
    assert!(d.error(FieldId::DhcpRange).contains("outside 10.8.0.0/24"));
    d.enter();
    assert_eq!(d.w.focused(), Some(FieldId::DhcpRange));
    d.set(FieldId::DhcpRange, "10.8.0.100-10.8.0.200");
    d.enter();
    assert_eq!(d.w.step(), Step::Options);
}

#[test]
fn the_empty_name_is_not_an_error_until_enter() {
    let mut d = Driver::new();
    assert_eq!(d.w.shown_error(FieldId::Name), None);
    d.enter();
    assert!(d.error(FieldId::Name).contains("needs a name"));
}

#[test]
fn line_editing_and_field_movement() {
    let mut d = Driver::new();
    d.type_str("my lab net");
    d.key(ctrl('w'));
    assert_eq!(d.w.draft().name, "my lab ");
    d.key(ctrl('u'));
    assert_eq!(d.w.draft().name, "");
    d.type_str("abc");
    d.code(KeyCode::Left);
    d.code(KeyCode::Backspace);
    assert_eq!(d.w.draft().name, "ac");
    d.tab();
    assert_eq!(d.w.focused(), Some(FieldId::Mode));
    d.code(KeyCode::BackTab);
    assert_eq!(d.w.focused(), Some(FieldId::Name));
    d.code(KeyCode::Down);
    assert_eq!(d.w.focused(), Some(FieldId::Mode), "↓ leaves a text field");
    d.code(KeyCode::Up);
    assert_eq!(
        d.w.focused(),
        Some(FieldId::Name),
        "↑ at the first mode leaves the list"
    );
    d.code(KeyCode::End);
    d.type_str("j k");
    assert_eq!(
        d.w.draft().name,
        "acj k",
        "letters bound elsewhere still type"
    );
}

#[test]
fn esc_goes_back_and_closes_on_the_first_step() {
    let mut d = Driver::new();
    d.type_str("lab");
    d.enter();
    d.enter();
    assert_eq!(d.w.step(), Step::Options);
    d.esc();
    assert_eq!(d.w.step(), Step::Addressing);
    d.esc();
    assert_eq!(d.w.step(), Step::NameMode);
    assert_eq!(d.esc(), Outcome::Close(None));
    d.go_to_review();
    d.esc();
    assert_eq!(d.w.step(), Step::Options, "Esc on the review goes back");
}

#[test]
fn edit_prefills_and_sends_only_what_changed() {
    let snap = snapshot();
    let row = snap.networks[0].clone();
    let mut d = Driver::edit(&snap, &row);
    assert_eq!(d.w.focused(), Some(FieldId::Mode), "the name is read-only");
    assert_eq!(d.w.draft().ipv4, "192.168.122.1/24");
    assert_eq!(d.w.draft().dhcp_range, "192.168.122.2-192.168.122.254");
    assert_eq!(d.w.draft().bridge_name, "virbr0");
    d.go_to_review();
    assert!(
        d.w.commands().is_empty(),
        "nothing changed: {:?}",
        d.w.changes()
    );
    assert_eq!(
        d.code(KeyCode::Char('y')),
        Outcome::Close(Some("nothing changed".into()))
    );

    let mut d = Driver::edit(&snap, &row);
    d.enter();
    d.set(FieldId::Ipv4, "192.168.122.1/23");
    d.enter();
    d.focus(FieldId::Autostart);
    d.space();
    d.go_to_review();
    let changes = d.w.changes();
    let whats: Vec<(&str, bool)> = changes.iter().map(|c| (c.what, c.restart)).collect();
    assert_eq!(
        whats,
        [("IPv4", true), ("DHCP range", true), ("autostart", false)]
    );
    match &d.w.commands()[..] {
        [Command::EditNetwork { name, xml }, Command::SetAutostart(n, false)] => {
            assert_eq!((name.as_str(), n.as_str()), ("default", "default"));
            assert!(
                xml.contains("<ip address='192.168.122.1' prefix='23'>"),
                "{xml}"
            );
            assert!(
                xml.contains("<bridge name='virbr0' stp='on' delay='0'/>"),
                "{xml}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_good_range_and_domain_still_pass() {
    let mut d = Driver::new();
    d.type_str("t");
    d.enter();
    d.set(FieldId::DhcpRange, "192.168.100.2-192.168.100.254");
    d.enter();
    assert_eq!(d.w.step(), Step::Options, "{:?}", d.w.errors());
    d.set(FieldId::Domain, "lab-1.example");
    d.set(FieldId::BridgeName, "brlab");
    d.go_to_review();
    let def = d.previewed();
    assert_eq!(def.domain.map(|x| x.name).as_deref(), Some("lab-1.example"));
}

/// The bridged step's choices follow the host: a new context (the App builds one from each
/// snapshot) adds and removes bridges, and the current choice stays while it exists.
#[test]
fn the_bridged_step_follows_the_host() {
    let mut d = Driver::new();
    d.type_str("lan");
    d.mode(NetMode::Bridged);
    d.enter();
    assert_eq!(d.w.focused(), Some(FieldId::HostBridge));
    d.code(KeyCode::Down);
    assert_eq!(d.w.draft().host_bridge.as_deref(), Some("docker0"));
    let host_bridges = |d: &Driver| -> Vec<String> {
        match d.w.choices(FieldId::HostBridge) {
            Some(v) => v,
            None => panic!("no host bridge field"),
        }
    };
    // br7 appears, br0 goes: docker0 stays chosen.
    let mut ctx = d.ctx.clone();
    ctx.bridges = vec!["br7".into(), "docker0".into()];
    d.w.recheck(&ctx);
    d.ctx = ctx.clone();
    assert_eq!(host_bridges(&d), ["br7", "docker0"]);
    assert_eq!(d.w.draft().host_bridge.as_deref(), Some("docker0"));
    d.code(KeyCode::Up);
    assert_eq!(
        d.w.draft().host_bridge.as_deref(),
        Some("br7"),
        "the new one is choosable"
    );
    // The chosen bridge vanishes: it stays, flagged, and the step refuses it.
    ctx.bridges = vec!["docker0".into()];
    ctx.host.ifnames.retain(|n| n != "br7");
    d.w.recheck(&ctx);
    d.ctx = ctx;
    assert_eq!(host_bridges(&d), ["docker0", "br7"]);
    assert_eq!(d.w.draft().host_bridge.as_deref(), Some("br7"));
    d.enter();
    assert_eq!(d.w.step(), Step::Addressing);
    assert!(d.error(FieldId::HostBridge).contains("no interface 'br7'"));
}

/// Lists take ←/→ as well as ↑/↓ (as the help says); the one-line forward-device choice
/// takes ←/→ and Space, ↑/↓ moving between fields there.
#[test]
fn choices_take_left_and_right_too() {
    let mut d = Driver::new();
    d.type_str("t");
    d.focus(FieldId::Mode);
    d.code(KeyCode::Right);
    assert_eq!(d.w.draft().mode, NetMode::Route);
    d.code(KeyCode::Down);
    assert_eq!(d.w.draft().mode, NetMode::Isolated);
    d.code(KeyCode::Left);
    d.code(KeyCode::Up);
    assert_eq!(d.w.draft().mode, NetMode::Nat);
    d.enter();
    d.focus(FieldId::ForwardDev);
    d.code(KeyCode::Right);
    assert!(d.w.draft().forward_dev.is_some());
    d.code(KeyCode::Left);
    assert_eq!(d.w.draft().forward_dev, None);
    d.code(KeyCode::Up);
    assert_ne!(
        d.w.focused(),
        Some(FieldId::ForwardDev),
        "↑ leaves the field"
    );
}

#[test]
fn each_esc_goes_back_one_step() {
    let mut d = Driver::new();
    d.type_str("lab");
    d.go_to_review();
    for want in [Step::Options, Step::Addressing, Step::NameMode] {
        assert_eq!(d.esc(), Outcome::Nothing);
        assert_eq!(d.w.step(), want);
    }
    assert_eq!(d.esc(), Outcome::Close(None));
}
