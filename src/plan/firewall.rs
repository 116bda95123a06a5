//! The nftables table switchyard owns (pure).
//!
//! One table, `inet switchyard`, shared by every network. Its base chains hold nothing but
//! dispatch rules that look the packet's interface or source address up in verdict maps; each
//! network has its own regular chains (`net_<encoded name>_in`, `_to`, `_from`, `_nat`) and its
//! own map elements. Starting or stopping a network is one JSON transaction that touches only
//! that network's chains and elements, whatever the number of networks, and the per-packet cost
//! is one map lookup per hook.
//!
//! Every string from a definition reaches nft as a JSON string value built with serde_json; a
//! network's name appears only in its [`nft_component`](crate::model::names::nft_component)
//! encoding. The previous release's text script ([`render_table`]) is kept until its callers
//! move over.

use std::net::Ipv4Addr;

use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

mod describe;
mod drift;
mod expected;
mod expr;
mod layout;
mod legacy;
mod observe;
mod rules;
mod script;
mod transaction;

pub use describe::{describe, rule_text};
pub use drift::{network_drift, shared_drift, table_drift, ChainRef, FirewallDrift};
pub use expected::expected_table;
pub use layout::{
    chain_name, ifname_problem, NetChain, BASE_CHAINS, FAMILY, LEGACY_CHAINS, MAPS, TABLE_NAME,
};
pub use legacy::{legacy_networks, remove_legacy};
pub use observe::{as_net, ObservedElement, ObservedTable};
pub use observe::{parse_table, BaseHook, ObserveError, ObservedChain, ObservedMap, ObservedRule};
pub use rules::{forward_counters, rule_count};
pub use script::{render_delete, render_table};
pub use transaction::{
    add_network, delete_table, join_network, remove_network, repair_network, replace_network,
};

/// Our table's family and name.
pub const TABLE: &str = "inet switchyard";

/// What the firewall needs to know of one active network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct FirewallNet {
    pub name: String,
    pub bridge: String,
    pub mode: FirewallMode,
    pub ipv4: Vec<Ipv4Net>,
    pub ipv6: Vec<Ipv6Net>,
    /// The forward device (`<forward dev=…>`); `None` means any.
    pub forward_dev: Option<String>,
    /// NAT of IPv6 too (`<nat ipv6='yes'/>`).
    pub nat_ipv6: bool,
    /// `<nat><address start end/></nat>`: SNAT to this range instead of masquerade.
    pub nat_addresses: Option<(Ipv4Addr, Ipv4Addr)>,
    /// `<nat><port start end/></nat>`; libvirt's default is 1024-65535.
    pub nat_ports: (u16, u16),
    /// Whether DHCP/DNS from guests should be accepted into the host.
    pub serves_dhcp_dns: bool,
    /// Port forwards into the network (a NAT network's), targets resolved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forwards: Vec<crate::model::ResolvedForward>,
}

/// Forwarding behaviour of a network with its own bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirewallMode {
    Nat,
    Route,
    Isolated,
    Open,
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_drift;
#[cfg(test)]
mod tests_json;
