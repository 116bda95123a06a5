//! Golden files of the JSON transactions, and the properties of chain names.

use proptest::prelude::*;
use serde_json::Value;

use super::layout::parse_chain_name;
use super::*;

pub(super) fn net(name: &str, bridge: &str, mode: FirewallMode, v4: &str) -> FirewallNet {
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

/// NAT with a device, IPv6 NAT, an SNAT range and a port range.
pub(super) fn nat_full() -> FirewallNet {
    let mut n = net("lab", "sybr1", FirewallMode::Nat, "10.1.0.1/24");
    n.forward_dev = Some("eth1".into());
    n.ipv6 = vec!["fd00:1::1/64".parse().expect("v6")];
    n.nat_ipv6 = true;
    n.nat_addresses = Some((
        "192.0.2.10".parse().expect("a"),
        "192.0.2.20".parse().expect("b"),
    ));
    n.nat_ports = (2000, 3000);
    n
}

pub(super) fn routed() -> FirewallNet {
    let mut n = net("routed", "sybr2", FirewallMode::Route, "10.2.0.1/24");
    n.forward_dev = Some("eth0".into());
    n.ipv6 = vec!["fd00:2::1/64".parse().expect("v6")];
    n
}

pub(super) const HOSTILE: &str = "x\"; } flush ruleset; { \"ü\u{1F4A3}\\n'";

/// Both transactions of `n`: nft-like text, then one compact JSON command per line.
fn golden(n: &FirewallNet) -> String {
    let mut out = String::new();
    for (title, doc) in [
        ("add_network", add_network(n)),
        ("remove_network", remove_network(n, false)),
    ] {
        out.push_str(&format!("## {title}\n{}\n", describe(&doc)));
        for cmd in doc["nftables"].as_array().into_iter().flatten() {
            out.push_str(&serde_json::to_string(cmd).expect("json"));
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

#[test]
fn nat_any_device() {
    let n = net("default", "sybr0", FirewallMode::Nat, "192.168.100.1/24");
    insta::assert_snapshot!(golden(&n));
}

#[test]
fn nat_with_device_ipv6_snat_and_ports() {
    insta::assert_snapshot!(golden(&nat_full()));
}

#[test]
fn nat_with_forwards() {
    let mut n = nat_full();
    let f = |proto: &str, port: &str, address: Option<&str>, to_port: &str| {
        crate::model::ResolvedForward {
            proto: proto.parse().expect("proto"),
            port: port.parse().expect("port"),
            address: address.map(|a| a.parse().expect("address")),
            to: "10.1.0.10".parse().expect("to"),
            to_port: to_port.parse().expect("to port"),
        }
    };
    n.forwards = vec![
        f("tcp", "8080", None, "80"),
        f("udp", "5000-5002", None, "5000-5002"),
        f("tcp", "9000-9002", Some("192.0.2.99"), "100-102"),
    ];
    insta::assert_snapshot!(golden(&n));
    let kept = replace_network(&n, &n);
    let deleted: Vec<&Value> = kept["nftables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["delete"].get("counter").is_some())
        .collect();
    assert!(
        deleted.is_empty(),
        "a kept forward keeps its counters: {deleted:?}"
    );
}

#[test]
fn route_with_ipv6() {
    insta::assert_snapshot!(golden(&routed()));
}

#[test]
fn isolated() {
    let n = net("iso", "sybr3", FirewallMode::Isolated, "10.3.0.1/24");
    insta::assert_snapshot!(golden(&n));
}

#[test]
fn open_needs_nothing() {
    let n = net("open", "sybr4", FirewallMode::Open, "10.4.0.1/24");
    let empty = serde_json::json!({ "nftables": [] });
    assert_eq!(add_network(&n), empty);
    assert_eq!(remove_network(&n, false), empty);
    assert_eq!(rule_count(&n), 0);
}

#[test]
fn hostile_name_is_data() {
    let n = net(HOSTILE, "sybr5", FirewallMode::Nat, "10.5.0.1/24");
    let doc = add_network(&n);
    let text = serde_json::to_string(&doc).expect("json");
    assert!(
        !text.contains("flush ruleset"),
        "the raw name never appears"
    );
    let encoded = crate::model::names::nft_component(HOSTILE);
    assert!(text.contains(&format!("net_{encoded}_to")));
    insta::assert_snapshot!(golden(&n));
}

#[test]
fn delete_table_deletes_only_the_table() {
    let doc = remove_network(&nat_full(), true);
    assert_eq!(
        describe(&doc),
        "add table inet switchyard\ndelete table inet switchyard\n"
    );
}

#[test]
fn rule_counts_follow_the_mode() {
    assert_eq!(rule_count(&nat_full()), 2 + 4 + 3 + 9);
    assert_eq!(rule_count(&routed()), 2 + 4 + 3);
    let iso = net("iso", "sybr3", FirewallMode::Isolated, "10.3.0.1/24");
    assert_eq!(rule_count(&iso), 2 + 2 + 1);
}

#[test]
fn records_round_trip_through_serde() {
    let n = nat_full();
    let text = serde_json::to_string(&n).expect("serialize");
    assert!(text.contains("\"mode\":\"nat\""), "{text}");
    let back: FirewallNet = serde_json::from_str(&text).expect("deserialize");
    assert_eq!(back, n);
}

#[test]
fn interface_names_nft_would_misread_fail_closed() {
    for bad in [
        "@fwd_to",
        "*",
        "eth*",
        "tcp",
        "redirect",
        "",
        "abcdefghijklmnop",
    ] {
        assert!(ifname_problem(bad).is_some(), "{bad:?}");
        let n = net("lab", bad, FirewallMode::Isolated, "10.3.0.1/24");
        let text = serde_json::to_string(&add_network(&n)).expect("json");
        let literal = serde_json::to_string(&Value::String(bad.into())).expect("json");
        assert!(
            !text.contains(&format!("\"right\":{literal}")),
            "{bad:?} reaches a match as a string"
        );
    }
    for good in ["sybr0", "ip", "br-lab.10", "a_b", "a\"b"] {
        assert_eq!(ifname_problem(good), None, "{good:?}");
    }
}

#[test]
fn tricky_names_never_share_a_chain() {
    // `a_in`'s encoding ends like a chain suffix; `a` plus suffix must still differ.
    let names = ["a", "a_in", "a_5fin", "a_to", "a_", "_", "net_a", "a-nat"];
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        for part in NetChain::ALL {
            let chain = chain_name(name, part);
            assert!(seen.insert(chain.clone()), "{chain} twice");
            assert_eq!(parse_chain_name(&chain), Some((name.to_owned(), part)));
        }
    }
}

proptest! {
    #[test]
    fn chain_names_are_injective(a in "\\PC{0,12}|[_a-f0-9]{0,6}", b in "\\PC{0,12}|[_a-f0-9]{0,6}") {
        for pa in NetChain::ALL {
            for pb in NetChain::ALL {
                let same = chain_name(&a, pa) == chain_name(&b, pb);
                prop_assert_eq!(same, a == b && pa == pb);
            }
            prop_assert_eq!(parse_chain_name(&chain_name(&a, pa)), Some((a.clone(), pa)));
        }
    }
}
