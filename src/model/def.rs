//! `NetworkDef`: the desired configuration of one virtual network, as libvirt's network XML
//! carries it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use ipnet::IpNet;
use uuid::Uuid;

use super::dns::DnsDef;
use super::extra::{Extra, XmlElement};
use super::ip::{DhcpRange, IpDef, RouteDef};
use super::mac::MacAddr;
use super::port::{BandwidthDef, PortGroupDef, VirtualPortDef, VlanDef};

/// The taint of a network that passes raw options to dnsmasq (see [`NetworkDef::taints`]).
pub const TAINT_DNSMASQ_OPTIONS: &str = "custom-dnsmasq-options";

/// One network definition (libvirt `<network>`). `forward == None` is an isolated network.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkDef {
    /// `<name>`: unique, used on the command line and in file names.
    pub name: String,
    /// `<uuid>`; filled in by `fill_defaults` when absent.
    pub uuid: Option<Uuid>,
    /// `<title>`: one-line summary.
    pub title: Option<String>,
    /// `<description>`: free text.
    pub description: Option<String>,
    /// `<metadata>` element, kept verbatim (applications' own namespaced data).
    pub metadata: Option<XmlElement>,
    /// `<network ipv6='yes'>`: allow guest-to-guest IPv6 without an IPv6 address on the bridge
    /// (libvirt's `ipv6nogw`). Not to be confused with [`NetworkDef::ipv6`].
    pub ipv6_no_gateway: bool,
    /// `<network trustGuestRxFilters=…>`.
    pub trust_guest_rx_filters: Option<bool>,
    /// `<forward>`; `None` means isolated.
    pub forward: Option<ForwardDef>,
    /// `<bridge>`.
    pub bridge: Option<BridgeDef>,
    /// `<mtu size=…>` in bytes.
    pub mtu: Option<u32>,
    /// `<mac address=…>`: the bridge's own MAC.
    pub mac: Option<MacAddr>,
    /// `<domain>`: DNS domain served by dnsmasq.
    pub domain: Option<DomainDef>,
    /// `<dns>`.
    pub dns: Option<DnsDef>,
    /// `<vlan>`.
    pub vlan: Option<VlanDef>,
    /// `<bandwidth>`: network-wide rate limits.
    pub bandwidth: Option<BandwidthDef>,
    /// `<port isolated=…>`: isolate guest ports from each other.
    pub port_isolated: Option<bool>,
    /// `<ip>` blocks in document order.
    pub ips: Vec<IpDef>,
    /// `<route>` static routes.
    pub routes: Vec<RouteDef>,
    /// `<virtualport>`.
    pub virtualport: Option<VirtualPortDef>,
    /// `<portgroup>` elements.
    pub portgroups: Vec<PortGroupDef>,
    /// `<dnsmasq:options>`: raw `value`s of `<dnsmasq:option>`.
    pub dnsmasq_options: Vec<String>,
    /// Unknown attributes of `<network>` and unknown child elements.
    pub extra: Extra,
}

/// `<forward mode=…>` values. Isolated networks have no `<forward>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ForwardMode {
    /// NAT (masquerade) out through the host's default route or `dev`.
    #[default]
    Nat,
    /// Plain routing, no NAT.
    Route,
    /// Bridge with addresses but no firewall rules at all.
    Open,
    /// An existing host bridge, or a macvtap bridge pool when `<interface>`s are given.
    Bridge,
    /// macvtap private mode.
    Private,
    /// macvtap VEPA mode.
    Vepa,
    /// macvtap passthrough mode.
    Passthrough,
    /// PCI/SR-IOV hostdev assignment.
    Hostdev,
}

impl ForwardMode {
    /// All modes, in libvirt's order.
    pub const ALL: [ForwardMode; 8] = [
        ForwardMode::Nat,
        ForwardMode::Route,
        ForwardMode::Open,
        ForwardMode::Bridge,
        ForwardMode::Private,
        ForwardMode::Vepa,
        ForwardMode::Passthrough,
        ForwardMode::Hostdev,
    ];

    /// The XML attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            ForwardMode::Nat => "nat",
            ForwardMode::Route => "route",
            ForwardMode::Open => "open",
            ForwardMode::Bridge => "bridge",
            ForwardMode::Private => "private",
            ForwardMode::Vepa => "vepa",
            ForwardMode::Passthrough => "passthrough",
            ForwardMode::Hostdev => "hostdev",
        }
    }
}

impl FromStr for ForwardMode {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        ForwardMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or(())
    }
}

impl fmt::Display for ForwardMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `<forward>`. `dev='x'` is folded into `interfaces[0]`, as libvirt does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForwardDef {
    /// The mode; `<forward/>` without a mode is NAT.
    pub mode: ForwardMode,
    /// `managed='yes'` (hostdev only; libvirt always writes it for hostdev).
    pub managed: bool,
    /// `<driver name=…>` (hostdev: `vfio` or `kvm`).
    pub driver: Option<String>,
    /// `<nat>`: SNAT address and port ranges, IPv6 NAT.
    pub nat: Option<NatDef>,
    /// `<pf dev=…>`: SR-IOV physical function.
    pub pf: Option<String>,
    /// `<interface dev=…>` pool (or the single outgoing device for nat/route).
    pub interfaces: Vec<String>,
    /// `<address type='pci' …>` pool for hostdev/passthrough.
    pub addresses: Vec<PciAddr>,
    /// Unknown attributes and children.
    pub extra: Extra,
}

impl ForwardDef {
    /// A `<forward mode=…/>` with nothing else.
    pub fn new(mode: ForwardMode) -> Self {
        ForwardDef {
            mode,
            ..ForwardDef::default()
        }
    }

    /// The `dev` attribute libvirt writes: the first interface unless a `<pf>` is present.
    pub fn dev(&self) -> Option<&str> {
        if self.pf.is_some() {
            return None;
        }
        self.interfaces.first().map(String::as_str)
    }
}

/// `<nat>` inside `<forward mode='nat'>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NatDef {
    /// `<address start end>`: SNAT to this IPv4 range instead of masquerading.
    pub addresses: Option<(Ipv4Addr, Ipv4Addr)>,
    /// `<port start end>`: source port range.
    pub ports: Option<(u16, u16)>,
    /// `ipv6='yes'`: NAT IPv6 too.
    pub ipv6: Option<bool>,
    /// Unknown attributes and children.
    pub extra: Extra,
}

/// A PCI address `domain:bus:slot.function`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PciAddr {
    /// PCI domain (segment).
    pub domain: u16,
    /// Bus number.
    pub bus: u8,
    /// Slot (0-31).
    pub slot: u8,
    /// Function (0-7).
    pub function: u8,
}

impl fmt::Display for PciAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04x}:{:02x}:{:02x}.{:x}",
            self.domain, self.bus, self.slot, self.function
        )
    }
}

/// `<bridge>`. `stp`/`delay` keep what the user wrote; see [`NetworkDef::stp`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BridgeDef {
    /// Bridge interface name (ours for own-bridge modes, the host's for mode bridge).
    pub name: Option<String>,
    /// firewalld zone.
    pub zone: Option<String>,
    /// `stp='on'|'off'`; libvirt's default is on.
    pub stp: Option<bool>,
    /// Forward delay in seconds; default 0.
    pub delay: Option<u64>,
    /// `macTableManager='kernel'|'libvirt'`.
    pub mac_table_manager: Option<MacTableManager>,
    /// Unknown attributes and children.
    pub extra: Extra,
}

/// Who manages the bridge's forwarding database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MacTableManager {
    /// The kernel learns addresses (flooding on).
    Kernel,
    /// Addresses are programmed explicitly, flooding off.
    Libvirt,
}

impl MacTableManager {
    /// The XML attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            MacTableManager::Kernel => "kernel",
            MacTableManager::Libvirt => "libvirt",
        }
    }
}

/// `<domain name=… localOnly=…>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainDef {
    /// DNS domain name.
    pub name: String,
    /// `localOnly='yes'`: never forward queries for this domain upstream.
    pub local_only: Option<bool>,
    /// Unknown attributes and children.
    pub extra: Extra,
}

impl NetworkDef {
    /// The forward mode in words: nat, route, isolated, open, bridge, private, vepa,
    /// passthrough or hostdev.
    pub fn mode_name(&self) -> &'static str {
        self.forward
            .as_ref()
            .map_or("isolated", |f| f.mode.as_str())
    }

    /// The forward mode, `None` for isolated.
    pub fn mode(&self) -> Option<ForwardMode> {
        self.forward.as_ref().map(|f| f.mode)
    }

    /// True for nat, route, isolated and open: switchyard creates and owns the bridge.
    pub fn uses_own_bridge(&self) -> bool {
        matches!(
            self.mode(),
            None | Some(ForwardMode::Nat | ForwardMode::Route | ForwardMode::Open)
        )
    }

    /// True for macvtap networks: private, vepa, passthrough, and bridge mode with an
    /// interface pool but no `<bridge name>`.
    pub fn is_macvtap(&self) -> bool {
        match self.forward.as_ref() {
            Some(f) => match f.mode {
                ForwardMode::Private | ForwardMode::Vepa | ForwardMode::Passthrough => true,
                ForwardMode::Bridge => !f.interfaces.is_empty() && self.bridge_name().is_none(),
                _ => false,
            },
            None => false,
        }
    }

    /// True for mode bridge attached to an existing host bridge (`<bridge name>` given).
    pub fn is_host_bridge(&self) -> bool {
        self.mode() == Some(ForwardMode::Bridge) && self.bridge_name().is_some()
    }

    /// The `<bridge name>`, if any.
    pub fn bridge_name(&self) -> Option<&str> {
        self.bridge.as_ref().and_then(|b| b.name.as_deref())
    }

    /// Effective STP setting of an own bridge (libvirt default: on).
    pub fn stp(&self) -> bool {
        self.bridge.as_ref().and_then(|b| b.stp).unwrap_or(true)
    }

    /// Effective bridge forward delay in seconds (default 0).
    pub fn delay_secs(&self) -> u64 {
        self.bridge.as_ref().and_then(|b| b.delay).unwrap_or(0)
    }

    /// The first IPv4 `<ip>` block as gateway address + prefix.
    pub fn ipv4(&self) -> Option<IpNet> {
        self.ips
            .iter()
            .find(|ip| ip.address.is_ipv4())
            .and_then(IpDef::net)
    }

    /// The first IPv6 `<ip>` block as gateway address + prefix.
    pub fn ipv6(&self) -> Option<IpNet> {
        self.ips
            .iter()
            .find(|ip| ip.address.is_ipv6())
            .and_then(IpDef::net)
    }

    /// Every DHCP range with the `<ip>` block it belongs to, in document order.
    pub fn dhcp_ranges(&self) -> Vec<(&IpDef, &DhcpRange)> {
        let per_ip = self
            .ips
            .iter()
            .filter_map(|ip| ip.dhcp.as_ref().map(|d| (ip, d)));
        per_ip
            .flat_map(|(ip, d)| d.ranges.iter().map(move |r| (ip, r)))
            .collect()
    }

    /// What makes this network "tainted" in libvirt's sense: settings switchyard passes on
    /// without knowing what they do. Today: raw dnsmasq options (`<dnsmasq:options>`).
    pub fn taints(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.dnsmasq_options.is_empty() {
            out.push(TAINT_DNSMASQ_OPTIONS);
        }
        out
    }

    /// Every address of this network's `<ip>` blocks (the gateway addresses).
    pub fn gateway_addrs(&self) -> Vec<IpAddr> {
        self.ips.iter().map(|ip| ip.address).collect()
    }
}
