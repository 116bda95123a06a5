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
fn port_range((lo, hi): (u16, u16)) -> Value {
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
