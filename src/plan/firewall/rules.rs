//! What one network needs in the table: its chains with their rules and its map elements.
//! The rules keep the semantics of libvirt's, as the previous release's text rules did.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use serde_json::Value;

use super::expr::{self, Dir};
use super::layout::{chain_name, ifname, NetChain};
use super::{FirewallMode, FirewallNet};
use crate::model::forward::{PortRange, Proto, ResolvedForward};
use crate::model::names::nft_component;

/// One rule: its expressions and statements, as nft lists them.
pub(crate) type Rule = Vec<Value>;

/// One element of a verdict map: `key : jump chain`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Element {
    pub map: &'static str,
    pub key: Value,
    pub chain: String,
}

/// A network's chains (in declaration order) with their rules, its map elements and its named
/// counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Desired {
    pub chains: Vec<(String, Vec<Rule>)>,
    pub elements: Vec<Element>,
    pub counters: Vec<String>,
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
    let forwards = forwards(net);
    if !forwards.is_empty() {
        chains.push((NetChain::Dnat, dnat_rules(net)));
    }
    let elements = elements(net, chains.iter().map(|(part, _)| *part));
    let chains = chains
        .into_iter()
        .map(|(part, rules)| (chain_name(&net.name, part), rules))
        .collect();
    let counters = forwards
        .iter()
        .flat_map(|f| {
            let (hits, bytes) = forward_counters(&net.name, f.proto, f.port.first);
            [hits, bytes]
        })
        .collect();
    Desired {
        chains,
        elements,
        counters,
    }
}

/// The forwards the network's rules carry: a NAT network's only.
fn forwards(net: &FirewallNet) -> &[ResolvedForward] {
    if net.mode == FirewallMode::Nat {
        &net.forwards
    } else {
        &[]
    }
}

/// The names of the counters of network `name`'s forward of `proto` from host port `first`:
/// new connections (counted by the DNAT rule, which sees each connection's first packet on
/// every path: from outside, from the host itself, hairpin) and bytes (both directions of
/// forwarded connections, counted where they cross the network's bridge).
pub fn forward_counters(name: &str, proto: Proto, first: u16) -> (String, String) {
    let id = format!("{}_{}_{first}", nft_component(name), proto);
    (format!("fwd_{id}"), format!("fwdb_{id}"))
}

/// One DNAT rule per forward: to a host address (`address`), or to any but loopback (a
/// guest's own DHCP and DNS to its gateway never get here: the dispatch sends them to the
/// network's input chain, which accepts them, first).
fn dnat_rules(net: &FirewallNet) -> Vec<Rule> {
    forwards(net)
        .iter()
        .map(|f| {
            let proto = f.proto.as_str();
            let dest = match f.address {
                Some(a) => expr::ipv4_is(Dir::Out, "==", a, 32),
                None => expr::ipv4_is(Dir::Out, "!=", Ipv4Addr::new(127, 0, 0, 0), 8),
            };
            let (hits, _) = forward_counters(&net.name, f.proto, f.port.first);
            vec![
                dest,
                expr::port_is(proto, "dport", range(f.port)),
                expr::named_counter(&hits),
                expr::dnat_to(proto, f.to, range(f.port), range(f.to_port)),
            ]
        })
        .collect()
}

fn range(p: PortRange) -> (u16, u16) {
    (p.first, p.last)
}

/// The byte-counting rules of the forwards, for the chain of packets toward the guest (`Out`)
/// or from it (`In`).
fn byte_rules(net: &FirewallNet, dir: Dir) -> Vec<Rule> {
    let field = if dir == Dir::Out { "dport" } else { "sport" };
    forwards(net)
        .iter()
        .map(|f| {
            let (_, bytes) = forward_counters(&net.name, f.proto, f.port.first);
            vec![
                expr::ipv4_is(dir, "==", f.to, 32),
                expr::port_is(f.proto.as_str(), field, range(f.to_port)),
                expr::ct_dnat(),
                expr::named_counter(&bytes),
            ]
        })
        .collect()
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
    let mut rules = byte_rules(net, Dir::Out);
    rules.push(vec![
        expr::if_is(Dir::In, &net.bridge),
        expr::verdict("accept"),
    ]);
    if !forwards(net).is_empty() {
        // Connections a forward DNAT'ed to a guest (the NAT rule below takes only replies).
        rules.push(vec![expr::ct_dnat(), expr::verdict("accept")]);
    }
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
    let mut rules = byte_rules(net, Dir::In);
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
    if !forwards(net).is_empty() {
        // Hairpin: a guest reaching a forward to a guest of its own subnet. Masqueraded, so
        // the target answers through the host and the reply is translated back.
        for s in net.ipv4.iter().map(|s| IpNet::V4(s.trunc())) {
            rules.push(vec![
                expr::addr_is(Dir::In, "==", s),
                expr::addr_is(Dir::Out, "==", s),
                expr::ct_dnat(),
                expr::masquerade(None),
            ]);
        }
    }
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
            NetChain::Dnat => {
                for f in forwards(net) {
                    let map = match f.proto {
                        Proto::Tcp => "fwd_tcp",
                        Proto::Udp => "fwd_udp",
                    };
                    out.push(el(map, expr::port_range(range(f.port))));
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
        "base_prerouting" => vec![
            // A guest's DHCP and DNS to its own gateway: accepted (not translated) by the
            // network's input chain before any forward could take the port.
            vec![
                expr::daddr_is_local(true),
                expr::vmap(meta("iifname"), "input_if"),
            ],
            vec![
                expr::daddr_is_local(false),
                expr::vmap(expr::dport("tcp"), "fwd_tcp"),
            ],
            vec![
                expr::daddr_is_local(false),
                expr::vmap(expr::dport("udp"), "fwd_udp"),
            ],
        ],
        "base_output" => vec![
            vec![
                expr::daddr_is_local(false),
                expr::vmap(expr::dport("tcp"), "fwd_tcp"),
            ],
            vec![
                expr::daddr_is_local(false),
                expr::vmap(expr::dport("udp"), "fwd_udp"),
            ],
        ],
        "base_postrouting" => vec![
            vec![expr::vmap(saddr("ip"), "nat4")],
            vec![expr::vmap(saddr("ip6"), "nat6")],
        ],
        _ => Vec::new(),
    }
}
