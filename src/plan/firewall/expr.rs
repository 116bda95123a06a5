//! nft JSON expressions and statements, written in exactly the form `nft -j list` prints them
//! back (a /32 as a plain address, `reject` with its icmpx default, `ct state` with `in`), so
//! what we load can be compared with what we read, rule by rule.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use serde_json::{json, Value};

use super::layout::ifname;

/// Which end of the packet an address or interface match looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    /// Source address, input interface.
    In,
    /// Destination address, output interface.
    Out,
}

/// `iifname NAME` or `oifname NAME`.
pub(crate) fn if_is(dir: Dir, name: &str) -> Value {
    let key = match dir {
        Dir::In => "iifname",
        Dir::Out => "oifname",
    };
    cmp("==", json!({ "meta": { "key": key } }), ifname(name))
}

/// `ip saddr NET`, `ip6 daddr != NET`, …: the address family follows `net`.
pub(crate) fn addr_is(dir: Dir, op: &str, net: IpNet) -> Value {
    let field = match dir {
        Dir::In => "saddr",
        Dir::Out => "daddr",
    };
    let left = json!({ "payload": { "protocol": family(net), "field": field } });
    cmp(op, left, prefix(net))
}

/// `ip` or `ip6`, as nft names the network header of `net`.
pub(crate) fn family(net: IpNet) -> &'static str {
    match net {
        IpNet::V4(_) => "ip",
        IpNet::V6(_) => "ip6",
    }
}

/// A subnet as nft prints it: `{"prefix": …}`, or the plain address for a single host.
pub(crate) fn prefix(net: IpNet) -> Value {
    if net.prefix_len() == net.max_prefix_len() {
        json!(net.addr().to_string())
    } else {
        json!({ "prefix": { "addr": net.network().to_string(), "len": net.prefix_len() } })
    }
}

/// `PROTO dport PORT` or, with several ports, `PROTO dport { P1, P2, … }`.
pub(crate) fn dport_is(proto: &str, ports: &[u16]) -> Value {
    let right = match ports {
        [one] => json!(one),
        many => json!({ "set": many }),
    };
    cmp(
        "==",
        json!({ "payload": { "protocol": proto, "field": "dport" } }),
        right,
    )
}

/// `meta l4proto PROTO`.
pub(crate) fn l4proto_is(proto: &str) -> Value {
    cmp("==", json!({ "meta": { "key": "l4proto" } }), json!(proto))
}

/// `ct state established,related`.
pub(crate) fn ct_established() -> Value {
    cmp(
        "in",
        json!({ "ct": { "key": "state" } }),
        json!(["established", "related"]),
    )
}

fn cmp(op: &str, left: Value, right: Value) -> Value {
    json!({ "match": { "op": op, "left": left, "right": right } })
}

/// A verdict without argument: `accept`, `drop`, `return`.
pub(crate) fn verdict(word: &str) -> Value {
    json!({ word: null })
}

/// `jump CHAIN`.
pub(crate) fn jump(chain: &str) -> Value {
    json!({ "jump": { "target": chain } })
}

/// `reject`, as nft lists it in an inet table.
pub(crate) fn reject() -> Value {
    json!({ "reject": { "type": "icmpx", "expr": "port-unreachable" } })
}

/// `KEY vmap @MAP`, where `key` is a meta or payload expression.
pub(crate) fn vmap(key: Value, map: &str) -> Value {
    json!({ "vmap": { "key": key, "data": format!("@{map}") } })
}

/// A port range as nft prints it: a single port when both ends agree.
pub(crate) fn port_range((lo, hi): (u16, u16)) -> Value {
    if lo == hi {
        json!(lo)
    } else {
        json!({ "range": [lo, hi] })
    }
}

/// `masquerade` or `masquerade to :LO-HI`.
pub(crate) fn masquerade(ports: Option<(u16, u16)>) -> Value {
    match ports {
        None => json!({ "masquerade": null }),
        Some(p) => json!({ "masquerade": { "port": port_range(p) } }),
    }
}

/// `snat ip to START[-END][:LO-HI]`.
pub(crate) fn snat(range: (Ipv4Addr, Ipv4Addr), ports: Option<(u16, u16)>) -> Value {
    let (start, end) = range;
    let addr = if start == end {
        json!(start.to_string())
    } else {
        json!({ "range": [start.to_string(), end.to_string()] })
    };
    let mut stmt = json!({ "family": "ip", "addr": addr });
    if let (Some(p), Some(obj)) = (ports, stmt.as_object_mut()) {
        obj.insert("port".into(), port_range(p));
    }
    json!({ "snat": stmt })
}

/// The network address of `addr/len`, as an [`IpNet`] (used for fixed multicast ranges).
pub(crate) fn net(addr: IpAddr, len: u8) -> IpNet {
    IpNet::new(addr, len)
        .expect("fixed multicast prefixes are valid")
        .trunc()
}

/// `fib daddr type local` or, with `iif`, `fib daddr . iif type local` (the destination is an
/// address of the interface the packet came in on).
pub(crate) fn daddr_is_local(iif: bool) -> Value {
    let flags = if iif {
        json!(["daddr", "iif"])
    } else {
        json!(["daddr"])
    };
    cmp(
        "==",
        json!({ "fib": { "result": "type", "flags": flags } }),
        json!("local"),
    )
}

/// `PROTO dport P` or `PROTO dport P-Q` (`field` `dport` or `sport`).
pub(crate) fn port_is(proto: &str, field: &str, ports: (u16, u16)) -> Value {
    cmp(
        "==",
        json!({ "payload": { "protocol": proto, "field": field } }),
        port_range(ports),
    )
}

/// `PROTO dport` as a key (of a verdict map lookup or a port map).
pub(crate) fn dport(proto: &str) -> Value {
    json!({ "payload": { "protocol": proto, "field": "dport" } })
}

/// `ip saddr ADDR` / `ip daddr != ADDR`: one IPv4 address or prefix.
pub(crate) fn ipv4_is(dir: Dir, op: &str, addr: Ipv4Addr, len: u8) -> Value {
    let net = IpNet::V4(ipnet::Ipv4Net::new(addr, len).unwrap_or_default());
    addr_is(dir, op, net)
}

/// `ct status dnat`: the connection was destination-NATed.
pub(crate) fn ct_dnat() -> Value {
    cmp("in", json!({ "ct": { "key": "status" } }), json!("dnat"))
}

/// `counter name "NAME"`.
pub(crate) fn named_counter(name: &str) -> Value {
    json!({ "counter": name })
}

/// `dnat ip to ADDR`, `dnat ip to ADDR:PORT`, or, for a range moved to other ports,
/// `dnat ip to ADDR : PROTO dport map { P : P', … }`.
pub(crate) fn dnat_to(proto: &str, addr: Ipv4Addr, from: (u16, u16), to: (u16, u16)) -> Value {
    if from == to {
        return json!({ "dnat": { "family": "ip", "addr": addr.to_string() } });
    }
    if to.0 == to.1 {
        return json!({ "dnat": { "family": "ip", "addr": addr.to_string(), "port": to.0 } });
    }
    let pairs: Vec<Value> = (from.0..=from.1)
        .zip(to.0..=to.1)
        .map(|(a, b)| json!([a, b]))
        .collect();
    json!({ "dnat": { "family": "ip", "addr": addr.to_string(), "port": {
        "map": { "key": dport(proto), "data": { "set": pairs } }
    } } })
}
