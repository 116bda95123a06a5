use super::*;

fn net(name: &str, bridge: &str, mode: FirewallMode, v4: &str) -> FirewallNet {
    FirewallNet {
        name: name.into(),
        bridge: bridge.into(),
        mode,
        ipv4: vec![v4.parse().expect("v4")],
        ipv6: vec![],
        forward_dev: None,
        nat_ipv6: false,
        nat_addresses: None,
        nat_ports: (1024, 65535),
        serves_dhcp_dns: true,
        forwards: vec![],
    }
}

#[test]
fn nat_any_device() {
    let n = net("default", "sybr0", FirewallMode::Nat, "192.168.100.1/24");
    insta::assert_snapshot!(render_table(&[n]));
}

#[test]
fn nat_with_device_ipv6_and_address_range() {
    let mut n = net("lab", "sybr1", FirewallMode::Nat, "10.1.0.1/24");
    n.forward_dev = Some("eth1".into());
    n.ipv6 = vec!["fd00:1::1/64".parse().expect("v6")];
    n.nat_ipv6 = true;
    n.nat_addresses = Some((
        "192.0.2.10".parse().expect("a"),
        "192.0.2.20".parse().expect("b"),
    ));
    n.nat_ports = (2000, 3000);
    insta::assert_snapshot!(render_table(&[n]));
}

#[test]
fn route_isolated_open_together() {
    let mut routed = net("routed", "sybr2", FirewallMode::Route, "10.2.0.1/24");
    routed.forward_dev = Some("eth0".into());
    routed.ipv6 = vec!["fd00:2::1/64".parse().expect("v6")];
    let isolated = net("iso", "sybr3", FirewallMode::Isolated, "10.3.0.1/24");
    let open = net("open", "sybr4", FirewallMode::Open, "10.4.0.1/24");
    let script = render_table(&[routed, isolated, open]);
    assert!(!script.contains("sybr4"), "open networks get no rules");
    insta::assert_snapshot!(script);
}

#[test]
fn nothing_left_deletes_the_table() {
    let open = net("open", "sybr4", FirewallMode::Open, "10.4.0.1/24");
    assert_eq!(render_table(&[open]), render_delete());
    assert_eq!(render_table(&[]), render_delete());
}
