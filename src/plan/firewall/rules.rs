//! What one network needs in the table: its chains with their rules and its map elements.
//! The rules keep the semantics of libvirt's, as the previous release's text rules did.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use serde_json::Value;

use super::expr::{self, Dir};
use super::layout::{chain_name, ifname, NetChain};
use super::{FirewallMode, FirewallNet};

/// One rule: its expressions and statements, as nft lists them.
pub(crate) type Rule = Vec<Value>;

/// One element of a verdict map: `key : jump chain`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Element {
    pub map: &'static str,
    pub key: Value,
    pub chain: String,
}

/// A network's chains (in declaration order) with their rules, and its map elements.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Desired {
    pub chains: Vec<(String, Vec<Rule>)>,
    pub elements: Vec<Element>,
}

/// What `net` needs in the table; nothing at all for an open network.
pub(crate) fn desired(net: &FirewallNet) -> Desired {
    if net.mode == FirewallMode::Open {
        return Desired::default();
    }
    let mut chains = Vec::new();
    if net.serves_dhcp_dns {
        chains.push((NetChain::In, in_rules()));
    }
    chains.push((NetChain::To, to_rules(net)));
    chains.push((NetChain::From, from_rules(net)));
    if net.mode == FirewallMode::Nat {
        chains.push((NetChain::Nat, nat_rules(net)));
    }
    let elements = elements(net, chains.iter().map(|(part, _)| *part));
    let chains = chains
        .into_iter()
        .map(|(part, rules)| (chain_name(&net.name, part), rules))
        .collect();
    Desired { chains, elements }
}

/// How many rules `net`'s chains hold, for showing a step.
pub fn rule_count(net: &FirewallNet) -> usize {
    desired(net)
        .chains
        .iter()
        .map(|(_, rules)| rules.len())
        .sum()
}

/// The subnets of `net`, truncated, IPv4 first, each once.
pub(crate) fn subnets(net: &FirewallNet) -> Vec<IpNet> {
    let all = net.ipv4.iter().map(|s| IpNet::V4(s.trunc()));
    let all = all.chain(net.ipv6.iter().map(|s| IpNet::V6(s.trunc())));
    let mut out: Vec<IpNet> = Vec::new();
    for s in all {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Whether traffic of `subnet` is NATed (else it is routed, as libvirt routes the IPv6
/// subnets of a NAT network without `ipv6='yes'`).
fn natted(net: &FirewallNet, subnet: IpNet) -> bool {
    net.mode == FirewallMode::Nat && (subnet.addr().is_ipv4() || net.nat_ipv6)
}

fn in_rules() -> Vec<Rule> {
    vec![
        vec![
            expr::dport_is("udp", &[53, 67, 547]),
            expr::verdict("accept"),
        ],
        vec![expr::dport_is("tcp", &[53]), expr::verdict("accept")],
    ]
}

/// Packets leaving onto the bridge: from its own guests, replies to NAT, routed traffic.
fn to_rules(net: &FirewallNet) -> Vec<Rule> {
    let mut rules = vec![vec![
        expr::if_is(Dir::In, &net.bridge),
        expr::verdict("accept"),
    ]];
    if net.mode != FirewallMode::Isolated {
        for s in subnets(net) {
            let mut rule: Rule = net
                .forward_dev
                .iter()
                .map(|d| expr::if_is(Dir::In, d))
                .collect();
            rule.push(expr::addr_is(Dir::Out, "==", s));
            if natted(net, s) {
                rule.push(expr::ct_established());
            }
            rule.push(expr::verdict("accept"));
            rules.push(rule);
        }
    }
    rules.push(vec![expr::reject()]);
    rules
}

/// Packets coming off the bridge: only from the network's subnets, to the forward device.
fn from_rules(net: &FirewallNet) -> Vec<Rule> {
    let mut rules = Vec::new();
    if net.mode != FirewallMode::Isolated {
        for s in subnets(net) {
            let mut rule: Rule = net
                .forward_dev
                .iter()
                .map(|d| expr::if_is(Dir::Out, d))
                .collect();
            rule.push(expr::addr_is(Dir::In, "==", s));
            rule.push(expr::verdict("accept"));
            rules.push(rule);
        }
    }
    rules.push(vec![expr::reject()]);
    rules
}

/// Masquerade (or SNAT) per NATed subnet; multicast and broadcast leave un-NATed.
fn nat_rules(net: &FirewallNet) -> Vec<Rule> {
    let mut rules = Vec::new();
    for s in subnets(net).into_iter().filter(|s| natted(net, *s)) {
        for keep in kept_destinations(s) {
            rules.push(vec![
                expr::addr_is(Dir::In, "==", s),
                expr::addr_is(Dir::Out, "==", keep),
                expr::verdict("return"),
            ]);
        }
        let mut base = vec![
            expr::addr_is(Dir::In, "==", s),
            expr::addr_is(Dir::Out, "!=", s),
        ];
        base.extend(net.forward_dev.iter().map(|d| expr::if_is(Dir::Out, d)));
        for proto in ["tcp", "udp"] {
            let mut rule = base.clone();
            rule.push(expr::l4proto_is(proto));
            rule.push(translate(net, s, Some(net.nat_ports)));
            rules.push(rule);
        }
        base.push(translate(net, s, None));
        rules.push(base);
    }
    rules
}

/// Destinations libvirt leaves un-NATed: local multicast and broadcast.
fn kept_destinations(s: IpNet) -> Vec<IpNet> {
    match s {
        IpNet::V4(_) => vec![
            expr::net(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 0)), 24),
            expr::net(IpAddr::V4(Ipv4Addr::BROADCAST), 32),
        ],
        IpNet::V6(_) => vec![expr::net(
            IpAddr::V6(Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0)),
            8,
        )],
    }
}

/// `snat` to the configured IPv4 range, else `masquerade`; with the port range if given.
fn translate(net: &FirewallNet, s: IpNet, ports: Option<(u16, u16)>) -> Value {
    match (s, net.nat_addresses) {
        (IpNet::V4(_), Some(range)) => expr::snat(range, ports),
        _ => expr::masquerade(ports),
    }
}

/// The map elements that send `net`'s traffic to the chains in `parts`.
fn elements(net: &FirewallNet, parts: impl Iterator<Item = NetChain>) -> Vec<Element> {
    let mut out = Vec::new();
    for part in parts {
        let chain = chain_name(&net.name, part);
        let el = |map: &'static str, key: Value| Element {
            map,
            key,
            chain: chain.clone(),
        };
        match part {
            NetChain::In => out.push(el("input_if", ifname(&net.bridge))),
            NetChain::To => out.push(el("fwd_to", ifname(&net.bridge))),
            NetChain::From => out.push(el("fwd_from", ifname(&net.bridge))),
            NetChain::Nat => {
                for s in subnets(net).into_iter().filter(|s| natted(net, *s)) {
                    let map = if s.addr().is_ipv4() { "nat4" } else { "nat6" };
                    out.push(el(map, expr::prefix(s)));
                }
            }
        }
    }
    out
}

/// The rules of base chain `base` (one of [`BASE_CHAINS`](super::BASE_CHAINS)): one verdict
/// map lookup per direction, the destination's map before the source's.
pub(crate) fn dispatch_rules(base: &str) -> Vec<Rule> {
    let meta = |key: &str| serde_json::json!({ "meta": { "key": key } });
    let saddr =
        |proto: &str| serde_json::json!({ "payload": { "protocol": proto, "field": "saddr" } });
    match base {
        "base_input" => vec![vec![expr::vmap(meta("iifname"), "input_if")]],
        "base_forward" => vec![
            vec![expr::vmap(meta("oifname"), "fwd_to")],
            vec![expr::vmap(meta("iifname"), "fwd_from")],
        ],
        "base_postrouting" => vec![
            vec![expr::vmap(saddr("ip"), "nat4")],
            vec![expr::vmap(saddr("ip6"), "nat6")],
        ],
        _ => Vec::new(),
    }
}
