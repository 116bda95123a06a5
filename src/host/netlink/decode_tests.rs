//! Decoding of hand-built dump messages (the kernel side is covered by tests/netlink_ns.rs).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
use rtnetlink::packet_route::link::{
    BridgeStpState, InfoBridge, InfoData, InfoKind, InfoMacVtap, LinkAttribute, LinkFlags,
    LinkInfo as NlLinkInfo, LinkLayerType, LinkMessage, MacVtapMode, State, Stats64,
};
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteProtocol, RouteType,
};
use rtnetlink::packet_route::AddressFamily;

use super::*;

fn link_msg(index: u32, attrs: Vec<LinkAttribute>) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.header.link_layer_type = LinkLayerType::Ether;
    msg.attributes = attrs;
    msg
}

#[test]
fn bridge_link_decodes_every_field() {
    let mut stats = Stats64::default();
    stats.rx_bytes = 1000;
    stats.tx_packets = 7;
    stats.multicast = 3;
    let mut msg = link_msg(
        5,
        vec![
            LinkAttribute::IfName("sybr0".into()),
            LinkAttribute::Address(vec![2, 0, 0, 0, 0, 1]),
            LinkAttribute::Mtu(1400),
            LinkAttribute::OperState(State::Down),
            LinkAttribute::Stats64(stats),
            LinkAttribute::LinkInfo(vec![
                NlLinkInfo::Kind(InfoKind::Bridge),
                NlLinkInfo::Data(InfoData::Bridge(vec![
                    InfoBridge::ForwardDelay(300),
                    InfoBridge::StpState(BridgeStpState::KernelStp),
                ])),
            ]),
        ],
    );
    msg.header.flags = LinkFlags::Up | LinkFlags::Broadcast;
    let link = link_info(&msg);
    assert_eq!(link.ifindex, 5);
    assert_eq!(link.name, "sybr0");
    assert_eq!(link.kind, LinkKind::Bridge);
    assert_eq!(link.mac, Some([2, 0, 0, 0, 0, 1]));
    assert_eq!(link.mtu, 1400);
    assert!(link.admin_up);
    assert_eq!(link.oper_state, "down");
    let s = link.stats.expect("stats present");
    assert_eq!((s.rx_bytes, s.tx_packets, s.multicast), (1000, 7, 3));
    assert_eq!(
        link.bridge,
        Some(BridgeAttrs {
            stp: true,
            forward_delay_cs: 300
        })
    );
    assert_eq!(link.master, None);
}

#[test]
fn macvtap_port_decodes_mode_parent_and_master() {
    let msg = link_msg(
        9,
        vec![
            LinkAttribute::IfName("macvtap0".into()),
            LinkAttribute::Link(4),
            LinkAttribute::Controller(2),
            LinkAttribute::LinkInfo(vec![
                NlLinkInfo::Kind(InfoKind::MacVtap),
                NlLinkInfo::Data(InfoData::MacVtap(vec![InfoMacVtap::Mode(
                    MacVtapMode::Passthrough,
                )])),
            ]),
        ],
    );
    let link = link_info(&msg);
    assert_eq!(link.kind, LinkKind::Macvtap);
    assert_eq!(link.macvtap_mode.as_deref(), Some("passthru"));
    assert_eq!((link.parent, link.master), (Some(4), Some(2)));
    assert!(!link.admin_up);
    assert_eq!(link.stats, None);
}

#[test]
fn links_without_kind_are_loopback_or_physical() {
    let mut lo = link_msg(1, vec![LinkAttribute::IfName("lo".into())]);
    lo.header.link_layer_type = LinkLayerType::Loopback;
    assert_eq!(link_info(&lo).kind, LinkKind::Loopback);
    let eth = link_msg(2, vec![LinkAttribute::IfName("eth0".into())]);
    assert_eq!(link_info(&eth).kind, LinkKind::Physical);
}

#[test]
fn unknown_kinds_keep_their_kernel_name_and_odd_macs_are_dropped() {
    let msg = link_msg(
        3,
        vec![
            LinkAttribute::Address(vec![0; 20]),
            LinkAttribute::LinkNetNsId(4),
            LinkAttribute::LinkInfo(vec![NlLinkInfo::Kind(InfoKind::Vxlan)]),
        ],
    );
    let link = link_info(&msg);
    assert_eq!(link.kind, LinkKind::Other("vxlan".into()));
    assert_eq!(link.mac, None);
    assert_eq!(link.name, "if3");
    assert_eq!(link.peer_netnsid, Some(4));
}

fn addr_msg(index: u32, prefix: u8, attrs: Vec<AddressAttribute>) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.index = index;
    msg.header.prefix_len = prefix;
    msg.attributes = attrs;
    msg
}

#[test]
fn addresses_prefer_local_over_peer() {
    let v4 = IpAddr::V4(Ipv4Addr::new(192, 168, 100, 1));
    let peer = IpAddr::V4(Ipv4Addr::new(192, 168, 100, 2));
    let msg = addr_msg(
        4,
        24,
        vec![AddressAttribute::Address(peer), AddressAttribute::Local(v4)],
    );
    let a = addr_info(&msg).expect("has an address");
    assert_eq!(
        (a.ifindex, a.net.to_string()),
        (4, "192.168.100.1/24".into())
    );

    let v6 = IpAddr::V6("fd00::1".parse::<Ipv6Addr>().expect("literal"));
    let a = addr_info(&addr_msg(4, 64, vec![AddressAttribute::Address(v6)])).expect("v6");
    assert_eq!(a.net.to_string(), "fd00::1/64");

    assert!(addr_info(&addr_msg(4, 24, vec![])).is_none());
    assert!(addr_info(&addr_msg(4, 99, vec![AddressAttribute::Local(v4)])).is_none());
}

fn route_msg(family: AddressFamily, prefix: u8, attrs: Vec<RouteAttribute>) -> RouteMessage {
    let mut msg = RouteMessage::default();
    msg.header.address_family = family;
    msg.header.destination_prefix_length = prefix;
    msg.header.table = RouteHeader::RT_TABLE_MAIN;
    msg.header.kind = RouteType::Unicast;
    msg.header.protocol = RouteProtocol::Static;
    msg.attributes = attrs;
    msg
}

#[test]
fn main_table_routes_decode_with_gateway_and_default() {
    let gw = Ipv4Addr::new(10, 0, 0, 1);
    let msg = route_msg(
        AddressFamily::Inet,
        0,
        vec![
            RouteAttribute::Gateway(RouteAddress::Inet(gw)),
            RouteAttribute::Oif(3),
        ],
    );
    let r = main_route_info(&msg).expect("main unicast");
    assert_eq!(r.dest.to_string(), "0.0.0.0/0");
    assert_eq!(r.gateway, Some(IpAddr::V4(gw)));
    assert_eq!((r.oif, r.table, r.protocol), (Some(3), MAIN_TABLE, 4));

    let dst = "fd01::".parse::<Ipv6Addr>().expect("literal");
    let msg = route_msg(
        AddressFamily::Inet6,
        64,
        vec![RouteAttribute::Destination(RouteAddress::Inet6(dst))],
    );
    let r = main_route_info(&msg).expect("v6 route");
    assert_eq!(r.dest.to_string(), "fd01::/64");
    assert_eq!(r.gateway, None);
}

#[test]
fn other_tables_types_and_clones_are_skipped() {
    let mut local = route_msg(AddressFamily::Inet, 32, vec![]);
    local.header.table = 255;
    assert!(main_route_info(&local).is_none());

    let mut big_table = route_msg(AddressFamily::Inet, 0, vec![RouteAttribute::Table(1000)]);
    big_table.header.table = 252;
    assert!(main_route_info(&big_table).is_none());

    let mut blackhole = route_msg(AddressFamily::Inet, 8, vec![]);
    blackhole.header.kind = RouteType::BlackHole;
    assert!(main_route_info(&blackhole).is_none());

    let mut cloned = route_msg(AddressFamily::Inet6, 128, vec![]);
    cloned.header.flags = RouteFlags::Cloned;
    assert!(main_route_info(&cloned).is_none());
}
