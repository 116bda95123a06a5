//! Parsing nft's listing, drift and legacy clean-up, on tables built in memory (the namespace
//! test `tests/firewall_ns.rs` checks the same against the kernel).

use serde_json::json;

use super::tests_json::{nat_full, net, routed};
use super::*;

fn lines(drift: &[FirewallDrift]) -> String {
    drift
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn table_of(nets: &[FirewallNet]) -> ObservedTable {
    expected_table(nets)
}

#[test]
fn an_intact_table_has_no_drift() {
    let nets = [nat_full(), routed()];
    let t = table_of(&nets);
    for n in &nets {
        assert_eq!(network_drift(n, Some(&t)), Vec::new());
    }
    assert_eq!(table_drift(&t, &nets), Vec::new());
}

#[test]
fn a_missing_table_is_one_line() {
    let drift = network_drift(&nat_full(), None);
    assert_eq!(drift, vec![FirewallDrift::TableMissing]);
    assert_eq!(drift[0].to_string(), "table inet switchyard is missing");
    let open = net("o", "sybr9", FirewallMode::Open, "10.9.0.1/24");
    assert!(network_drift(&open, None).is_empty());
}

#[test]
fn rule_level_drift_names_each_difference() {
    let n = nat_full();
    let mut t = table_of(std::slice::from_ref(&n));
    let nat = t.chains.get_mut("net_lab_nat").expect("nat chain");
    nat.rules.remove(2);
    let to = t.chains.get_mut("net_lab_to").expect("to chain");
    to.rules.insert(
        1,
        ObservedRule {
            handle: 99,
            expr: vec![json!({"accept": null})],
            comment: None,
        },
    );
    to.rules[3]
        .expr
        .push(json!({"counter": {"packets": 0, "bytes": 0}}));
    t.chains.remove("net_lab_in");
    t.maps.get_mut("fwd_from").expect("map").elements[0].data =
        json!({ "jump": { "target": "net_other_from" } });
    t.maps.get_mut("nat6").expect("map").elements.clear();
    let drift = network_drift(&n, Some(&t));
    // Typed: the removed chain and the foreign rule are told apart without reading words.
    assert!(drift.contains(&FirewallDrift::ChainMissing("net_lab_in".into())));
    assert!(drift.iter().any(|d| matches!(
        d,
        FirewallDrift::RuleForeign { chain, handle: 99, .. } if chain.name == "net_lab_to" && !chain.base
    )));
    insta::assert_snapshot!(lines(&drift));
}

#[test]
fn table_drift_names_foreign_and_orphaned_things() {
    let n = nat_full();
    let mut t = table_of(&[n.clone(), routed()]);
    let fwd = t.base.get_mut("base_forward").expect("base");
    fwd.rules.insert(
        0,
        ObservedRule {
            handle: 77,
            expr: vec![json!({"drop": null})],
            comment: None,
        },
    );
    t.base.remove("base_input");
    t.maps.get_mut("nat4").expect("nat4").flags.clear();
    t.maps.remove("input_if");
    if let Some(h) = t
        .base
        .get_mut("base_postrouting")
        .and_then(|c| c.hook.as_mut())
    {
        h.policy = "drop".into();
    }
    // `routed` is no longer active: its chains and elements are orphans.
    let drift = table_drift(&t, &[n]);
    assert!(drift.contains(&FirewallDrift::BaseChainMissing("base_input".into())));
    assert!(
        drift.iter().any(|d| matches!(
            d,
            FirewallDrift::ChainUnused { network: Some(owner), .. } if owner == "routed"
        )),
        "{drift:?}"
    );
    insta::assert_snapshot!(lines(&drift));
}

#[test]
fn listing_parses_into_kinds() {
    let json = r#"{"nftables":[{"metainfo":{"version":"1.0.6"}},
      {"table":{"family":"inet","name":"switchyard","handle":1}},
      {"map":{"family":"inet","name":"nat4","table":"switchyard","type":"ipv4_addr","handle":11,
        "map":"verdict","flags":["interval"],
        "elem":[[{"prefix":{"addr":"10.1.0.0","len":24}},{"jump":{"target":"net_lab_nat"}}]]}},
      {"map":{"family":"inet","name":"fwd_to","table":"switchyard","type":"ifname","handle":9,
        "map":"verdict","elem":[[{"elem":{"val":"sybr1","comment":"x"}},{"jump":{"target":"net_lab_to"}}]]}},
      {"chain":{"family":"inet","table":"switchyard","name":"base_input","handle":1,"type":"filter",
        "hook":"input","prio":0,"policy":"accept"}},
      {"chain":{"family":"inet","table":"switchyard","name":"forward","handle":2,"type":"filter",
        "hook":"forward","prio":0,"policy":"accept"}},
      {"chain":{"family":"inet","table":"switchyard","name":"net_lab_to","handle":5}},
      {"rule":{"family":"inet","table":"switchyard","chain":"forward","handle":3,"comment":"lab","expr":[]}},
      {"rule":{"family":"inet","table":"switchyard","chain":"net_lab_to","handle":4,
        "expr":[{"reject":{"type":"icmpx","expr":"port-unreachable"}}]}},
      {"rule":{"family":"inet","table":"other","chain":"net_lab_to","handle":4,"expr":[]}}]}"#;
    let t = parse_table(json).expect("parse");
    assert_eq!(t.base.keys().collect::<Vec<_>>(), ["base_input"]);
    assert_eq!(t.legacy["forward"].rules[0].comment.as_deref(), Some("lab"));
    assert_eq!(
        t.chains["net_lab_to"].rules.len(),
        1,
        "other tables are ignored"
    );
    assert_eq!(t.maps["nat4"].flags, ["interval"]);
    assert_eq!(t.maps["fwd_to"].elements[0].key, json!("sybr1"));
    assert_eq!(
        t.base["base_input"].hook.as_ref().map(|h| h.hook.as_str()),
        Some("input")
    );
    assert!(parse_table("{}").is_err());
    assert!(parse_table("not json").is_err());
}

fn legacy_table() -> ObservedTable {
    let rule = |handle, comment: &str| ObservedRule {
        handle,
        expr: vec![],
        comment: Some(comment.into()),
    };
    let mut t = ObservedTable::default();
    let chain = |rules| ObservedChain { hook: None, rules };
    t.legacy
        .insert("input".into(), chain(vec![rule(1, "a"), rule(2, "a")]));
    t.legacy.insert(
        "forward".into(),
        chain(vec![rule(3, "a"), rule(4, "b \"q\"")]),
    );
    t.legacy.insert("postrouting".into(), chain(vec![]));
    t
}

#[test]
fn legacy_rules_go_by_handle_and_chains_once_empty() {
    let t = legacy_table();
    let names: Vec<String> = legacy_networks(&t).into_iter().collect();
    assert_eq!(names, ["a", "b \"q\""]);
    insta::assert_snapshot!(describe(&remove_legacy(&t, "a")));
    assert_eq!(remove_legacy(&t, "nobody"), json!({ "nftables": [] }));
}
