//! What was observed of the host, as pure data: links, addresses, routes, forwarding sysctls
//! and link counters. The host layer fills it (the real kernel, or the fake one); the planner,
//! the telemetry and the screens read it. Nothing here touches the system.

mod counters;
mod guests;

pub use counters::LinkCounters;
pub use guests::{GuestIndex, GuestProcess};

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

/// One observation of the host: links, addresses, main-table routes and forwarding sysctls.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct HostState {
    /// All links of the namespace, in kernel dump order (ascending ifindex).
    pub links: Vec<LinkInfo>,
    /// All IPv4 and IPv6 addresses.
    pub addrs: Vec<AddrInfo>,
    /// Unicast routes of the main table, IPv4 and IPv6.
    pub routes: Vec<RouteInfo>,
    /// `net.ipv4.ip_forward` and `net.ipv6.conf.all.forwarding`.
    pub sysctls: ForwardingSysctls,
}

impl HostState {
    /// The link called `name`, if present.
    pub fn link_by_name(&self, name: &str) -> Option<&LinkInfo> {
        self.links.iter().find(|l| l.name == name)
    }

    /// The link with interface index `ifindex`, if present.
    pub fn link_by_index(&self, ifindex: u32) -> Option<&LinkInfo> {
        self.links.iter().find(|l| l.ifindex == ifindex)
    }

    /// Links enslaved to the bridge (or any master) with index `bridge_ifindex`.
    pub fn ports_of(&self, bridge_ifindex: u32) -> impl Iterator<Item = &LinkInfo> {
        self.links
            .iter()
            .filter(move |l| l.master == Some(bridge_ifindex))
    }

    /// Addresses configured on the link with index `ifindex`.
    pub fn addrs_of(&self, ifindex: u32) -> impl Iterator<Item = &IpNet> {
        self.addrs
            .iter()
            .filter(move |a| a.ifindex == ifindex)
            .map(|a| &a.net)
    }
}

/// The links a port list needs, out of `links`: the bridges, the links enslaved to them, the
/// macvtaps and the macvtaps' lower devices; sorted by ifindex, each once. A host that asks
/// the kernel for only these (one dump per kind and per bridge) keeps what it gets through
/// this too, so a kernel that ignores dump filters changes nothing.
pub fn port_links(mut links: Vec<LinkInfo>) -> Vec<LinkInfo> {
    links.sort_by_key(|l| l.ifindex);
    links.dedup_by_key(|l| l.ifindex);
    let bridges: std::collections::BTreeSet<u32> = links
        .iter()
        .filter(|l| l.kind == LinkKind::Bridge)
        .map(|l| l.ifindex)
        .collect();
    let parents: std::collections::BTreeSet<u32> = links
        .iter()
        .filter(|l| l.kind == LinkKind::Macvtap)
        .filter_map(|l| l.parent)
        .collect();
    links.retain(|l| {
        bridges.contains(&l.ifindex)
            || l.master.is_some_and(|m| bridges.contains(&m))
            || l.kind == LinkKind::Macvtap
            || parents.contains(&l.ifindex)
    });
    links
}

/// The host itself, for the header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostSummary {
    /// Host name.
    pub hostname: String,
    /// Kernel release, as `uname -r` prints it.
    pub kernel: String,
    /// Seconds since boot.
    pub uptime_secs: u64,
    /// Load averages over 1, 5 and 15 minutes.
    pub load: [f64; 3],
    /// A simulated host (`--demo`): nothing shown is real.
    pub simulated: bool,
}

/// Kind of a link, from `IFLA_INFO_KIND` (or its absence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum LinkKind {
    Bridge,
    Veth,
    Tun,
    Macvtap,
    Macvlan,
    Bond,
    Vlan,
    Loopback,
    /// No `IFLA_INFO_KIND`: a device with a driver rather than an rtnetlink kind.
    Physical,
    /// Any other rtnetlink kind, by its kernel name (e.g. "vxlan").
    Other(String),
}

impl LinkKind {
    /// The kind in words, as the screens and `ports --json` show it (a tun is a tap).
    pub fn name(&self) -> &str {
        match self {
            LinkKind::Bridge => "bridge",
            LinkKind::Veth => "veth",
            LinkKind::Tun => "tap",
            LinkKind::Macvtap => "macvtap",
            LinkKind::Macvlan => "macvlan",
            LinkKind::Bond => "bond",
            LinkKind::Vlan => "vlan",
            LinkKind::Loopback => "loopback",
            LinkKind::Physical => "physical",
            LinkKind::Other(name) => name,
        }
    }

    /// The kind a [`LinkKind::name`] (or the kernel's `tun`) stands for.
    pub fn from_name(name: &str) -> LinkKind {
        match name {
            "bridge" => LinkKind::Bridge,
            "veth" => LinkKind::Veth,
            "tap" | "tun" => LinkKind::Tun,
            "macvtap" => LinkKind::Macvtap,
            "macvlan" => LinkKind::Macvlan,
            "bond" => LinkKind::Bond,
            "vlan" => LinkKind::Vlan,
            "loopback" => LinkKind::Loopback,
            "physical" => LinkKind::Physical,
            other => LinkKind::Other(other.to_owned()),
        }
    }
}

/// One network interface as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkInfo {
    pub ifindex: u32,
    pub name: String,
    pub kind: LinkKind,
    /// Index of the master (bridge, bond) this link is enslaved to.
    pub master: Option<u32>,
    /// `IFLA_LINK`: the lower device of a macvtap/macvlan/vlan, the peer index of a veth.
    pub parent: Option<u32>,
    pub mac: Option<[u8; 6]>,
    pub mtu: u32,
    /// `IFF_UP`: administratively up.
    pub admin_up: bool,
    /// RFC 2863 operational state in lower case: "up", "down", "unknown", "lowerlayerdown", …
    pub oper_state: String,
    pub stats: Option<LinkStats64>,
    /// "bridge", "vepa", "private", "passthru" (or "source") for macvtap and macvlan.
    pub macvtap_mode: Option<String>,
    pub bridge: Option<BridgeAttrs>,
    /// `IFLA_LINK_NETNSID`: the peer's namespace id when it lives in another namespace.
    pub peer_netnsid: Option<i32>,
}

/// Bridge settings read back from `IFLA_INFO_DATA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BridgeAttrs {
    /// Spanning tree enabled (kernel or user STP).
    pub stp: bool,
    /// Forward delay in centiseconds (the kernel's clock_t unit, as `ip link` takes it).
    pub forward_delay_cs: u32,
}

/// A MAC address as six bytes.
pub type Mac = [u8; 6];

/// One entry of the neighbour tables, as the host reports it (one `RTM_NEWNEIGH` or
/// `RTM_DELNEIGH` on the real kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Neighbour {
    /// An IP neighbour (ARP, NDP) on `ifindex`: its MAC when the entry is usable (reachable or
    /// recently so), `None` when it failed.
    Ip {
        ifindex: u32,
        ip: IpAddr,
        mac: Option<Mac>,
    },
    /// A guest's MAC the bridge learned behind port `port` (never the port's own or a
    /// multicast MAC).
    Learned { port: u32, mac: Mac },
}

/// The counters of `IFLA_STATS64` that switchyard shows.
pub type LinkStats64 = LinkCounters;

/// One address on one interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddrInfo {
    pub ifindex: u32,
    /// Address with its prefix length (host bits kept, as `ip addr` shows it).
    pub net: IpNet,
}

/// One route of the main table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteInfo {
    pub dest: IpNet,
    pub gateway: Option<IpAddr>,
    pub oif: Option<u32>,
    pub table: u32,
    /// `rtm_protocol`: 2 kernel, 3 boot, 4 static, 16 dhcp, …
    pub protocol: u8,
}

/// Forwarding switches; `None` when the value could not be read (e.g. IPv6 disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ForwardingSysctls {
    pub ipv4_forward: Option<bool>,
    pub ipv6_forward: Option<bool>,
    /// `fs.inotify.max_user_instances` (machine-wide), read with them; `None` when unknown or
    /// not ours to change (see [`crate::plan::start::inotify_step`]).
    #[serde(skip)]
    pub inotify_max_user_instances: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(ifindex: u32, name: &str, master: Option<u32>) -> LinkInfo {
        LinkInfo {
            ifindex,
            name: name.to_string(),
            kind: LinkKind::Veth,
            master,
            parent: None,
            mac: None,
            mtu: 1500,
            admin_up: true,
            oper_state: "up".to_string(),
            stats: None,
            macvtap_mode: None,
            bridge: None,
            peer_netnsid: None,
        }
    }

    fn sample() -> HostState {
        let net = |s: &str| s.parse::<IpNet>().expect("test literal");
        HostState {
            links: vec![
                link(1, "br0", None),
                link(2, "vnet0", Some(1)),
                link(3, "vnet1", Some(1)),
                link(4, "other", Some(9)),
            ],
            addrs: vec![
                AddrInfo {
                    ifindex: 1,
                    net: net("192.168.100.1/24"),
                },
                AddrInfo {
                    ifindex: 1,
                    net: net("fd00::1/64"),
                },
                AddrInfo {
                    ifindex: 4,
                    net: net("10.0.0.1/8"),
                },
            ],
            ..HostState::default()
        }
    }

    #[test]
    fn port_links_keep_bridges_their_ports_macvtaps_and_their_parents() {
        let kind = |l: LinkInfo, kind: LinkKind| LinkInfo { kind, ..l };
        let macvtap = LinkInfo {
            parent: Some(5),
            ..kind(link(7, "macvtap0", None), LinkKind::Macvtap)
        };
        let links = vec![
            macvtap.clone(),
            link(3, "vnet1", Some(1)),
            kind(link(1, "br0", None), LinkKind::Bridge),
            link(2, "vnet0", Some(1)),
            link(2, "vnet0", Some(1)),
            // Enslaved, but to a bond: not a port.
            link(4, "eth1", Some(9)),
            kind(link(9, "bond0", None), LinkKind::Bond),
            kind(link(5, "eth0", None), LinkKind::Physical),
            kind(link(6, "eth2", None), LinkKind::Physical),
            // A veth peer on no bridge.
            link(8, "peer0", None),
        ];
        let kept = port_links(links);
        let kept: Vec<(u32, &str)> = kept.iter().map(|l| (l.ifindex, l.name.as_str())).collect();
        assert_eq!(
            kept,
            [
                (1, "br0"),
                (2, "vnet0"),
                (3, "vnet1"),
                (5, "eth0"),
                (7, "macvtap0")
            ]
        );
    }

    #[test]
    fn lookups_by_name_and_index() {
        let s = sample();
        assert_eq!(s.link_by_name("vnet1").map(|l| l.ifindex), Some(3));
        assert_eq!(s.link_by_index(4).map(|l| l.name.as_str()), Some("other"));
        assert!(s.link_by_name("missing").is_none());
        assert!(s.link_by_index(42).is_none());
    }

    #[test]
    fn ports_and_addresses_are_filtered_by_index() {
        let s = sample();
        let ports: Vec<&str> = s.ports_of(1).map(|l| l.name.as_str()).collect();
        assert_eq!(ports, ["vnet0", "vnet1"]);
        let addrs: Vec<String> = s.addrs_of(1).map(|n| n.to_string()).collect();
        assert_eq!(addrs, ["192.168.100.1/24", "fd00::1/64"]);
        assert_eq!(s.addrs_of(2).count(), 0);
    }

    #[test]
    fn serializes_to_json() {
        let json = serde_json::to_value(sample()).expect("plain data serializes");
        assert_eq!(json["links"][1]["master"], 1);
        assert_eq!(json["addrs"][1]["net"], "fd00::1/64");
        assert_eq!(json["links"][0]["kind"], "Veth");
    }
}
