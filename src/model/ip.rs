//! `<ip>` blocks with DHCP, and `<route>` static routes.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::extra::Extra;
use super::mac::MacAddr;

/// `family='ipv4'|'ipv6'` as written; the effective family comes from the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpFamily {
    /// `ipv4`
    V4,
    /// `ipv6`
    V6,
}

impl IpFamily {
    /// The XML attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            IpFamily::V4 => "ipv4",
            IpFamily::V6 => "ipv6",
        }
    }

    /// The family of an address.
    pub fn of(addr: &IpAddr) -> IpFamily {
        if addr.is_ipv4() {
            IpFamily::V4
        } else {
            IpFamily::V6
        }
    }
}

/// One `<ip>` block: the bridge's address on the network, plus DHCP/TFTP settings.
/// Exactly one of `prefix`/`netmask` is normally set; which one is kept as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpDef {
    /// `family` attribute as written (optional in the XML).
    pub family: Option<IpFamily>,
    /// The host's (gateway) address on this network.
    pub address: IpAddr,
    /// `prefix='24'` form.
    pub prefix: Option<u8>,
    /// `netmask='255.255.255.0'` form (IPv4 only).
    pub netmask: Option<Ipv4Addr>,
    /// `localPtr='yes'`: answer reverse lookups locally.
    pub local_ptr: Option<bool>,
    /// `<tftp root=…>` (IPv4 only).
    pub tftp_root: Option<String>,
    /// `<dhcp>`.
    pub dhcp: Option<DhcpDef>,
    /// Unknown attributes and children.
    pub extra: Extra,
}

impl IpDef {
    /// An `<ip address=… prefix=…>` block with nothing else.
    pub fn with_prefix(address: IpAddr, prefix: u8) -> Self {
        IpDef {
            family: address.is_ipv6().then_some(IpFamily::V6),
            address,
            prefix: Some(prefix),
            netmask: None,
            local_ptr: None,
            tftp_root: None,
            dhcp: None,
            extra: Extra::default(),
        }
    }

    /// Effective prefix length: `prefix`, else the netmask's bits, else libvirt's default
    /// (classful for IPv4, 64 for IPv6). `None` for a non-contiguous netmask or a class D/E
    /// address without a prefix.
    pub fn prefix_len(&self) -> Option<u8> {
        if let Some(p) = self.prefix {
            return Some(p);
        }
        if let Some(mask) = self.netmask {
            return netmask_bits(mask);
        }
        match self.address {
            IpAddr::V4(a) => classful_prefix(a),
            IpAddr::V6(_) => Some(64),
        }
    }

    /// Address with effective prefix (the gateway form, not truncated). `None` when the
    /// prefix is missing or out of range for the family.
    pub fn net(&self) -> Option<IpNet> {
        IpNet::new(self.address, self.prefix_len()?).ok()
    }

    /// The DHCP ranges, empty when there is no `<dhcp>`.
    pub fn ranges(&self) -> &[DhcpRange] {
        self.dhcp.as_ref().map_or(&[], |d| &d.ranges)
    }

    /// The static DHCP hosts, empty when there is no `<dhcp>`.
    pub fn hosts(&self) -> &[DhcpHost] {
        self.dhcp.as_ref().map_or(&[], |d| &d.hosts)
    }
}

/// Number of leading one bits of a contiguous netmask; `None` if the mask has holes.
pub fn netmask_bits(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let ones = m.leading_ones();
    (m.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

/// libvirt's default prefix for an IPv4 address written without prefix or netmask.
pub fn classful_prefix(addr: Ipv4Addr) -> Option<u8> {
    match addr.octets()[0] {
        0..=127 => Some(8),
        128..=191 => Some(16),
        192..=223 => Some(24),
        _ => None,
    }
}

/// `<dhcp>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DhcpDef {
    /// `<range>`s handed out dynamically.
    pub ranges: Vec<DhcpRange>,
    /// `<host>` static leases.
    pub hosts: Vec<DhcpHost>,
    /// `<bootp file server>` (IPv4 only).
    pub bootp: Option<BootpDef>,
    /// Unknown attributes and children.
    pub extra: Extra,
}

impl DhcpDef {
    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
            && self.hosts.is_empty()
            && self.bootp.is_none()
            && self.extra.is_empty()
    }
}

/// `<range start end>` with optional `<lease>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhcpRange {
    /// First address handed out.
    pub start: IpAddr,
    /// Last address handed out.
    pub end: IpAddr,
    /// Lease time for this range.
    pub lease: Option<LeaseDef>,
    /// Unknown attributes and children.
    pub extra: Extra,
}

impl DhcpRange {
    /// A range with no lease time.
    pub fn new(start: IpAddr, end: IpAddr) -> Self {
        DhcpRange {
            start,
            end,
            lease: None,
            extra: Extra::default(),
        }
    }
}

/// `<host mac id name ip>` static DHCP entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DhcpHost {
    /// Client MAC (IPv4). Every comparison (duplicates, lookups, dnsmasq's hosts file) uses
    /// this parsed value.
    pub mac: Option<MacAddr>,
    /// The `mac` attribute as written, kept only when it is not `mac`'s canonical spelling
    /// (upper case, single-digit groups): libvirt writes a host's MAC back as written. The
    /// writer uses it only while it still spells `mac`, so changing `mac` alone is safe.
    pub mac_written: Option<String>,
    /// DHCPv6 client DUID, hex with colons.
    pub id: Option<String>,
    /// Host name given to the client.
    pub name: Option<String>,
    /// Fixed address.
    pub ip: Option<IpAddr>,
    /// Lease time for this host.
    pub lease: Option<LeaseDef>,
    /// Unknown attributes and children.
    pub extra: Extra,
}

impl DhcpHost {
    /// The `mac` attribute to write: as written when that still spells `mac`, else the
    /// canonical lower-case form.
    pub fn mac_text(&self) -> Option<String> {
        let mac = self.mac?;
        let written = self
            .mac_written
            .as_deref()
            .filter(|w| w.parse::<MacAddr>().ok() == Some(mac));
        Some(written.map_or_else(|| mac.to_string(), str::to_string))
    }
}

/// `<lease expiry unit>`; expiry 0 means infinite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseDef {
    /// Lease length in `unit`s; 0 = infinite.
    pub expiry: u64,
    /// Unit (libvirt's default is minutes).
    pub unit: LeaseUnit,
}

impl LeaseDef {
    /// Lease length in seconds; `None` for infinite.
    pub fn seconds(&self) -> Option<u64> {
        if self.expiry == 0 {
            return None;
        }
        Some(self.expiry.saturating_mul(self.unit.seconds()))
    }
}

/// Unit of a lease time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LeaseUnit {
    /// seconds
    Seconds,
    /// minutes (default)
    #[default]
    Minutes,
    /// hours
    Hours,
}

impl LeaseUnit {
    /// The XML attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseUnit::Seconds => "seconds",
            LeaseUnit::Minutes => "minutes",
            LeaseUnit::Hours => "hours",
        }
    }

    /// Seconds per unit.
    pub fn seconds(self) -> u64 {
        match self {
            LeaseUnit::Seconds => 1,
            LeaseUnit::Minutes => 60,
            LeaseUnit::Hours => 3600,
        }
    }
}

/// `<bootp file server>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootpDef {
    /// Boot file name.
    pub file: String,
    /// Boot server, when not this host.
    pub server: Option<IpAddr>,
}

/// `<route address prefix|netmask gateway metric>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteDef {
    /// `family` attribute as written.
    pub family: Option<IpFamily>,
    /// Destination network address.
    pub address: IpAddr,
    /// `prefix` form.
    pub prefix: Option<u8>,
    /// `netmask` form (IPv4).
    pub netmask: Option<Ipv4Addr>,
    /// Next hop, which must be on one of this network's subnets.
    pub gateway: IpAddr,
    /// Route metric.
    pub metric: Option<u32>,
    /// Unknown attributes and children.
    pub extra: Extra,
}

impl RouteDef {
    /// Effective destination prefix length (netmask bits, prefix, or host-route default).
    pub fn prefix_len(&self) -> Option<u8> {
        if let Some(p) = self.prefix {
            return Some(p);
        }
        match (self.netmask, self.address) {
            (Some(mask), _) => netmask_bits(mask),
            (None, IpAddr::V4(_)) => Some(32),
            (None, IpAddr::V6(_)) => Some(128),
        }
    }

    /// The destination as a network, when the prefix is valid.
    pub fn net(&self) -> Option<IpNet> {
        IpNet::new(self.address, self.prefix_len()?)
            .ok()
            .map(|n| n.trunc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmask_bits_contiguous_only() {
        assert_eq!(netmask_bits(Ipv4Addr::new(255, 255, 255, 0)), Some(24));
        assert_eq!(netmask_bits(Ipv4Addr::new(255, 255, 255, 255)), Some(32));
        assert_eq!(netmask_bits(Ipv4Addr::new(0, 0, 0, 0)), Some(0));
        assert_eq!(netmask_bits(Ipv4Addr::new(255, 0, 255, 0)), None);
    }

    #[test]
    fn prefix_defaults_like_libvirt() {
        let ip = |a: &str| IpDef {
            prefix: None,
            ..IpDef::with_prefix(a.parse().expect("addr"), 1)
        };
        assert_eq!(ip("10.24.10.1").prefix_len(), Some(8));
        assert_eq!(ip("172.16.0.1").prefix_len(), Some(16));
        assert_eq!(ip("192.168.1.1").prefix_len(), Some(24));
        assert_eq!(ip("2001:db8::1").prefix_len(), Some(64));
        assert_eq!(ip("224.0.0.1").prefix_len(), None);
    }
}
