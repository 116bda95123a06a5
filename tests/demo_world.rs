//! The simulated host (`--demo`, the TUI tests): what it shows comes from the real backend and
//! the real live views over the fake kernel, and is the same on every run.

use switchyard::live::demo::series;

#[test]
fn the_simulated_host_shows_networks_guests_leases_and_traffic() {
    let snaps = series(3);
    assert_eq!(snaps.len(), 4);
    let last = snaps.last().expect("snapshots");
    assert!(last.host.simulated);
    let net = |name: &str| {
        last.networks
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("{name} listed: {:?}", last.networks))
    };
    assert!(
        net("default").active && net("default").drift.is_empty(),
        "{:?}",
        net("default")
    );
    assert!(net("routed").active);
    assert!(
        net("routed").drift.iter().any(|d| d.contains("dnsmasq")),
        "{:?}",
        net("routed").drift
    );
    assert!(!net("isolated").active);

    let port = |name: &str| {
        last.ports
            .iter()
            .find(|p| p.ifname == name)
            .unwrap_or_else(|| panic!("{name}: {:?}", last.ports))
    };
    assert_eq!(port("vnet0").guest.as_deref(), Some("web01"));
    assert_eq!(port("vnet0").network.as_deref(), Some("default"));
    assert_eq!(port("vnet0").ip.as_deref(), Some("192.168.122.4"));
    assert_eq!(port("veth-ci0").ip.as_deref(), Some("10.10.0.120"));
    assert_eq!(
        port("vnet2").ip,
        None,
        "build01 came after routed's dnsmasq died"
    );
    let first = snaps[0]
        .ports
        .iter()
        .find(|p| p.ifname == "vnet0")
        .expect("vnet0");
    assert!(port("vnet0").counters.tx_bytes > first.counters.tx_bytes);
    let br0 = last.ifaces.iter().find(|i| i.ifname == "br0").expect("br0");
    assert!(
        br0.counters.rx_bytes > 0,
        "a bridge carries its ports' traffic"
    );

    let leases: Vec<(&str, &str)> = last
        .leases
        .iter()
        .map(|l| (l.network.as_str(), l.ip.as_str()))
        .collect();
    assert!(leases.contains(&("default", "192.168.122.4")), "{leases:?}");

    // The same on every run.
    assert_eq!(
        format!("{:?}", series(3).last()),
        format!("{:?}", Some(last))
    );
}

#[test]
fn commands_on_the_simulated_host_go_through_the_real_backend() {
    use switchyard::live::demo::Demo;
    use switchyard::tui::data::Command;

    let mut demo = Demo::new();
    let (steps, r) = demo.execute(1, Command::StartNetwork("isolated".into()));
    assert!(r.ok, "{}", r.message);
    assert!(!steps.is_empty(), "a start reports its steps");
    let snap = demo.snapshot();
    let isolated = snap
        .networks
        .iter()
        .find(|n| n.name == "isolated")
        .expect("listed");
    assert!(isolated.active && isolated.drift.is_empty(), "{isolated:?}");

    // A kernel refusal at one step: named in the message, rolled back, nothing left.
    let (_, r) = demo.execute(2, Command::StopNetwork("isolated".into()));
    assert!(r.ok, "{}", r.message);
    demo.host().fail_step("add-address", 17);
    let (_, r) = demo.execute(3, Command::StartNetwork("isolated".into()));
    assert!(!r.ok);
    assert!(r.message.contains("address"), "{}", r.message);
    let snap = demo.snapshot();
    let isolated = snap
        .networks
        .iter()
        .find(|n| n.name == "isolated")
        .expect("listed");
    assert!(!isolated.active, "{isolated:?}");

    // A preview is the backend's plan text; nothing changes.
    let def = demo.backend().load_def("isolated").expect("defined");
    let plan = demo
        .preview(&switchyard::model::format_network_xml(&def))
        .expect("a plan");
    assert!(plan.contains("bridge"), "{plan}");
}
