//! The simulated host (`--demo`, the TUI tests): what it shows comes from the real backend and
//! the real live views over the fake kernel, and is the same on every run.

use std::net::IpAddr;

use switchyard::live::demo::series;
use switchyard::tui::data::{Drift, PortRow};

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
        net("routed")
            .drift
            .iter()
            .any(|d| matches!(d, Drift::DnsmasqDown)),
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
    let ip = |text: &str| Some(text.parse::<IpAddr>().expect("address"));
    assert_eq!(port("vnet0").ip, ip("192.168.122.4"));
    assert_eq!(port("veth-ci0").ip, ip("10.10.0.120"));
    assert_eq!(
        port("vnet0").mac.map(|m| m.to_string()).as_deref(),
        Some("52:54:00:6b:3c:01")
    );
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
    let tx = |p: &PortRow| p.counters.expect("counted").tx_bytes;
    assert!(tx(port("vnet0")) > tx(first));
    let br0 = last.ifaces.iter().find(|i| i.ifname == "br0").expect("br0");
    assert!(
        br0.counters.expect("counted").rx_bytes > 0,
        "a bridge carries its ports' traffic"
    );

    let leases: Vec<(&str, IpAddr)> = last
        .leases
        .iter()
        .map(|l| (l.network.as_str(), l.ip))
        .collect();
    assert!(
        leases.contains(&("default", "192.168.122.4".parse().expect("address"))),
        "{leases:?}"
    );

    // Each host subnet once, as typed values.
    let mut taken = last.taken_subnets.clone();
    taken.dedup();
    assert_eq!(taken, last.taken_subnets, "sorted and listed once");
    assert!(!taken.is_empty());

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

/// A macvtap made by `attach` on a macvtap network belongs to that network in Ports, whether
/// or not the network was started.
#[test]
fn an_attached_macvtap_shows_its_network() {
    use switchyard::live::demo::Demo;
    use switchyard::tui::data::Command;

    let mut demo = Demo::new();
    let xml = "<network><name>direct</name><forward mode='vepa'><interface dev='eth1.100'/></forward></network>";
    let (_, r) = demo.execute(
        1,
        Command::CreateNetwork {
            xml: xml.into(),
            autostart: false,
            start: false,
        },
    );
    assert!(r.ok, "{}", r.message);
    let (_, r) = demo.execute(
        2,
        Command::Attach {
            network: "direct".into(),
            name: Some("mvt-web".into()),
            mac: None,
        },
    );
    assert!(r.ok, "{}", r.message);
    let snap = demo.snapshot();
    let port = snap
        .ports
        .iter()
        .find(|p| p.ifname == "mvt-web")
        .unwrap_or_else(|| panic!("listed: {:?}", snap.ports));
    assert_eq!(port.network.as_deref(), Some("direct"), "{port:?}");
    let row = snap
        .networks
        .iter()
        .find(|n| n.name == "direct")
        .expect("listed");
    assert!(!row.active, "never started");
    assert_eq!(row.attachments, 1, "but in use: the Networks view says so");
}

#[test]
fn the_demo_forwards_show_their_guests_counters_and_hit_rates() {
    let snaps = series(3);
    let first = &snaps[0];
    assert_eq!(first.forwards.len(), 2, "{:?}", first.forwards);
    assert!(
        first.forwards.iter().all(|f| f.hit_rate.is_none()),
        "one reading is no rate"
    );
    let last = snaps.last().expect("snapshots");
    let web = last
        .forwards
        .iter()
        .find(|f| f.forward.port.first == 8080)
        .expect("the web forward");
    assert!(web.active);
    assert_eq!(web.network, "default");
    assert_eq!(web.guest.as_deref(), Some("web01"), "named by its lease");
    assert_eq!(
        web.to.map(|a| a.to_string()).as_deref(),
        Some("192.168.122.4")
    );
    // Counters are read every 2 s: the snapshots at 0 s and 2 s are two readings.
    let rate = web.hit_rate.expect("a rate after two readings");
    assert!((rate - 3.5).abs() < 0.6, "{rate}");
    assert!(web.hits.is_some_and(|h| h > 0) && web.bytes.is_some_and(|b| b > 0));
    let db = last
        .forwards
        .iter()
        .find(|f| f.forward.port.first == 2222)
        .expect("the ssh forward");
    assert_eq!(db.guest.as_deref(), Some("db01"));
}

#[test]
fn the_simulated_host_keys_its_links_in_one_made_up_namespace() {
    use switchyard::host::fake::FAKE_NETNS_ID;
    let snaps = series(1);
    let last = snaps.last().expect("snapshots");
    assert!(!last.ports.is_empty() && !last.ifaces.is_empty());
    assert!(last.ports.iter().all(|p| p.netns == FAKE_NETNS_ID));
    assert!(last.ifaces.iter().all(|i| i.netns == FAKE_NETNS_ID));
    assert_eq!(series(1)[1].ports, last.ports, "the same on every run");
}
