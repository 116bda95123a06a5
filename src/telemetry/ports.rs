//! Port assembly (pure): every bridge port and every macvtap of the host, with the network it
//! belongs to, its guest, the guest's address and its counters.
//!
//! The inputs are what the collector observed (links, process and libvirt maps,
//! namespace names, leases, neighbour tables) and what switchyard knows of its networks
//! ([`NetworkPorts`]). Ports of foreign bridges (libvirt's `virbr*`, `docker0`, host bridges)
//! are listed too, with no network.
//!
//! A port carries no counters: they change every tick while a port's description changes
//! rarely, so snapshots share one assembled port list and add a fresh counter list
//! ([`PortsSnapshot::counters_of`](super::snapshot::PortsSnapshot::counters_of)).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

use serde::Serialize;

use super::leases::Lease;
use super::neigh::{Mac, NeighbourCache};
use super::rates::PortKey;
use crate::model::{MacAddr, NetworkDef};
use crate::state::GuestIndex;
use crate::state::LinkCounters;
use crate::state::{HostState, LinkInfo, LinkKind};

/// What the collector needs to know about one active switchyard network.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkPorts {
    /// Network name.
    pub network: String,
    /// The bridge its ports are enslaved to (ours, or the host bridge of mode bridge).
    pub bridge: Option<String>,
    /// dnsmasq's lease file, if the network serves DHCP.
    pub lease_file: Option<PathBuf>,
    /// Devices whose macvtaps belong to this network (macvtap modes).
    pub macvtap_pool: Vec<String>,
}

impl NetworkPorts {
    /// From a running definition and its lease file.
    pub fn from_def(def: &NetworkDef, lease_file: Option<PathBuf>) -> Self {
        let macvtap_pool = if def.is_macvtap() {
            def.forward
                .iter()
                .flat_map(|f| f.interfaces.iter().cloned())
                .collect()
        } else {
            Vec::new()
        };
        NetworkPorts {
            network: def.name.clone(),
            bridge: def.bridge_name().map(str::to_owned),
            lease_file,
            macvtap_pool,
        }
    }
}

/// Where a port's IP came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IpSource {
    /// A DHCP lease of the port's network.
    Lease,
    /// The neighbour (ARP/NDP) table of the port's bridge.
    Neighbour,
}

/// One guest-facing port.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortInfo {
    /// Kernel interface index.
    pub ifindex: u32,
    /// Interface name.
    pub ifname: String,
    /// "tap", "veth", "macvtap", "physical", "bond", "vlan", … (the rtnetlink kind).
    pub kind: String,
    /// The bridge it is enslaved to; `None` for a macvtap.
    pub bridge: Option<String>,
    /// The lower device of a macvtap.
    pub parent: Option<String>,
    /// The switchyard network it belongs to, if any.
    pub network: Option<String>,
    /// The port's own MAC (for a macvtap, also the guest's).
    pub mac: Option<String>,
    /// The guest's MAC: for a bridge port, what the bridge learned behind it.
    pub guest_mac: Option<String>,
    /// MTU.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// Operational state: "up", "down", "lowerlayerdown", …
    pub oper_state: String,
    /// Who is behind the port: a QEMU guest or libvirt domain, a process, a namespace.
    pub guest: Option<String>,
    /// The guest's IP address.
    pub ip: Option<String>,
    /// Where `ip` came from.
    pub ip_source: Option<IpSource>,
}

impl PortInfo {
    /// A tap on bridge `br` of network `n`, up, nothing else known: the tests' port.
    #[cfg(test)]
    pub(crate) fn test_tap(ifindex: u32, name: &str) -> PortInfo {
        PortInfo {
            ifindex,
            ifname: name.to_owned(),
            kind: "tap".to_owned(),
            bridge: Some("br".to_owned()),
            parent: None,
            network: Some("n".to_owned()),
            mac: None,
            guest_mac: None,
            mtu: 1500,
            up: true,
            oper_state: "up".to_owned(),
            guest: None,
            ip: None,
            ip_source: None,
        }
    }

    /// Identity for rate tracking, the port having been read in the namespace `netns`
    /// ([`PortsSnapshot::netns`](super::snapshot::PortsSnapshot::netns)).
    pub fn key(&self, netns: u64) -> PortKey {
        PortKey::new(netns, self.ifindex)
    }
}

/// Everything port assembly reads.
#[derive(Debug, Clone, Copy)]
pub struct PortInputs<'a> {
    /// The last link dump.
    pub host: &'a HostState,
    /// Processes holding taps and macvtaps.
    pub guests: &'a GuestIndex,
    /// libvirt runtime XML: target dev → domain name.
    pub libvirt: &'a HashMap<String, String>,
    /// nsid → `/run/netns` name.
    pub netns_names: &'a HashMap<i32, String>,
    /// Leases by network.
    pub leases: &'a [(String, Lease)],
    /// Guest MACs behind ports and IP neighbours.
    pub neighbours: &'a NeighbourCache,
    /// Our active networks.
    pub networks: &'a [NetworkPorts],
}

/// The counters of `ifindex` in a list sorted by ifindex.
pub fn counters_of(sorted: &[(u32, LinkCounters)], ifindex: u32) -> Option<LinkCounters> {
    sorted
        .binary_search_by_key(&ifindex, |(i, _)| *i)
        .ok()
        .map(|pos| sorted[pos].1)
}

/// Kinds that stand for one guest, whose name and address are worth looking for.
fn is_guest_kind(kind: &LinkKind) -> bool {
    matches!(kind, LinkKind::Tun | LinkKind::Veth | LinkKind::Macvtap)
}

/// Every port of every bridge, then every macvtap, ordered by bridge (or parent) and ifindex.
pub fn assemble_ports(inputs: &PortInputs<'_>) -> Vec<PortInfo> {
    let links: HashMap<u32, &LinkInfo> = inputs.host.links.iter().map(|l| (l.ifindex, l)).collect();
    let ip_index = inputs.neighbours.ip_index();
    let ctx = Context {
        inputs,
        links: &links,
        ip_index: &ip_index,
    };
    let mut ports: Vec<PortInfo> = inputs
        .host
        .links
        .iter()
        .filter_map(|l| ctx.port(l))
        .collect();
    ports.sort_by(|a, b| {
        let side = |p: &PortInfo| p.bridge.clone().or_else(|| p.parent.clone());
        (side(a), a.ifindex).cmp(&(side(b), b.ifindex))
    });
    ports
}

/// Lookups shared by every port of one assembly.
struct Context<'a> {
    inputs: &'a PortInputs<'a>,
    links: &'a HashMap<u32, &'a LinkInfo>,
    ip_index: &'a HashMap<(u32, Mac), IpAddr>,
}

impl Context<'_> {
    fn name_of(&self, ifindex: Option<u32>) -> Option<String> {
        ifindex
            .and_then(|i| self.links.get(&i))
            .map(|l| l.name.clone())
    }

    /// The port view of `link`, if it is a bridge port or a macvtap.
    fn port(&self, link: &LinkInfo) -> Option<PortInfo> {
        let master = link
            .master
            .and_then(|m| self.links.get(&m))
            .filter(|m| m.kind == LinkKind::Bridge);
        let macvtap = link.kind == LinkKind::Macvtap;
        if master.is_none() && !macvtap {
            return None;
        }
        let bridge = master.map(|m| m.name.clone());
        let parent = if macvtap {
            self.name_of(link.parent)
        } else {
            None
        };
        let network = self.network_of(bridge.as_deref(), parent.as_deref());
        let guest_kind = is_guest_kind(&link.kind);
        let guest_macs = if !guest_kind {
            Vec::new()
        } else if macvtap {
            link.mac.into_iter().collect()
        } else {
            self.inputs.neighbours.macs_behind(link.ifindex).to_vec()
        };
        let (ip, ip_source, guest_mac) = self.address(
            &guest_macs,
            network.as_deref(),
            master.map(|m| m.ifindex).or(link.parent),
        );
        Some(PortInfo {
            ifindex: link.ifindex,
            ifname: link.name.clone(),
            kind: link.kind.name().to_owned(),
            bridge,
            parent,
            network,
            mac: link.mac.map(|m| MacAddr(m).to_string()),
            guest_mac: guest_mac.map(|m| MacAddr(m).to_string()),
            mtu: link.mtu,
            up: link.admin_up,
            oper_state: link.oper_state.clone(),
            guest: guest_kind.then(|| self.guest(link)).flatten(),
            ip: ip.map(|i| i.to_string()),
            ip_source,
        })
    }

    fn network_of(&self, bridge: Option<&str>, parent: Option<&str>) -> Option<String> {
        let nets = self.inputs.networks;
        let found = match (bridge, parent) {
            (Some(b), _) => nets.iter().find(|n| n.bridge.as_deref() == Some(b)),
            (None, Some(p)) => nets.iter().find(|n| n.macvtap_pool.iter().any(|d| d == p)),
            (None, None) => None,
        };
        found.map(|n| n.network.clone())
    }

    /// The guest's address, its source and the MAC it was found by: a lease of the port's
    /// network for any MAC behind the port (most recent MAC first), else a neighbour entry on
    /// the bridge (or the macvtap's parent). Without either, the most recent MAC.
    fn address(
        &self,
        macs: &[Mac],
        network: Option<&str>,
        neighbour_dev: Option<u32>,
    ) -> (Option<IpAddr>, Option<IpSource>, Option<Mac>) {
        for mac in macs.iter().rev() {
            if let Some(ip) = network.and_then(|n| self.lease_ip(n, mac)) {
                return (Some(ip), Some(IpSource::Lease), Some(*mac));
            }
        }
        for mac in macs.iter().rev() {
            if let Some(ip) = neighbour_dev.and_then(|d| self.ip_index.get(&(d, *mac))) {
                return (Some(*ip), Some(IpSource::Neighbour), Some(*mac));
            }
        }
        (None, None, macs.last().copied())
    }

    /// The lease of `network` for `mac`: IPv4 first, then the one expiring last.
    fn lease_ip(&self, network: &str, mac: &Mac) -> Option<IpAddr> {
        let text = MacAddr(*mac).to_string();
        self.inputs
            .leases
            .iter()
            .filter(|(n, l)| n == network && l.mac.as_deref() == Some(text.as_str()))
            .map(|(_, l)| l)
            .max_by_key(|l| (l.ip.is_ipv4(), l.expiry.unwrap_or(u64::MAX)))
            .map(|l| l.ip)
    }

    /// Who is behind a tap, macvtap or veth: a QEMU guest name, a libvirt domain, a process,
    /// or the veth peer's namespace.
    fn guest(&self, link: &LinkInfo) -> Option<String> {
        let process = self.inputs.guests.guest_of(&link.name, link.ifindex);
        if let Some(p) = process.filter(|p| p.qemu_named) {
            return Some(p.name.clone());
        }
        if let Some(domain) = self.inputs.libvirt.get(&link.name) {
            return Some(domain.clone());
        }
        if let Some(p) = process {
            return Some(p.name.clone());
        }
        let nsid = link.peer_netnsid.filter(|_| link.kind == LinkKind::Veth)?;
        Some(
            self.inputs
                .netns_names
                .get(&nsid)
                .cloned()
                .unwrap_or_else(|| format!("netns id {nsid}")),
        )
    }
}

#[cfg(test)]
#[path = "ports_tests.rs"]
mod tests;
