//! The lean decoders give what the generic ones give, on messages the generic encoder built.

use netlink_packet_core::Emitable;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    BridgeStpState, InfoBridge, InfoData, InfoKind, InfoMacVlan, InfoMacVtap, LinkAttribute,
    LinkFlags, LinkInfo as NlLinkInfo, LinkLayerType, LinkMessage, MacVlanMode, MacVtapMode, State,
    Stats64,
};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteProtocol, RouteType,
};
use netlink_packet_route::AddressFamily;
use std::net::IpAddr;

use super::*;

fn bytes(msg: &impl Emitable) -> Vec<u8> {
    let mut buf = vec![0; msg.buffer_len()];
    msg.emit(&mut buf);
    buf
}

fn link(
    index: u32,
    layer: LinkLayerType,
    flags: LinkFlags,
    attrs: Vec<LinkAttribute>,
) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.header.link_layer_type = layer;
    msg.header.flags = flags;
    msg.attributes = attrs;
    msg
}

fn kind(kind: InfoKind, data: Option<InfoData>) -> LinkAttribute {
    let mut infos = vec![NlLinkInfo::Kind(kind)];
    infos.extend(data.map(NlLinkInfo::Data));
    LinkAttribute::LinkInfo(infos)
}

fn sample_links() -> Vec<LinkMessage> {
    let ether = LinkLayerType::Ether;
    let mut stats = Stats64::default();
    stats.rx_packets = 1;
    stats.tx_packets = 2;
    stats.rx_bytes = 3;
    stats.tx_bytes = 4;
    stats.rx_errors = 5;
    stats.tx_errors = 6;
    stats.rx_dropped = 7;
    stats.tx_dropped = 8;
    stats.multicast = 9;
    stats.collisions = 10;
    vec![
        link(
            1,
            LinkLayerType::Loopback,
            LinkFlags::Up | LinkFlags::Loopback,
            vec![
                LinkAttribute::IfName("lo".into()),
                LinkAttribute::Mtu(65536),
                LinkAttribute::OperState(State::Unknown),
                LinkAttribute::Stats64(stats),
            ],
        ),
        link(
            5,
            ether,
            LinkFlags::Up | LinkFlags::Broadcast,
            vec![
                LinkAttribute::IfName("sybr0".into()),
                LinkAttribute::Address(vec![2, 0, 0, 0, 0, 1]),
                LinkAttribute::Mtu(1400),
                LinkAttribute::OperState(State::Down),
                LinkAttribute::TxQueueLen(1000),
                LinkAttribute::Stats64(stats),
                kind(
                    InfoKind::Bridge,
                    Some(InfoData::Bridge(vec![
                        InfoBridge::HelloTime(200),
                        InfoBridge::ForwardDelay(300),
                        InfoBridge::StpState(BridgeStpState::KernelStp),
                        InfoBridge::Priority(7),
                    ])),
                ),
            ],
        ),
        link(
            6,
            ether,
            LinkFlags::empty(),
            vec![
                LinkAttribute::IfName("vb0".into()),
                LinkAttribute::Controller(5),
                LinkAttribute::Link(7),
                LinkAttribute::LinkNetNsId(3),
                LinkAttribute::OperState(State::LowerLayerDown),
                kind(InfoKind::Veth, None),
            ],
        ),
        link(
            9,
            ether,
            LinkFlags::Up,
            vec![
                LinkAttribute::IfName("macvtap0".into()),
                LinkAttribute::Link(4),
                LinkAttribute::OperState(State::Up),
                kind(
                    InfoKind::MacVtap,
                    Some(InfoData::MacVtap(vec![InfoMacVtap::Mode(
                        MacVtapMode::Passthrough,
                    )])),
                ),
            ],
        ),
        link(
            10,
            ether,
            LinkFlags::Up,
            vec![
                LinkAttribute::IfName("mv0".into()),
                LinkAttribute::OperState(State::Other(9)),
                kind(
                    InfoKind::MacVlan,
                    Some(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                        MacVlanMode::Other(64),
                    )])),
                ),
            ],
        ),
        link(11, ether, LinkFlags::Up, vec![kind(InfoKind::Vxlan, None)]),
        link(12, ether, LinkFlags::Up, vec![kind(InfoKind::Tun, None)]),
        link(
            13,
            ether,
            LinkFlags::Up,
            vec![
                LinkAttribute::IfName("bond0".into()),
                kind(InfoKind::Bond, None),
            ],
        ),
    ]
}

#[test]
fn links_decode_as_the_generic_decoder_does() {
    for msg in sample_links() {
        let want = super::super::decode::link_info(&msg);
        let got = link_info(&bytes(&msg)).expect("decodes");
        assert_eq!(got, want, "link {}", msg.header.index);
    }
}

#[test]
fn counters_come_from_stats64() {
    let got = link_info(&bytes(&sample_links()[1])).expect("decodes");
    let s = got.stats.expect("stats");
    assert_eq!((s.rx_packets, s.tx_bytes, s.multicast), (1, 4, 9));
}

#[test]
fn broken_link_messages_are_errors_not_panics() {
    let good = bytes(&sample_links()[1]);
    assert!(link_info(&good[..10]).is_err(), "short header");
    for cut in [IFINFOMSG_LEN + 3, IFINFOMSG_LEN + 9, good.len() - 5] {
        let mut broken = good[..cut].to_vec();
        // An attribute whose length runs past the end.
        if broken.len() >= IFINFOMSG_LEN + 2 {
            broken[IFINFOMSG_LEN] = 0xff;
        }
        let _ = link_info(&broken); // must not panic
    }
    let mut overlong = good.clone();
    overlong[IFINFOMSG_LEN] = 0xf0;
    overlong[IFINFOMSG_LEN + 1] = 0x0f;
    assert!(link_info(&overlong).is_err());
}

fn neigh(
    family: AddressFamily,
    state: NeighbourState,
    flags: NeighbourFlags,
    attrs: Vec<NeighbourAttribute>,
) -> NeighbourMessage {
    let mut m = NeighbourMessage::default();
    m.header.family = family;
    m.header.ifindex = 5;
    m.header.state = state;
    m.header.flags = flags;
    m.attributes = attrs;
    m
}

#[test]
fn neighbours_decode_as_the_generic_decoder_does() {
    let guest = || NeighbourAttribute::LinkLayerAddress(vec![0x52, 0x54, 0, 0, 0, 1]);
    let multicast = || NeighbourAttribute::LinkLayerAddress(vec![0x33, 0x33, 0, 0, 0, 1]);
    let v4 =
        || NeighbourAttribute::Destination(NeighbourAddress::Inet("10.0.0.7".parse().expect("ip")));
    let v6 =
        || NeighbourAttribute::Destination(NeighbourAddress::Inet6("fd00::7".parse().expect("ip")));
    let none = NeighbourFlags::empty();
    let (bridge, inet, inet6) = (
        AddressFamily::Bridge,
        AddressFamily::Inet,
        AddressFamily::Inet6,
    );
    let cases = [
        neigh(bridge, NeighbourState::Reachable, none, vec![guest()]),
        neigh(
            bridge,
            NeighbourState::Stale,
            NeighbourFlags::Controller,
            vec![guest()],
        ),
        neigh(bridge, NeighbourState::Noarp, none, vec![guest()]),
        neigh(bridge, NeighbourState::Permanent, none, vec![guest()]),
        neigh(
            bridge,
            NeighbourState::Reachable,
            NeighbourFlags::Own,
            vec![guest()],
        ),
        neigh(bridge, NeighbourState::Reachable, none, vec![multicast()]),
        neigh(bridge, NeighbourState::Reachable, none, vec![]),
        neigh(inet, NeighbourState::Stale, none, vec![v4(), guest()]),
        neigh(inet, NeighbourState::Failed, none, vec![v4(), guest()]),
        neigh(inet, NeighbourState::Incomplete, none, vec![v4()]),
        neigh(inet6, NeighbourState::Reachable, none, vec![guest(), v6()]),
        neigh(inet6, NeighbourState::Permanent, none, vec![v6(), guest()]),
        neigh(inet, NeighbourState::Reachable, none, vec![guest()]),
        neigh(
            AddressFamily::Unspec,
            NeighbourState::Reachable,
            none,
            vec![v4(), guest()],
        ),
    ];
    for (i, msg) in cases.iter().enumerate() {
        let want = super::super::neigh::neighbour(msg);
        let got = neighbour(&bytes(msg)).expect("decodes");
        assert_eq!(got, want, "case {i}");
    }
    assert!(neighbour(&[7, 0, 0]).is_err(), "short header");
}

fn addr(family: AddressFamily, prefix: u8, attrs: Vec<AddressAttribute>) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = family;
    m.header.prefix_len = prefix;
    m.header.index = 9;
    m.attributes = attrs;
    m
}

#[test]
fn addresses_decode_as_the_generic_decoder_does() {
    let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
    let (inet, inet6) = (AddressFamily::Inet, AddressFamily::Inet6);
    let cases = [
        addr(
            inet,
            24,
            vec![
                AddressAttribute::Address(ip("10.0.0.1")),
                AddressAttribute::Local(ip("10.0.0.1")),
                AddressAttribute::Label("br0".into()),
            ],
        ),
        // Point-to-point: the local end is the address, IFA_ADDRESS the peer.
        addr(
            inet,
            32,
            vec![
                AddressAttribute::Address(ip("10.9.9.9")),
                AddressAttribute::Local(ip("10.0.0.2")),
            ],
        ),
        addr(inet6, 64, vec![AddressAttribute::Address(ip("fd00::1"))]),
        addr(inet6, 200, vec![AddressAttribute::Address(ip("fd00::1"))]),
        addr(inet, 24, vec![AddressAttribute::Label("x".into())]),
    ];
    for (i, msg) in cases.iter().enumerate() {
        let want = super::super::decode::addr_info(msg);
        let got = addr_info(&bytes(msg)).expect("decodes");
        assert_eq!(got, want, "case {i}");
    }
    assert!(addr_info(&[2, 24, 0]).is_err(), "short header");
}

fn route(
    family: AddressFamily,
    dst_len: u8,
    kind: RouteType,
    table: u8,
    flags: RouteFlags,
    attrs: Vec<RouteAttribute>,
) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = family;
    m.header.destination_prefix_length = dst_len;
    m.header.kind = kind;
    m.header.table = table;
    m.header.protocol = RouteProtocol::Kernel;
    m.header.flags = flags;
    m.attributes = attrs;
    m
}

#[test]
fn routes_decode_as_the_generic_decoder_does() {
    let v4 = |s: &str| RouteAddress::Inet(s.parse().expect("ip"));
    let v6 = |s: &str| RouteAddress::Inet6(s.parse().expect("ip"));
    let (inet, inet6) = (AddressFamily::Inet, AddressFamily::Inet6);
    let none = RouteFlags::empty();
    let (uni, local) = (RouteType::Unicast, RouteType::Local);
    let cases = [
        route(
            inet,
            24,
            uni,
            254,
            none,
            vec![
                RouteAttribute::Table(254),
                RouteAttribute::Destination(v4("10.1.0.0")),
                RouteAttribute::Oif(4),
            ],
        ),
        route(
            inet,
            0,
            uni,
            254,
            none,
            vec![
                RouteAttribute::Gateway(v4("192.0.2.1")),
                RouteAttribute::Oif(2),
            ],
        ),
        route(
            inet6,
            64,
            uni,
            254,
            none,
            vec![
                RouteAttribute::Destination(v6("fd00::")),
                RouteAttribute::Oif(3),
            ],
        ),
        route(
            inet6,
            0,
            uni,
            254,
            none,
            vec![RouteAttribute::Gateway(v6("fe80::1"))],
        ),
        route(
            inet,
            32,
            local,
            255,
            none,
            vec![RouteAttribute::Destination(v4("10.1.0.1"))],
        ),
        // A table above 255 is in RTA_TABLE only.
        route(
            inet,
            24,
            uni,
            252,
            none,
            vec![
                RouteAttribute::Table(1000),
                RouteAttribute::Destination(v4("10.2.0.0")),
            ],
        ),
        route(
            inet,
            32,
            uni,
            254,
            RouteFlags::Cloned,
            vec![RouteAttribute::Destination(v4("10.1.0.9"))],
        ),
    ];
    for (i, msg) in cases.iter().enumerate() {
        let want = super::super::decode::main_route_info(msg);
        let got = main_route_info(&bytes(msg)).expect("decodes");
        assert_eq!(got, want, "case {i}");
    }
    let kept = cases
        .iter()
        .filter(|m| main_route_info(&bytes(*m)).expect("ok").is_some());
    assert_eq!(kept.count(), 4, "main-table unicast routes only");
    assert!(main_route_info(&[2, 24, 0, 0]).is_err(), "short header");
}

#[test]
fn truncated_address_and_route_messages_do_not_panic() {
    let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
    let a = bytes(&addr(
        AddressFamily::Inet,
        24,
        vec![
            AddressAttribute::Address(ip("10.0.0.1")),
            AddressAttribute::Local(ip("10.0.0.1")),
        ],
    ));
    let r = bytes(&route(
        AddressFamily::Inet,
        24,
        RouteType::Unicast,
        254,
        RouteFlags::empty(),
        vec![
            RouteAttribute::Destination(RouteAddress::Inet("10.1.0.0".parse().expect("ip"))),
            RouteAttribute::Oif(4),
        ],
    ));
    // Every prefix of a good message, and each with its first attribute's length overlong:
    // an error or a record, never a panic.
    for cut in 0..=a.len() {
        let _ = addr_info(&a[..cut]);
        let mut broken = a[..cut].to_vec();
        if broken.len() > IFADDRMSG_LEN {
            broken[IFADDRMSG_LEN] = 0xff;
            assert!(addr_info(&broken).is_err(), "cut {cut}");
        }
    }
    for cut in 0..=r.len() {
        let _ = main_route_info(&r[..cut]);
        let mut broken = r[..cut].to_vec();
        if broken.len() > RTMSG_LEN {
            broken[RTMSG_LEN] = 0xff;
            assert!(main_route_info(&broken).is_err(), "cut {cut}");
        }
    }
}
