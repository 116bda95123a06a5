//! The JSON firewall layer against the real kernel and nft, each test inside a throwaway
//! network namespace: what we load is what nft lists back, rule by rule; loading is
//! idempotent and repairs; removing one network leaves the others alone; the previous
//! release's rules are found and removed by handle.

mod support;

#[path = "firewall_ns/traffic.rs"]
mod traffic;

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use support::{require_tool, run_ok, stdout, TestNetns};
use switchyard::host::nft;
use switchyard::model::{Proto, ResolvedForward};
use switchyard::plan::firewall::{
    add_network, chain_name, ifname_problem, join_network, legacy_networks, network_drift,
    parse_table, remove_legacy, remove_network, repair_network, table_drift, FirewallDrift,
    FirewallMode, FirewallNet, NetChain, ObservedTable,
};

const HOSTILE: &str = "x\"; } flush ruleset; { \"ü\u{1F4A3}\\n'";

/// A namespace with nft available and bridges `sybr1`..`sybr3`, or `None` to skip.
fn namespace(tag: &str) -> Option<TestNetns> {
    let ns = TestNetns::new(tag)?;
    if !require_tool("nft") {
        return None;
    }
    for br in ["sybr1", "sybr2", "sybr3"] {
        ns.ip(&["link", "add", br, "type", "bridge"]);
    }
    Some(ns)
}

fn base(name: &str, bridge: &str, mode: FirewallMode, v4: &str) -> FirewallNet {
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

/// NAT through a device, IPv6 NAT, an SNAT range and a port range.
fn lab() -> FirewallNet {
    let mut n = base("lab", "sybr1", FirewallMode::Nat, "10.1.0.1/24");
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

/// Routed, with IPv6, without DHCP.
fn web() -> FirewallNet {
    let mut n = base("web", "sybr2", FirewallMode::Route, "10.2.0.1/24");
    n.ipv6 = vec!["fd00:2::1/64".parse().expect("v6")];
    n.serves_dhcp_dns = false;
    n
}

/// A hostile name; a single host as subnet, one SNAT address, one port; IPv6 left routed.
fn odd() -> FirewallNet {
    let mut n = base(HOSTILE, "sybr3", FirewallMode::Nat, "10.3.0.7/32");
    n.ipv6 = vec!["fd00:3::1/128".parse().expect("v6")];
    n.nat_addresses = Some((
        "192.0.2.30".parse().expect("a"),
        "192.0.2.30".parse().expect("a"),
    ));
    n.nat_ports = (4000, 4000);
    n.forwards = forwards("10.3.0.7");
    n
}

/// A forward of each shape: one port moved, a range kept, a range moved, one host address.
fn forwards(to: &str) -> Vec<ResolvedForward> {
    let f = |proto: Proto, port: &str, address: Option<&str>, to_port: &str| ResolvedForward {
        proto,
        port: port.parse().expect("port"),
        address: address.map(|a| a.parse().expect("address")),
        to: to.parse().expect("to"),
        to_port: to_port.parse().expect("to port"),
    };
    vec![
        f(Proto::Tcp, "8080", None, "80"),
        f(Proto::Udp, "5000-5002", None, "5000-5002"),
        f(Proto::Tcp, "9000-9002", Some("192.0.2.99"), "100-102"),
    ]
}

fn load(ns: &TestNetns, doc: &Value) {
    ns.run(|| nft::load_json(doc))
        .expect("enter namespace")
        .unwrap_or_else(|e| panic!("{e}\n{}", switchyard::plan::firewall::describe(doc)));
}

fn listing(ns: &TestNetns) -> Option<String> {
    ns.run(nft::list_table)
        .expect("enter namespace")
        .expect("nft list")
}

fn observe(ns: &TestNetns) -> ObservedTable {
    parse_table(&listing(ns).expect("table exists")).expect("parse listing")
}

/// `nft ARGS…` inside the namespace, by hand (as someone else would).
fn nft_by_hand(ns: &TestNetns, args: &[&str]) -> String {
    let mut full = vec!["netns", "exec", ns.name(), "nft"];
    full.extend_from_slice(args);
    stdout(&run_ok("ip", &full))
}

/// The listing without handles (they change when rules are re-added) and without metainfo.
fn normalized(ns: &TestNetns) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(obj) => {
                obj.remove("handle");
                obj.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut doc: Value = serde_json::from_str(&listing(ns).expect("table")).expect("json");
    strip(&mut doc);
    if let Some(items) = doc["nftables"].as_array_mut() {
        items.retain(|i| i.get("metainfo").is_none());
    }
    doc
}

/// The rules a document adds, by chain, and the elements it adds, by map.
fn loaded(doc: &Value) -> (BTreeMap<String, Vec<Value>>, BTreeMap<String, Vec<Value>>) {
    let (mut rules, mut elems) = (BTreeMap::new(), BTreeMap::new());
    for cmd in doc["nftables"].as_array().into_iter().flatten() {
        if let Some(r) = cmd.pointer("/add/rule") {
            let chain = r["chain"].as_str().expect("chain").to_owned();
            rules
                .entry(chain)
                .or_insert_with(Vec::new)
                .push(r["expr"].clone());
        }
        if let Some(e) = cmd.pointer("/add/element") {
            let map = e["name"].as_str().expect("map").to_owned();
            let list = elems.entry(map).or_insert_with(Vec::new);
            list.extend(e["elem"].as_array().expect("elem").iter().cloned());
        }
    }
    (rules, elems)
}

/// Every rule and element `net`'s document loads is listed back exactly as loaded.
fn assert_listed_as_loaded(net: &FirewallNet, t: &ObservedTable) {
    let (rules, elems) = loaded(&add_network(net));
    for (chain, want) in rules {
        let seen: Vec<Value> = t
            .chain(&chain)
            .expect("chain listed")
            .rules
            .iter()
            .map(|r| Value::Array(r.expr.clone()))
            .collect();
        assert_eq!(seen, want, "rules of {chain}");
    }
    for (map, want) in elems {
        let seen: Vec<Value> = t.maps[&map]
            .elements
            .iter()
            .map(|e| Value::Array(vec![e.key.clone(), e.data.clone()]))
            .collect();
        for el in want {
            assert!(seen.contains(&el), "{map} lacks {el} (has {seen:?})");
        }
    }
}

fn assert_no_drift(t: &ObservedTable, active: &[FirewallNet]) {
    for n in active {
        assert_eq!(network_drift(n, Some(t)), Vec::new(), "{}", n.name);
    }
    assert_eq!(table_drift(t, active), Vec::new());
}

#[test]
fn loads_lists_repairs_and_removes() {
    let Some(ns) = namespace("fwjs") else {
        return;
    };
    let nets = [lab(), web(), odd()];
    nets.iter().for_each(|n| load(&ns, &add_network(n)));
    let t = observe(&ns);
    nets.iter().for_each(|n| assert_listed_as_loaded(n, &t));
    assert_no_drift(&t, &nets);
    let original = normalized(&ns);

    load(&ns, &add_network(&lab()));
    assert_eq!(normalized(&ns), original, "adding again changes nothing");

    tamper(&ns);
    let t = observe(&ns);
    let drift = network_drift(&lab(), Some(&t));
    assert!(
        drift.iter().any(|d| matches!(
            d,
            FirewallDrift::RuleMissing { chain, position: 3, .. } if chain.name == "net_lab_nat"
        )),
        "{drift:?}"
    );
    assert!(
        drift.iter().any(|d| matches!(
            d,
            FirewallDrift::RuleForeign { chain, .. } if chain.name == "net_lab_to"
        )),
        "{drift:?}"
    );
    let drift = table_drift(&t, &nets);
    assert!(
        drift.iter().any(|d| matches!(
            d,
            FirewallDrift::RuleForeign { chain, .. } if chain.base && chain.name == "base_forward"
        )),
        "{drift:?}"
    );

    load(&ns, &add_network(&lab()));
    assert_no_drift(&observe(&ns), &nets);
    assert_eq!(
        normalized(&ns),
        original,
        "repaired to the original listing"
    );

    removes_one_leaving_the_others(&ns);
}

/// A network joining a table whose shared chains are ready ends with the same listing as one
/// loaded with the whole table, and a join with no table fails (so the step falls back).
#[test]
fn joining_a_ready_table_lists_the_same_as_a_full_load() {
    let Some(ns) = namespace("fwjoin") else {
        return;
    };
    let err = ns
        .run(|| nft::load_json(&join_network(&web())))
        .expect("enter");
    assert!(err.is_err(), "a join with no table must fail");
    assert!(listing(&ns).is_none(), "the failed join left nothing");
    load(&ns, &add_network(&lab()));
    load(&ns, &add_network(&web()));
    let full = normalized(&ns);
    load(&ns, &remove_network(&web(), false));
    load(&ns, &join_network(&web()));
    assert_eq!(normalized(&ns), full);
    assert_no_drift(&observe(&ns), &[lab(), web()]);
}

/// Deletes a rule of `net_lab_nat`, plants rules in `net_lab_to` and `base_forward`.
fn tamper(ns: &TestNetns) {
    let t = observe(ns);
    let handle = t.chains["net_lab_nat"].rules[2].handle.to_string();
    let table = ["inet", "switchyard"];
    nft_by_hand(
        ns,
        &[
            "delete",
            "rule",
            table[0],
            table[1],
            "net_lab_nat",
            "handle",
            &handle,
        ],
    );
    nft_by_hand(
        ns,
        &[
            "add",
            "rule",
            table[0],
            table[1],
            "net_lab_to",
            "tcp",
            "dport",
            "22",
            "accept",
        ],
    );
    nft_by_hand(
        ns,
        &[
            "insert",
            "rule",
            table[0],
            table[1],
            "base_forward",
            "meta",
            "l4proto",
            "icmp",
            "accept",
        ],
    );
}

fn removes_one_leaving_the_others(ns: &TestNetns) {
    let before = observe(ns);
    load(ns, &remove_network(&web(), false));
    let after = observe(ns);
    for name in [
        chain_name("lab", NetChain::To),
        chain_name(HOSTILE, NetChain::Nat),
    ] {
        assert_eq!(
            after.chains[&name], before.chains[&name],
            "{name} untouched"
        );
    }
    assert!(!after.chains.keys().any(|c| c.starts_with("net_web_")));
    assert_no_drift(&after, &[lab(), odd()]);
    load(ns, &remove_network(&web(), false));
    assert_eq!(observe(ns), after, "removing again is a no-op");

    load(ns, &remove_network(&odd(), false));
    load(ns, &remove_network(&lab(), true));
    assert_eq!(listing(ns), None);
    assert_eq!(nft_by_hand(ns, &["list", "ruleset"]).trim(), "");
}

#[test]
fn removing_what_was_never_loaded_succeeds() {
    let Some(ns) = namespace("fwabs") else {
        return;
    };
    load(&ns, &remove_network(&lab(), false));
    let t = observe(&ns);
    assert!(t.chains.is_empty() && t.maps.values().all(|m| m.elements.is_empty()));
    load(&ns, &remove_network(&lab(), true));
    load(&ns, &remove_network(&lab(), true));
    assert_eq!(listing(&ns), None);
}

#[test]
fn an_element_pointing_elsewhere_is_named_and_repaired() {
    let Some(ns) = namespace("fwel") else {
        return;
    };
    load(&ns, &add_network(&lab()));
    load(&ns, &add_network(&web()));
    let (ws, we) = ("inet", "switchyard");
    nft_by_hand(
        &ns,
        &["delete", "element", ws, we, "fwd_to", "{", "sybr1", "}"],
    );
    nft_by_hand(
        &ns,
        &[
            "add",
            "element",
            ws,
            we,
            "fwd_to",
            "{",
            "sybr1",
            ":",
            "jump",
            "net_web_to",
            "}",
        ],
    );
    let t = observe(&ns);
    let drift: Vec<String> = network_drift(&lab(), Some(&t))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        drift,
        ["map fwd_to holds \"sybr1\" : jump net_web_to instead of \"sybr1\" : jump net_lab_to"]
    );
    let err = ns
        .run(|| nft::load_json(&add_network(&lab())))
        .expect("enter");
    let err = err.expect_err("a clashing element makes add fail");
    assert!(err.to_string().contains("File exists"), "{err}");
    load(&ns, &repair_network(&lab(), &t));
    assert_no_drift(&observe(&ns), &[lab(), web()]);
}

/// The previous release's golden script for `routed` and `iso`, as text.
fn legacy_script() -> String {
    let snap = include_str!(
        "../src/plan/firewall/snapshots/switchyard__plan__firewall__tests__route_isolated_open_together.snap"
    );
    snap.splitn(3, "---\n")
        .nth(2)
        .expect("snapshot body")
        .to_owned()
}

#[test]
fn legacy_rules_are_found_and_removed_by_network() {
    let Some(ns) = namespace("fwleg") else {
        return;
    };
    let script = legacy_script();
    ns.run(|| nft::load(&script))
        .expect("enter")
        .expect("load legacy script");
    load(&ns, &add_network(&lab()));
    let t = observe(&ns);
    let names: Vec<String> = legacy_networks(&t).into_iter().collect();
    assert_eq!(names, ["iso", "routed"]);
    let count = |t: &ObservedTable, who: &str| {
        t.legacy
            .values()
            .flat_map(|c| &c.rules)
            .filter(|r| r.comment.as_deref() == Some(who))
            .count()
    };
    let iso_rules = count(&t, "iso");

    load(&ns, &remove_legacy(&t, "routed"));
    let t = observe(&ns);
    assert_eq!(count(&t, "routed"), 0);
    assert_eq!(count(&t, "iso"), iso_rules, "other networks' rules stay");
    assert!(
        !t.legacy.contains_key("postrouting"),
        "an emptied chain goes"
    );
    assert!(t.legacy.contains_key("forward"));
    assert_no_drift(&t, &[lab()]);

    load(&ns, &remove_legacy(&t, "iso"));
    let t = observe(&ns);
    assert!(t.legacy.is_empty(), "{:?}", t.legacy.keys());
    assert_no_drift(&t, &[lab()]);
}

/// A network of arbitrary name, bridge and forward device (interface names from the alphabet
/// validation allows, minus the words nft reads as constants).
fn arbitrary_net() -> impl Strategy<Value = FirewallNet> {
    let name = "\\PC{0,24}|[\\x00-\\x7f]{0,40}".prop_filter("at most 64 bytes", |n| n.len() <= 64);
    let ifname =
        "[A-Za-z0-9_.-]{1,15}".prop_filter("representable", |i| ifname_problem(i).is_none());
    let mode = prop_oneof![
        Just(FirewallMode::Nat),
        Just(FirewallMode::Route),
        Just(FirewallMode::Isolated)
    ];
    (
        name,
        ifname.clone(),
        proptest::option::of(ifname),
        mode,
        any::<bool>(),
    )
        .prop_map(|(name, bridge, dev, mode, nat_ipv6)| {
            let mut n = base(&name, &bridge, mode, "10.9.0.1/24");
            n.ipv6 = vec!["fd00:9::1/64".parse().expect("v6")];
            n.forward_dev = dev;
            n.nat_ipv6 = nat_ipv6;
            n
        })
}

#[test]
fn arbitrary_names_make_documents_nft_accepts() {
    let Some(ns) = namespace("fwprop") else {
        return;
    };
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    let result = runner.run(&arbitrary_net(), |net| {
        let add = add_network(&net);
        let prefix = format!(
            "net_{}_",
            switchyard::model::names::nft_component(&net.name)
        );
        for cmd in add["nftables"].as_array().into_iter().flatten() {
            if let Some(chain) = cmd.pointer("/add/chain/name").and_then(Value::as_str) {
                prop_assert!(
                    chain.starts_with("base_") || chain.starts_with(&prefix),
                    "{}",
                    chain
                );
            }
        }
        for doc in [add, remove_network(&net, false)] {
            let checked = ns.run(|| nft::check_json(&doc)).expect("enter namespace");
            prop_assert!(checked.is_ok(), "{:?} for {:?}", checked, net);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn an_interface_name_nft_would_misread_fails_to_load() {
    let Some(ns) = namespace("fwbad") else {
        return;
    };
    load(&ns, &add_network(&lab()));
    let mut bad = web();
    bad.bridge = "@fwd_to".into();
    let err = ns
        .run(|| nft::load_json(&add_network(&bad)))
        .expect("enter");
    let err = err.expect_err("a set reference in disguise is refused");
    assert!(err.to_string().contains("cannot match literally"), "{err}");
    assert_no_drift(&observe(&ns), &[lab()]);
}
