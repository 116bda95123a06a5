//! Pure conversion of rtnetlink dump messages into `HostState` records.

use std::net::IpAddr;

use ipnet::IpNet;
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
use rtnetlink::packet_route::link::{
    InfoBridge, InfoData, InfoKind, InfoMacVlan, InfoMacVtap, LinkAttribute, LinkFlags,
    LinkInfo as NlLinkInfo, LinkLayerType, LinkMessage, MacVlanMode,
};
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteType,
};

use crate::state::{AddrInfo, BridgeAttrs, LinkInfo, LinkKind, RouteInfo};

/// The main routing table id.
pub const MAIN_TABLE: u32 = RouteHeader::RT_TABLE_MAIN as u32;

/// Builds a `LinkInfo` from an RTM_NEWLINK message.
pub fn link_info(msg: &LinkMessage) -> LinkInfo {
    let mut link = LinkInfo {
        ifindex: msg.header.index,
        name: format!("if{}", msg.header.index),
        kind: kind_without_info(msg),
        master: None,
        parent: None,
        mac: None,
        mtu: 0,
        admin_up: msg.header.flags.contains(LinkFlags::Up),
        oper_state: "unknown".to_string(),
        stats: None,
        macvtap_mode: None,
        bridge: None,
        peer_netnsid: None,
    };
    for attr in &msg.attributes {
        apply_link_attribute(&mut link, attr);
    }
    link
}

fn kind_without_info(msg: &LinkMessage) -> LinkKind {
    let loopback = msg.header.link_layer_type == LinkLayerType::Loopback
        || msg.header.flags.contains(LinkFlags::Loopback);
    if loopback {
        LinkKind::Loopback
    } else {
        LinkKind::Physical
    }
}

fn apply_link_attribute(link: &mut LinkInfo, attr: &LinkAttribute) {
    match attr {
        LinkAttribute::IfName(name) => link.name = name.clone(),
        LinkAttribute::Controller(index) => link.master = Some(*index),
        LinkAttribute::Link(index) => link.parent = Some(*index),
        LinkAttribute::Address(bytes) => link.mac = <[u8; 6]>::try_from(bytes.as_slice()).ok(),
        LinkAttribute::Mtu(mtu) => link.mtu = *mtu,
        LinkAttribute::OperState(state) => link.oper_state = state.to_string().to_lowercase(),
        LinkAttribute::Stats64(stats) => link.stats = Some(counters(stats)),
        LinkAttribute::LinkNetNsId(id) => link.peer_netnsid = Some(*id),
        LinkAttribute::LinkInfo(infos) => infos.iter().for_each(|i| apply_link_info(link, i)),
        _ => {}
    }
}

fn apply_link_info(link: &mut LinkInfo, info: &NlLinkInfo) {
    match info {
        NlLinkInfo::Kind(kind) => link.kind = link_kind(kind),
        NlLinkInfo::Data(InfoData::Bridge(infos)) => link.bridge = Some(bridge_attrs(infos)),
        NlLinkInfo::Data(InfoData::MacVtap(infos)) => {
            link.macvtap_mode = infos.iter().find_map(|i| match i {
                InfoMacVtap::Mode(mode) => Some(macvlan_mode_name(*mode)),
                _ => None,
            });
        }
        NlLinkInfo::Data(InfoData::MacVlan(infos)) => {
            link.macvtap_mode = infos.iter().find_map(|i| match i {
                InfoMacVlan::Mode(mode) => Some(macvlan_mode_name(*mode)),
                _ => None,
            });
        }
        _ => {}
    }
}

fn link_kind(kind: &InfoKind) -> LinkKind {
    match kind {
        InfoKind::Bridge => LinkKind::Bridge,
        InfoKind::Veth => LinkKind::Veth,
        InfoKind::Tun => LinkKind::Tun,
        InfoKind::MacVtap => LinkKind::Macvtap,
        InfoKind::MacVlan => LinkKind::Macvlan,
        InfoKind::Bond => LinkKind::Bond,
        InfoKind::Vlan => LinkKind::Vlan,
        other => LinkKind::Other(other.to_string()),
    }
}

fn bridge_attrs(infos: &[InfoBridge]) -> BridgeAttrs {
    let mut attrs = BridgeAttrs {
        stp: false,
        forward_delay_cs: 0,
    };
    for info in infos {
        match info {
            InfoBridge::StpState(state) => attrs.stp = u32::from(*state) != 0,
            InfoBridge::ForwardDelay(delay) => attrs.forward_delay_cs = *delay,
            _ => {}
        }
    }
    attrs
}

/// The `ip link` name of a macvlan/macvtap mode.
pub fn macvlan_mode_name(mode: MacVlanMode) -> String {
    match mode {
        MacVlanMode::Private => "private".to_string(),
        MacVlanMode::Vepa => "vepa".to_string(),
        MacVlanMode::Bridge => "bridge".to_string(),
        MacVlanMode::Passthrough => "passthru".to_string(),
        MacVlanMode::Source => "source".to_string(),
        MacVlanMode::Other(n) => format!("mode{n}"),
        _ => "unknown".to_string(),
    }
}

/// Builds an `AddrInfo` from an RTM_NEWADDR message; `None` without an address attribute.
///
/// Like `ip addr`, IFA_LOCAL is the interface's own address when present (IFA_ADDRESS is the
/// peer on point-to-point links), else IFA_ADDRESS.
pub fn addr_info(msg: &AddressMessage) -> Option<AddrInfo> {
    let local = msg.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(ip) => Some(*ip),
        _ => None,
    });
    let address = msg.attributes.iter().find_map(|a| match a {
        AddressAttribute::Address(ip) => Some(*ip),
        _ => None,
    });
    let ip = local.or(address)?;
    let net = IpNet::new(ip, msg.header.prefix_len).ok()?;
    Some(AddrInfo {
        ifindex: msg.header.index,
        net,
    })
}

/// Builds a `RouteInfo` from an RTM_NEWROUTE message when it is a unicast route of the main
/// table (cloned cache entries excluded).
pub fn main_route_info(msg: &RouteMessage) -> Option<RouteInfo> {
    let route = route_info(msg)?;
    let unicast = msg.header.kind == RouteType::Unicast;
    let cloned = msg.header.flags.contains(RouteFlags::Cloned);
    (route.table == MAIN_TABLE && unicast && !cloned).then_some(route)
}

fn route_info(msg: &RouteMessage) -> Option<RouteInfo> {
    let mut dest_ip = None;
    let mut route = RouteInfo {
        dest: "0.0.0.0/0".parse().expect("literal network"),
        gateway: None,
        oif: None,
        table: u32::from(msg.header.table),
        protocol: msg.header.protocol.into(),
    };
    for attr in &msg.attributes {
        match attr {
            RouteAttribute::Destination(addr) => dest_ip = route_ip(addr),
            RouteAttribute::Gateway(addr) => route.gateway = route_ip(addr),
            RouteAttribute::Oif(index) => route.oif = Some(*index),
            RouteAttribute::Table(table) => route.table = *table,
            _ => {}
        }
    }
    let ip = dest_ip.or_else(|| unspecified_of_family(msg))?;
    route.dest = IpNet::new(ip, msg.header.destination_prefix_length).ok()?;
    Some(route)
}

fn route_ip(addr: &RouteAddress) -> Option<IpAddr> {
    match addr {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

/// Default routes carry no RTA_DST: their destination is the family's unspecified address.
fn unspecified_of_family(msg: &RouteMessage) -> Option<IpAddr> {
    use rtnetlink::packet_route::AddressFamily;
    match msg.header.address_family {
        AddressFamily::Inet => Some(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        AddressFamily::Inet6 => Some(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)),
        _ => None,
    }
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;

/// The kernel's 64-bit counters as switchyard keeps them.
pub fn counters(s: &netlink_packet_route::link::Stats64) -> crate::state::LinkCounters {
    crate::state::LinkCounters {
        rx_bytes: s.rx_bytes,
        tx_bytes: s.tx_bytes,
        rx_packets: s.rx_packets,
        tx_packets: s.tx_packets,
        rx_errors: s.rx_errors,
        tx_errors: s.tx_errors,
        rx_dropped: s.rx_dropped,
        tx_dropped: s.tx_dropped,
        multicast: s.multicast,
    }
}
