//! What the fake host contains: its networks, ports, leases and host interfaces, and how much
//! traffic each link carries.

use crate::telemetry::LinkCounters;
use crate::tui::data::{IfaceRow, LeaseRow, NetworkRow, PortRow};

use super::host::{FakeLink, FAKE_EPOCH_UNIX};

fn xml(name: &str, mode: &str, bridge: &str, ip: &str, dhcp: Option<(&str, &str)>) -> String {
    let forward = match mode {
        "isolated" => String::new(),
        m => format!("  <forward mode='{m}'/>\n"),
    };
    let dhcp = dhcp.map_or(String::new(), |(a, b)| {
        format!("    <dhcp>\n      <range start='{a}' end='{b}'/>\n    </dhcp>\n")
    });
    format!(
        "<network>\n  <name>{name}</name>\n{forward}  <bridge name='{bridge}' stp='on' delay='0'/>\n  \
         <ip address='{ip}' netmask='255.255.255.0'>\n{dhcp}  </ip>\n</network>\n"
    )
}

pub(super) fn fake_networks() -> Vec<NetworkRow> {
    let dhcp = |a: &str, b: &str| Some(format!("{a}–{b}"));
    vec![
        NetworkRow {
            name: "default".into(),
            active: true,
            autostart: true,
            mode: "nat".into(),
            bridge: Some("virbr0".into()),
            ipv4: Some("192.168.122.1/24".into()),
            ipv6: None,
            dhcp: dhcp("192.168.122.2", "192.168.122.254"),
            drift: vec![],
            dnsmasq_pid: Some(1234),
            firewall_rules: 7,
            xml: xml(
                "default",
                "nat",
                "virbr0",
                "192.168.122.1",
                Some(("192.168.122.2", "192.168.122.254")),
            ),
            error: None,
            taints: Vec::new(),
            warnings: Vec::new(),
        },
        NetworkRow {
            name: "routed".into(),
            active: true,
            autostart: false,
            mode: "route".into(),
            bridge: Some("virbr1".into()),
            ipv4: Some("10.10.0.1/24".into()),
            ipv6: Some("fd00:10::1/64".into()),
            dhcp: dhcp("10.10.0.100", "10.10.0.199"),
            drift: vec!["dnsmasq is not running".into()],
            dnsmasq_pid: None,
            firewall_rules: 4,
            xml: xml(
                "routed",
                "route",
                "virbr1",
                "10.10.0.1",
                Some(("10.10.0.100", "10.10.0.199")),
            ),
            error: None,
            taints: Vec::new(),
            warnings: Vec::new(),
        },
        NetworkRow {
            name: "isolated".into(),
            active: false,
            autostart: false,
            mode: "isolated".into(),
            bridge: Some("virbr2".into()),
            ipv4: Some("172.16.5.1/24".into()),
            ipv6: None,
            dhcp: None,
            drift: vec![],
            dnsmasq_pid: None,
            firewall_rules: 0,
            xml: xml("isolated", "isolated", "virbr2", "172.16.5.1", None),
            error: None,
            taints: Vec::new(),
            warnings: Vec::new(),
        },
    ]
}

#[allow(clippy::too_many_arguments)]
fn port(
    ifindex: u32,
    ifname: &str,
    kind: &str,
    bridge: Option<&str>,
    network: Option<&str>,
    mac: &str,
    guest: Option<&str>,
    ip: Option<&str>,
) -> PortRow {
    PortRow {
        ifindex,
        ifname: ifname.into(),
        kind: kind.into(),
        bridge: bridge.map(Into::into),
        network: network.map(Into::into),
        mac: Some(mac.into()),
        mtu: 1500,
        up: true,
        guest: guest.map(Into::into),
        ip: ip.map(Into::into),
        counters: LinkCounters::default(),
    }
}

pub(super) fn fake_ports() -> Vec<(PortRow, FakeLink)> {
    let (v0, v1) = (Some("virbr0"), Some("virbr1"));
    let (def, rtd) = (Some("default"), Some("routed"));
    vec![
        (
            port(
                10,
                "vnet0",
                "tap",
                v0,
                def,
                "52:54:00:6b:3c:01",
                Some("web01"),
                Some("192.168.122.10"),
            ),
            FakeLink::new(250_000, 1_200_000, 0),
        ),
        (
            port(
                11,
                "vnet1",
                "tap",
                v0,
                def,
                "52:54:00:6b:3c:02",
                Some("db01"),
                Some("192.168.122.11"),
            ),
            FakeLink::new(40_000, 80_000, 5),
        ),
        (
            port(
                12,
                "vnet2",
                "tap",
                v1,
                rtd,
                "52:54:00:a1:07:03",
                Some("build01"),
                None,
            ),
            FakeLink::new(5_000, 3_000, 0),
        ),
        (
            port(
                13,
                "veth-ci0",
                "veth",
                v1,
                rtd,
                "02:5e:1c:00:00:04",
                Some("ci-runner"),
                Some("10.10.0.120"),
            ),
            FakeLink::new(600_000, 30_000, 0),
        ),
        (
            port(
                14,
                "macvtap0",
                "macvtap",
                None,
                None,
                "52:54:00:c4:19:05",
                Some("nas01"),
                None,
            ),
            FakeLink::new(2_000_000, 150_000, 0),
        ),
        (
            port(
                15,
                "veth3f9a2c1",
                "veth",
                Some("docker0"),
                None,
                "a2:11:5f:3e:90:06",
                None,
                None,
            ),
            FakeLink::new(1_000, 1_000, 0),
        ),
    ]
}

pub(super) fn fake_leases(networks: &[NetworkRow]) -> Vec<LeaseRow> {
    let lease =
        |net: &str, mac: &str, ip: &str, host: Option<&str>, expiry: Option<u64>| LeaseRow {
            network: net.into(),
            mac: Some(mac.into()),
            ip: ip.into(),
            hostname: host.map(Into::into),
            expiry,
        };
    let fixed = FAKE_EPOCH_UNIX;
    let all = vec![
        lease(
            "default",
            "52:54:00:6b:3c:01",
            "192.168.122.10",
            Some("web01"),
            Some(fixed + 3_540),
        ),
        lease(
            "default",
            "52:54:00:6b:3c:02",
            "192.168.122.11",
            Some("db01"),
            Some(fixed + 1_805),
        ),
        lease(
            "default",
            "52:54:00:6b:3c:7f",
            "192.168.122.57",
            None,
            Some(fixed + 95),
        ),
        lease(
            "routed",
            "02:5e:1c:00:00:04",
            "10.10.0.120",
            Some("ci-runner"),
            None,
        ),
    ];
    all.into_iter()
        .filter(|l| networks.iter().any(|n| n.name == l.network && n.active))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn iface(
    ifindex: u32,
    ifname: &str,
    kind: &str,
    mac: &str,
    mtu: u32,
    addrs: &[&str],
    master: Option<&str>,
) -> IfaceRow {
    IfaceRow {
        ifindex,
        ifname: ifname.into(),
        kind: kind.into(),
        mac: Some(mac.into()),
        mtu,
        up: true,
        addrs: addrs.iter().map(|a| a.to_string()).collect(),
        master: master.map(Into::into),
        counters: LinkCounters::default(),
    }
}

pub(super) fn fake_ifaces() -> Vec<(IfaceRow, FakeLink)> {
    vec![
        (
            iface(
                2,
                "eth0",
                "physical",
                "3c:ec:ef:10:00:01",
                1500,
                &["198.51.100.10/24", "2001:db8:1::10/64"],
                None,
            ),
            FakeLink::new(120_000, 60_000, 0),
        ),
        (
            iface(
                3,
                "eth1",
                "physical",
                "3c:ec:ef:10:00:02",
                9000,
                &[],
                Some("bond0"),
            ),
            FakeLink::new(3_000_000, 1_800_000, 0),
        ),
        (
            iface(
                4,
                "bond0",
                "bond",
                "3c:ec:ef:10:00:02",
                9000,
                &[],
                Some("br0"),
            ),
            FakeLink::new(3_000_000, 1_800_000, 0),
        ),
        (
            iface(
                5,
                "br0",
                "bridge",
                "3c:ec:ef:10:00:02",
                9000,
                &["203.0.113.5/24"],
                None,
            ),
            FakeLink::new(2_900_000, 1_750_000, 0),
        ),
        (
            iface(
                6,
                "eth1.100",
                "vlan",
                "3c:ec:ef:10:00:02",
                1500,
                &["10.100.0.2/24"],
                None,
            ),
            FakeLink::new(80_000, 20_000, 0),
        ),
    ]
}
