//! The fixed shape of our table: names of base chains, maps and per-network chains, and how an
//! interface name becomes a JSON value nft takes literally.

use serde_json::{json, Value};

use crate::model::names::nft_component;

/// Our table's family, as nft's JSON spells it.
pub const FAMILY: &str = "inet";
/// Our table's name.
pub const TABLE_NAME: &str = "switchyard";

/// The base chains, in the order they are declared.
pub const BASE_CHAINS: [&str; 5] = [
    "base_input",
    "base_forward",
    "base_postrouting",
    "base_prerouting",
    "base_output",
];
/// The previous release's base chains, whose rules carry raw network names as comments.
pub const LEGACY_CHAINS: [&str; 3] = ["input", "forward", "postrouting"];
/// The verdict maps, in the order they are declared.
pub const MAPS: [&str; 7] = [
    "input_if", "fwd_to", "fwd_from", "nat4", "nat6", "fwd_tcp", "fwd_udp",
];

/// One of a network's own chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NetChain {
    /// DHCP and DNS from guests into the host (`input_if`).
    In,
    /// Packets forwarded onto the bridge (`fwd_to`).
    To,
    /// Packets forwarded off the bridge (`fwd_from`).
    From,
    /// Source NAT of the network's subnets (`nat4`, `nat6`).
    Nat,
    /// Its port forwards' DNAT (`fwd_tcp`, `fwd_udp`, by host port).
    Dnat,
}

impl NetChain {
    /// All four, in the order they are declared.
    pub const ALL: [NetChain; 5] = [
        NetChain::In,
        NetChain::To,
        NetChain::From,
        NetChain::Nat,
        NetChain::Dnat,
    ];

    /// The suffix after the encoded name. None of `in`, `to`, `from`, `nat` starts with two hex
    /// digits, so `_<suffix>` can never be read as an escape of the encoding.
    pub fn suffix(self) -> &'static str {
        match self {
            NetChain::In => "in",
            NetChain::To => "to",
            NetChain::From => "from",
            NetChain::Nat => "nat",
            NetChain::Dnat => "dnat",
        }
    }
}

/// `net_<nft_component(name)>_<suffix>`: the chain of network `name`; two names never share
/// a chain name, and the result is a valid nft identifier.
pub fn chain_name(name: &str, chain: NetChain) -> String {
    format!("net_{}_{}", nft_component(name), chain.suffix())
}

/// The network name and part a chain name encodes, if it is one of ours.
pub(crate) fn parse_chain_name(chain: &str) -> Option<(String, NetChain)> {
    let rest = chain.strip_prefix("net_")?;
    NetChain::ALL.into_iter().find_map(|part| {
        let encoded = rest.strip_suffix(part.suffix())?.strip_suffix('_')?;
        crate::model::names::decode_nft_component(encoded).map(|name| (name, part))
    })
}

/// Strings nft's JSON parser reads as protocol or ICMP constants instead of as text.
use crate::model::validate::NFT_RESERVED_IFNAMES as NFT_CONSTANTS;

/// Why nft cannot match interface `name` literally from JSON, or `None` when it can.
///
/// nft reads a leading `@` as a set reference, `*` as a wildcard or catch-all, and a few
/// protocol words as constants; the kernel's names are at most 15 bytes.
pub fn ifname_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name.len() > 15 {
        Some("it is longer than 15 bytes")
    } else if name.starts_with('@') {
        Some("nft reads a leading '@' as a set reference")
    } else if name.contains('*') {
        Some("nft reads '*' as a wildcard")
    } else if name.contains('\0') {
        Some("it contains a NUL byte")
    } else if NFT_CONSTANTS.contains(&name) {
        Some("nft reads it as a protocol constant")
    } else {
        None
    }
}

/// The JSON value matching interface `name` literally.
///
/// A name nft would misread becomes an expression nft refuses ("Unknown expression type
/// 'interface name nft cannot match literally'"), so loading fails closed instead of matching
/// something else. Validation keeps such names out of definitions in the first place.
pub(crate) fn ifname(name: &str) -> Value {
    match ifname_problem(name) {
        None => Value::String(name.to_owned()),
        Some(_) => json!({ "interface name nft cannot match literally": name }),
    }
}

/// `{"family": "inet", "table": "switchyard", …fields}`: an object of our table.
pub(crate) fn in_table(fields: Value) -> Value {
    let mut obj = json!({ "family": FAMILY, "table": TABLE_NAME });
    if let (Some(out), Value::Object(more)) = (obj.as_object_mut(), fields) {
        out.extend(more);
    }
    obj
}

/// The declaration of base chain `name` (one of [`BASE_CHAINS`]).
pub(crate) fn base_chain_spec(name: &str) -> Value {
    let (kind, hook, prio) = match name {
        "base_postrouting" => ("nat", "postrouting", 100),
        "base_prerouting" => ("nat", "prerouting", -100),
        "base_output" => ("nat", "output", -100),
        "base_forward" => ("filter", "forward", 0),
        _ => ("filter", "input", 0),
    };
    in_table(json!({
        "name": name, "type": kind, "hook": hook, "prio": prio, "policy": "accept"
    }))
}

/// The key type and flags of map `name` (one of [`MAPS`]).
pub(crate) fn map_type(name: &str) -> (&'static str, bool) {
    match name {
        "nat4" => ("ipv4_addr", true),
        "nat6" => ("ipv6_addr", true),
        "fwd_tcp" | "fwd_udp" => ("inet_service", true),
        _ => ("ifname", false),
    }
}

/// The declaration of map `name` (one of [`MAPS`]).
pub(crate) fn map_spec(name: &str) -> Value {
    let (key, interval) = map_type(name);
    let mut spec = in_table(json!({ "name": name, "type": key, "map": "verdict" }));
    if let (true, Some(obj)) = (interval, spec.as_object_mut()) {
        obj.insert("flags".into(), json!(["interval"]));
    }
    spec
}
