use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::model::parse_network_xml;
use crate::state::{AddrInfo, BridgeAttrs, LinkInfo};

const NAT: &str = "<network><name>lab</name><forward mode='nat'/>\
    <bridge name='sybr0' stp='off' delay='0'/><mac address='52:54:00:00:00:01'/>\
    <ip address='192.168.100.1' prefix='24'><dhcp><range start='192.168.100.2' end='192.168.100.254'/></dhcp></ip>\
    </network>";

fn paths() -> DnsmasqPaths {
    DnsmasqPaths::new(Path::new("/run/sy"), Path::new("/var/lib/sy"), "lab")
}

fn bridge_link(name: &str, up: bool) -> LinkInfo {
    LinkInfo {
        ifindex: 7,
        name: name.into(),
        kind: LinkKind::Bridge,
        master: None,
        parent: None,
        mac: None,
        mtu: 1500,
        admin_up: up,
        oper_state: "up".into(),
        stats: None,
        macvtap_mode: None,
        bridge: Some(BridgeAttrs {
            stp: false,
            forward_delay_cs: 0,
        }),
        peer_netnsid: None,
    }
}

fn observed<'a>(host: &'a HostState, fw: Option<&'a ObservedTable>, dnsmasq: bool) -> Observed<'a> {
    Observed {
        own_bridge: None,
        host,
        firewall: fw,
        other_firewall: &[],
        dnsmasq_running: dnsmasq,
        ipv4_forward: Some(false),
        ipv6_forward: Some(false),
    }
}

#[test]
fn nat_start_on_an_empty_host() {
    let def = parse_network_xml(NAT).expect("parses");
    let host = HostState::default();
    let plan = plan_start(&def, &observed(&host, None, false), &paths()).expect("plan");
    insta::assert_snapshot!(plan.to_string());
}

#[test]
fn repair_plans_only_what_is_missing() {
    let def = parse_network_xml(NAT).expect("parses");
    let mut host = HostState::default();
    host.links.push(bridge_link("sybr0", true));
    host.addrs.push(AddrInfo {
        ifindex: 7,
        net: "192.168.100.1/24".parse().expect("net"),
    });
    let entry = firewall_net(&def, "sybr0").expect("nat has rules");
    let table = crate::plan::firewall::expected_table(&[entry]);
    let mut obs = observed(&host, Some(&table), false);
    obs.ipv4_forward = Some(true);
    obs.own_bridge = Some(7);
    let plan = plan_start(&def, &obs, &paths()).expect("plan");
    let kinds: Vec<&str> = plan.steps.iter().map(Step::kind).collect();
    assert_eq!(
        kinds,
        ["write-file", "write-file", "write-file", "start-dnsmasq"]
    );
    assert_eq!(detect_drift(&def, &obs), ["dnsmasq is not running"]);
}

#[test]
fn a_non_bridge_in_the_way_is_refused() {
    let def = parse_network_xml(NAT).expect("parses");
    let mut host = HostState::default();
    let mut link = bridge_link("sybr0", true);
    link.kind = LinkKind::Veth;
    host.links.push(link);
    let err = plan_start(&def, &observed(&host, None, false), &paths()).expect_err("refused");
    assert_eq!(err, PlanError::NotABridge("sybr0".into()));
}

#[test]
fn a_bridge_this_network_did_not_create_is_never_taken_over() {
    let def = parse_network_xml(NAT).expect("parses");
    let mut host = HostState::default();
    host.links.push(bridge_link("sybr0", true));
    let mut obs = observed(&host, None, false);
    for own in [None, Some(8)] {
        obs.own_bridge = own;
        let err = plan_start(&def, &obs, &paths()).expect_err("refused");
        let text = err.to_string();
        assert!(
            text.contains("sybr0 already exists and was not created by this network"),
            "{text}"
        );
    }
    obs.own_bridge = Some(7);
    plan_start(&def, &obs, &paths()).expect("our own bridge is repaired");
}

#[test]
fn a_subnet_in_use_on_the_host_is_refused_naming_the_interface() {
    let def = parse_network_xml(NAT).expect("parses");
    let mut host = HostState::default();
    let mut eth = bridge_link("eth0", true);
    eth.ifindex = 2;
    eth.kind = LinkKind::Physical;
    host.links.push(eth);
    host.addrs.push(AddrInfo {
        ifindex: 2,
        net: "192.168.100.77/16".parse().expect("net"),
    });
    host.routes.push(crate::state::RouteInfo {
        dest: "192.168.0.0/16".parse().expect("net"),
        gateway: None,
        oif: Some(2),
        table: 254,
        protocol: 2,
    });
    host.routes.push(crate::state::RouteInfo {
        dest: "192.168.100.128/25".parse().expect("net"),
        gateway: Some("192.168.0.1".parse().expect("gw")),
        oif: Some(2),
        table: 254,
        protocol: 4,
    });
    let err = plan_start(&def, &observed(&host, None, false), &paths()).expect_err("refused");
    let PlanError::HostConflict { conflicts, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        conflicts,
        [
            "subnet 192.168.100.0/24 overlaps address 192.168.100.77/16 on eth0",
            "subnet 192.168.100.0/24 overlaps route 192.168.100.128/25 on eth0",
        ]
    );
}

#[test]
fn stop_undoes_start_but_keeps_what_others_need() {
    let def = parse_network_xml(NAT).expect("parses");
    let empty = HostState::default();
    let started = plan_start(&def, &observed(&empty, None, false), &paths()).expect("plan");
    let mut host = HostState::default();
    host.links.push(bridge_link("sybr0", true));
    let obs = observed(&host, None, true);
    let stop = plan_stop(&started, &obs, &BTreeSet::new());
    insta::assert_snapshot!("stop_alone", stop.to_string());
    let needed: BTreeSet<&str> = [IPV4_FORWARD].into();
    let stop = plan_stop(&started, &obs, &needed);
    assert!(!stop.to_string().contains("ip_forward"), "{stop}");
}

#[test]
fn modes_without_a_bridge_of_their_own() {
    let host_bridge = parse_network_xml(
        "<network><name>hb</name><forward mode='bridge'/><bridge name='br0'/></network>",
    )
    .expect("parses");
    let macvtap = parse_network_xml(
        "<network><name>mv</name><forward mode='vepa'><interface dev='eth1'/><interface dev='eth2'/></forward></network>",
    )
    .expect("parses");
    let host = HostState::default();
    let obs = observed(&host, None, false);
    let plan = plan_start(&host_bridge, &obs, &paths()).expect("plan");
    assert_eq!(plan.to_string(), " 1. check that bridge br0 exists\n");
    let plan = plan_start(&macvtap, &obs, &paths()).expect("plan");
    assert_eq!(plan.steps.len(), 2);
    assert_eq!(
        detect_drift(&host_bridge, &obs),
        ["host bridge br0 is missing"]
    );
}

#[test]
fn isolated_and_open_firewall_entries() {
    let isolated = parse_network_xml(
        "<network><name>iso</name><bridge name='sybr3'/><ip address='10.3.0.1' prefix='24'/></network>",
    )
    .expect("parses");
    let entry = firewall_net(&isolated, "sybr3").expect("isolated has rules");
    assert_eq!(entry.mode, FirewallMode::Isolated);
    assert!(forwarding_keys(&isolated).is_empty());
    let open = parse_network_xml(
        "<network><name>o</name><forward mode='open'/><bridge name='sybr4'/><ip address='10.4.0.1' prefix='24'/></network>",
    )
    .expect("parses");
    assert!(firewall_net(&open, "sybr4").is_none());
    assert_eq!(forwarding_keys(&open), [IPV4_FORWARD]);
}

#[test]
fn the_inotify_limit_is_raised_only_when_our_dnsmasqs_approach_it() {
    // (limit, our dnsmasqs once this one runs) → the new limit, if it changes.
    let cases: [(Option<u64>, u64, Option<&str>); 8] = [
        (Some(128), 1, None),
        (Some(128), 64, None),
        (Some(128), 65, Some("258")),
        (Some(128), 79, Some("286")),
        (Some(258), 194, None),
        (Some(258), 195, Some("518")),
        (Some(100_000), 5_000, None),
        // Unknown, or not ours to change (a switchyard in a namespace of its own).
        (None, 10_000, None),
    ];
    for (limit, ours, want) in cases {
        let got = inotify_step(limit, ours);
        let value = got.as_ref().map(|s| match s {
            Step::SetSysctl {
                key,
                value,
                previous,
            } => {
                assert_eq!(key, INOTIFY_INSTANCES);
                assert_eq!(Some(previous.clone()), limit.map(|l| l.to_string()));
                value.as_str()
            }
            other => panic!("{other:?}"),
        });
        assert_eq!(value, want, "limit {limit:?}, {ours} dnsmasqs");
    }
}

#[test]
fn stop_leaves_a_raised_inotify_limit() {
    let started = Plan {
        network: "lab".into(),
        steps: vec![inotify_step(Some(128), 100).expect("raised")],
        notes: vec![],
    };
    let host = HostState::default();
    let plan = plan_stop(&started, &observed(&host, None, true), &BTreeSet::new());
    assert!(plan.steps.is_empty(), "{plan}");
}

/// The network's rules join a table whose shared chains and maps are ready without
/// re-declaring them (each re-declaration of a base chain costs an RCU grace period); with no
/// table, or shared drift, the whole table is loaded.
#[test]
fn a_ready_table_is_joined_not_redeclared() {
    let def = parse_network_xml(NAT).expect("parses");
    let other = crate::plan::firewall::FirewallNet {
        name: "other".into(),
        bridge: "sybr9".into(),
        ..firewall_net(&def, "sybr0").expect("nat has rules")
    };
    let host = HostState::default();
    let others = [other.clone()];
    let shared_ready_with = |fw: Option<&ObservedTable>, others: &[FirewallNet]| {
        let mut obs = observed(&host, fw, false);
        obs.other_firewall = others;
        let plan = plan_start(&def, &obs, &paths()).expect("plan");
        plan.steps.iter().find_map(|s| match s {
            Step::AddFirewall { shared_ready, .. } => Some(*shared_ready),
            _ => None,
        })
    };
    let shared_ready = |fw: Option<&ObservedTable>| shared_ready_with(fw, &[]);
    let mut table = crate::plan::firewall::expected_table(std::slice::from_ref(&other));
    assert_eq!(shared_ready(Some(&table)), Some(true));
    assert_eq!(shared_ready(None), Some(false));
    assert_eq!(
        shared_ready_with(None, &others),
        Some(true),
        "unread, but another network is active"
    );
    table.base.values_mut().for_each(|c| c.rules.clear());
    assert_eq!(
        shared_ready(Some(&table)),
        Some(false),
        "dispatch rules lost"
    );
}
