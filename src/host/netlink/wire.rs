//! Lean decoding of the rtnetlink messages read in bulk: `RTM_NEWLINK` and `RTM_NEWNEIGH` for
//! the live views, `RTM_NEWADDR` and `RTM_NEWROUTE` for the look a start or stop takes,
//! straight from the kernel's bytes into switchyard's records.
//!
//! A link message of a dump carries dozens of attributes (per-family configuration, VF and
//! XDP data, two sets of counters); the generic decoder builds every one of them, with an
//! allocation each, before [`super::decode::link_info`] picks ten. Here only the attributes a
//! [`LinkInfo`] holds are looked at, in place, and everything else is skipped by its length;
//! the result is the same record (the tests check both decoders against each other).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::DecodeError;
use netlink_packet_route::link::Stats64;

use ipnet::IpNet;

use crate::state::{AddrInfo, BridgeAttrs, LinkInfo, LinkKind, Mac, Neighbour, RouteInfo};

/// Size of `struct ifinfomsg`.
const IFINFOMSG_LEN: usize = 16;
/// Size of `struct ndmsg`.
const NDMSG_LEN: usize = 12;
/// Size of `struct ifaddrmsg`.
const IFADDRMSG_LEN: usize = 8;
/// Size of `struct rtmsg`.
const RTMSG_LEN: usize = 12;
/// An attribute's type without `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER`.
const NLA_TYPE_MASK: u16 = 0x3fff;

// include/uapi/linux/if_link.h
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINK: u16 = 5;
const IFLA_MASTER: u16 = 10;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKINFO: u16 = 18;
const IFLA_STATS64: u16 = 23;
const IFLA_LINK_NETNSID: u16 = 37;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_BR_FORWARD_DELAY: u16 = 1;
const IFLA_BR_STP_STATE: u16 = 5;
const IFLA_MACVLAN_MODE: u16 = 1;

// include/uapi/linux/if.h, if_arp.h
const IFF_UP: u32 = 0x1;
const IFF_LOOPBACK: u32 = 0x8;
const ARPHRD_LOOPBACK: u16 = 772;

// include/uapi/linux/neighbour.h, socket.h
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
const NUD_REACHABLE: u16 = 0x02;
const NUD_STALE: u16 = 0x04;
const NUD_DELAY: u16 = 0x08;
const NUD_PROBE: u16 = 0x10;
const NUD_NOARP: u16 = 0x40;
const NUD_PERMANENT: u16 = 0x80;
const NTF_SELF: u8 = 0x02;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const AF_BRIDGE: u8 = 7;

// include/uapi/linux/if_addr.h, rtnetlink.h
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_TABLE: u16 = 15;
const RTN_UNICAST: u8 = 1;
const RTM_F_CLONED: u32 = 0x200;
const RT_TABLE_MAIN: u32 = 254;

/// An error naming the message that did not decode.
fn bad(what: &'static str) -> impl Fn(DecodeError) -> DecodeError {
    move |e| DecodeError::from(format!("{what}: {e}"))
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A native-endian `u32` attribute value; `None` when it is too short.
fn u32_value(v: &[u8]) -> Option<u32> {
    (v.len() >= 4).then(|| u32_at(v, 0))
}

/// A NUL-terminated (or not) string attribute value.
fn str_value(v: &[u8]) -> String {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    String::from_utf8_lossy(&v[..end]).into_owned()
}

/// The attributes of `data`, each as `(type, value)` (type without the nested and
/// byte-order flags); a malformed one is an error and ends the walk.
fn attrs(data: &[u8]) -> Attrs<'_> {
    Attrs { rest: data }
}

struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(u16, &'a [u8]), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        let len = if rest.len() >= 4 {
            usize::from(u16_at(rest, 0))
        } else {
            0
        };
        if len < 4 || len > rest.len() {
            self.rest = &[];
            return Some(Err(DecodeError::from(format!(
                "attribute of length {len} in {} bytes",
                rest.len()
            ))));
        }
        let kind = u16_at(rest, 2) & NLA_TYPE_MASK;
        self.rest = &rest[((len + 3) & !3).min(rest.len())..];
        Some(Ok((kind, &rest[4..len])))
    }
}

/// One `RTM_NEWLINK` payload (`ifinfomsg` and attributes) to a [`LinkInfo`], counters
/// included when the message carries `IFLA_STATS64`.
pub fn link_info(payload: &[u8]) -> Result<LinkInfo, DecodeError> {
    if payload.len() < IFINFOMSG_LEN {
        return Err(DecodeError::from("RTM_NEWLINK: short ifinfomsg"));
    }
    let link_type = u16_at(payload, 2);
    let ifindex = u32_at(payload, 4);
    let flags = u32_at(payload, 8);
    let loopback = link_type == ARPHRD_LOOPBACK || flags & IFF_LOOPBACK != 0;
    let mut link = LinkInfo {
        ifindex,
        name: String::new(),
        kind: if loopback {
            LinkKind::Loopback
        } else {
            LinkKind::Physical
        },
        master: None,
        parent: None,
        mac: None,
        mtu: 0,
        admin_up: flags & IFF_UP != 0,
        oper_state: String::new(),
        stats: None,
        macvtap_mode: None,
        bridge: None,
        peer_netnsid: None,
    };
    let mut oper_state = None;
    for attr in attrs(&payload[IFINFOMSG_LEN..]) {
        let (kind, v) = attr.map_err(bad("RTM_NEWLINK"))?;
        match kind {
            IFLA_IFNAME => link.name = str_value(v),
            IFLA_MASTER => link.master = u32_value(v),
            IFLA_LINK => link.parent = u32_value(v),
            IFLA_ADDRESS => link.mac = Mac::try_from(v).ok(),
            IFLA_MTU => link.mtu = u32_value(v).unwrap_or(0),
            IFLA_OPERSTATE => oper_state = v.first().copied(),
            IFLA_STATS64 => {
                let stats = Stats64::parse(v).map_err(bad("IFLA_STATS64"))?;
                link.stats = Some(super::decode::counters(&stats));
            }
            IFLA_LINK_NETNSID => link.peer_netnsid = u32_value(v).map(|n| n as i32),
            IFLA_LINKINFO => apply_link_info(&mut link, v)?,
            _ => {}
        }
    }
    if link.name.is_empty() {
        link.name = format!("if{ifindex}");
    }
    link.oper_state = oper_state_name(oper_state.unwrap_or(0));
    Ok(link)
}

/// `IFLA_LINKINFO`: the kind, and the bridge or macvlan/macvtap data.
fn apply_link_info(link: &mut LinkInfo, data: &[u8]) -> Result<(), DecodeError> {
    let mut kind = None;
    let mut info_data = None;
    for attr in attrs(data) {
        match attr.map_err(bad("IFLA_LINKINFO"))? {
            (IFLA_INFO_KIND, v) => kind = Some(v),
            (IFLA_INFO_DATA, v) => info_data = Some(v),
            _ => {}
        }
    }
    let Some(kind) = kind else { return Ok(()) };
    let kind = str_value(kind);
    link.kind = link_kind(&kind);
    let Some(data) = info_data else { return Ok(()) };
    match kind.as_str() {
        "bridge" => {
            let mut attrs_br = BridgeAttrs {
                stp: false,
                forward_delay_cs: 0,
            };
            for attr in attrs(data) {
                match attr.map_err(bad("IFLA_INFO_DATA"))? {
                    (IFLA_BR_STP_STATE, v) => attrs_br.stp = u32_value(v).is_some_and(|s| s != 0),
                    (IFLA_BR_FORWARD_DELAY, v) => {
                        attrs_br.forward_delay_cs = u32_value(v).unwrap_or(0)
                    }
                    _ => {}
                }
            }
            link.bridge = Some(attrs_br);
        }
        "macvtap" | "macvlan" => {
            for attr in attrs(data) {
                if let (IFLA_MACVLAN_MODE, v) = attr.map_err(bad("IFLA_INFO_DATA"))? {
                    link.macvtap_mode = u32_value(v).map(macvlan_mode_name);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The kernel's kind name as switchyard's kind.
fn link_kind(kind: &str) -> LinkKind {
    match kind {
        "bridge" => LinkKind::Bridge,
        "veth" => LinkKind::Veth,
        "tun" => LinkKind::Tun,
        "macvtap" => LinkKind::Macvtap,
        "macvlan" => LinkKind::Macvlan,
        "bond" => LinkKind::Bond,
        "vlan" => LinkKind::Vlan,
        other => LinkKind::Other(other.to_owned()),
    }
}

/// `IF_OPER_*` in `ip link`'s words, lower case.
fn oper_state_name(state: u8) -> String {
    match state {
        0 => "unknown",
        1 => "notpresent",
        2 => "down",
        3 => "lowerlayerdown",
        4 => "testing",
        5 => "dormant",
        6 => "up",
        other => return other.to_string(),
    }
    .to_owned()
}

/// `MACVLAN_MODE_*` in `ip link`'s words.
fn macvlan_mode_name(mode: u32) -> String {
    match mode {
        1 => "private".to_owned(),
        2 => "vepa".to_owned(),
        4 => "bridge".to_owned(),
        8 => "passthru".to_owned(),
        16 => "source".to_owned(),
        other => format!("mode{other}"),
    }
}

/// One `RTM_NEWNEIGH`/`RTM_DELNEIGH` payload (`ndmsg` and attributes) to the entry it
/// carries, if it is one switchyard follows (see [`super::neigh::neighbour`], which this
/// matches): bridge entries for the ports' own or multicast MACs are skipped before their
/// attributes are read.
pub fn neighbour(payload: &[u8]) -> Result<Option<Neighbour>, DecodeError> {
    if payload.len() < NDMSG_LEN {
        return Err(DecodeError::from("RTM_NEWNEIGH: short ndmsg"));
    }
    let family = payload[0];
    let ifindex = u32_at(payload, 4);
    let state = u16_at(payload, 8);
    let flags = payload[10];
    let bridge = family == AF_BRIDGE;
    if bridge && (state == NUD_PERMANENT || flags & NTF_SELF != 0) {
        return Ok(None);
    }
    if !bridge && family != AF_INET && family != AF_INET6 {
        return Ok(None);
    }
    let (mut dst, mut lladdr) = (None, None);
    for attr in attrs(&payload[NDMSG_LEN..]) {
        match attr.map_err(bad("RTM_NEWNEIGH"))? {
            (NDA_DST, v) => dst = ip_value(v),
            (NDA_LLADDR, v) => lladdr = Mac::try_from(v).ok(),
            _ => {}
        }
    }
    if bridge {
        return Ok(lladdr
            .filter(|mac| mac[0] & 1 == 0)
            .map(|mac| Neighbour::Learned { port: ifindex, mac }));
    }
    let usable = matches!(
        state,
        NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP
    );
    Ok(dst.map(|ip| Neighbour::Ip {
        ifindex,
        ip,
        mac: lladdr.filter(|_| usable),
    }))
}

/// One `RTM_NEWADDR` payload (`ifaddrmsg` and attributes) to an [`AddrInfo`] (as
/// [`super::decode::addr_info`] reads it: `IFA_LOCAL`, else `IFA_ADDRESS`); `None` for an
/// address of another family or without either attribute.
pub fn addr_info(payload: &[u8]) -> Result<Option<AddrInfo>, DecodeError> {
    if payload.len() < IFADDRMSG_LEN {
        return Err(DecodeError::from("RTM_NEWADDR: short ifaddrmsg"));
    }
    let prefix_len = payload[1];
    let ifindex = u32_at(payload, 4);
    let (mut local, mut address) = (None, None);
    for attr in attrs(&payload[IFADDRMSG_LEN..]) {
        match attr.map_err(bad("RTM_NEWADDR"))? {
            (IFA_LOCAL, v) => local = ip_value(v),
            (IFA_ADDRESS, v) => address = ip_value(v),
            _ => {}
        }
    }
    Ok(local
        .or(address)
        .and_then(|ip| IpNet::new(ip, prefix_len).ok())
        .map(|net| AddrInfo { ifindex, net }))
}

/// One `RTM_NEWROUTE` payload (`rtmsg` and attributes) to a [`RouteInfo`] when it is a
/// unicast route of the main table that is not a cloned cache entry (as
/// [`super::decode::main_route_info`] keeps them).
pub fn main_route_info(payload: &[u8]) -> Result<Option<RouteInfo>, DecodeError> {
    if payload.len() < RTMSG_LEN {
        return Err(DecodeError::from("RTM_NEWROUTE: short rtmsg"));
    }
    let family = payload[0];
    let dst_len = payload[1];
    let mut table = u32::from(payload[4]);
    let protocol = payload[5];
    let kind = payload[7];
    let flags = u32_at(payload, 8);
    if kind != RTN_UNICAST || flags & RTM_F_CLONED != 0 {
        return Ok(None);
    }
    let (mut dst, mut gateway, mut oif) = (None, None, None);
    for attr in attrs(&payload[RTMSG_LEN..]) {
        match attr.map_err(bad("RTM_NEWROUTE"))? {
            (RTA_DST, v) => dst = ip_value(v),
            (RTA_GATEWAY, v) => gateway = ip_value(v),
            (RTA_OIF, v) => oif = u32_value(v),
            (RTA_TABLE, v) => table = u32_value(v).unwrap_or(table),
            _ => {}
        }
    }
    if table != RT_TABLE_MAIN {
        return Ok(None);
    }
    let unspecified = match family {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        _ => None,
    };
    Ok(dst
        .or(unspecified)
        .and_then(|ip| IpNet::new(ip, dst_len).ok())
        .map(|dest| RouteInfo {
            dest,
            gateway,
            oif,
            table,
            protocol,
        }))
}

fn ip_value(v: &[u8]) -> Option<IpAddr> {
    match v.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(v).ok()?))),
        16 => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(v).ok()?))),
        _ => None,
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
