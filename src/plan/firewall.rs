//! The nftables table switchyard owns, rendered from the active networks (pure).
//!
//! The whole table is replaced in one `nft -f -` transaction on every change, so a change either
//! applies completely or not at all, and nothing outside `inet switchyard` is touched.

use std::net::Ipv4Addr;

use ipnet::{Ipv4Net, Ipv6Net};

mod script;

pub use script::{render_delete, render_table};

/// Our table's family and name.
pub const TABLE: &str = "inet switchyard";

/// What the firewall needs to know of one active network.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

/// Forwarding behaviour of a network with its own bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirewallMode {
    Nat,
    Route,
    Isolated,
    Open,
}

#[cfg(test)]
mod tests;
