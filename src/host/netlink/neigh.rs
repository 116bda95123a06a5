//! Neighbour messages (`RTM_NEWNEIGH`/`RTM_DELNEIGH`) as the host's typed entries: IP
//! neighbours with their MAC when usable, and the MACs a bridge learned behind its ports
//! (not the ports' own, not multicast).

use std::net::IpAddr;

use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::AddressFamily;

use crate::state::{Mac, Neighbour};

/// The entry a message carries, if it is one switchyard follows.
pub fn neighbour(msg: &NeighbourMessage) -> Option<Neighbour> {
    match msg.header.family {
        AddressFamily::Inet | AddressFamily::Inet6 => Some(Neighbour::Ip {
            ifindex: msg.header.ifindex,
            ip: destination(msg)?,
            mac: lladdr(msg).filter(|_| usable_ip_state(msg.header.state)),
        }),
        AddressFamily::Bridge => {
            let mac = lladdr(msg)?;
            let local = msg.header.state == NeighbourState::Permanent;
            let own = msg.header.flags.contains(NeighbourFlags::Own);
            (!local && !own && mac[0] & 1 == 0).then_some(Neighbour::Learned {
                port: msg.header.ifindex,
                mac,
            })
        }
        _ => None,
    }
}

/// States whose link-layer address is current or recently so.
fn usable_ip_state(state: NeighbourState) -> bool {
    matches!(
        state,
        NeighbourState::Reachable
            | NeighbourState::Stale
            | NeighbourState::Delay
            | NeighbourState::Probe
            | NeighbourState::Permanent
            | NeighbourState::Noarp
    )
}

fn destination(msg: &NeighbourMessage) -> Option<IpAddr> {
    msg.attributes.iter().find_map(|a| match a {
        NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => Some(IpAddr::V4(*v4)),
        NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => Some(IpAddr::V6(*v6)),
        _ => None,
    })
}

fn lladdr(msg: &NeighbourMessage) -> Option<Mac> {
    msg.attributes.iter().find_map(|a| match a {
        NeighbourAttribute::LinkLayerAddress(bytes) => Mac::try_from(bytes.as_slice()).ok(),
        _ => None,
    })
}

/// Deletes the IPv4 neighbour entry of `ip` on link `ifindex` at once, over a blocking socket
/// of the calling thread's namespace (for guards that clean up in `Drop`). No entry is success.
pub fn delete_ipv4_now(ifindex: u32, ip: std::net::Ipv4Addr) -> std::io::Result<()> {
    use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};
    use netlink_packet_route::RouteNetlinkMessage;
    let mut sock = super::socket::RouteSocket::open()?;
    let mut msg = NeighbourMessage::default();
    msg.header.family = AddressFamily::Inet;
    msg.header.ifindex = ifindex;
    msg.attributes
        .push(NeighbourAttribute::Destination(NeighbourAddress::Inet(ip)));
    let seq = sock.send(
        RouteNetlinkMessage::DelNeighbour(msg),
        NLM_F_REQUEST | NLM_F_ACK,
    )?;
    match sock.recv_replies(seq, |_, _| Ok(())) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUEST: Mac = [0x52, 0x54, 0, 0, 0, 1];

    fn msg(
        family: AddressFamily,
        state: NeighbourState,
        flags: NeighbourFlags,
    ) -> NeighbourMessage {
        let mut m = NeighbourMessage::default();
        m.header.family = family;
        m.header.ifindex = 5;
        m.header.state = state;
        m.header.flags = flags;
        m.attributes
            .push(NeighbourAttribute::LinkLayerAddress(GUEST.to_vec()));
        m
    }

    #[test]
    fn fdb_entries_that_name_a_guest() {
        let none = NeighbourFlags::empty();
        let bridge = AddressFamily::Bridge;
        let cases = [
            (
                msg(bridge, NeighbourState::Reachable, none),
                true,
                "learned",
            ),
            (
                msg(bridge, NeighbourState::Stale, none),
                true,
                "learned, older",
            ),
            (
                msg(bridge, NeighbourState::Noarp, none),
                true,
                "static entry",
            ),
            (
                msg(bridge, NeighbourState::Permanent, none),
                false,
                "port's own MAC",
            ),
            (
                msg(bridge, NeighbourState::Permanent, NeighbourFlags::Own),
                false,
                "self",
            ),
        ];
        for (m, learned, why) in cases {
            assert_eq!(neighbour(&m).is_some(), learned, "{why}");
        }
        let mut multicast = msg(bridge, NeighbourState::Reachable, none);
        multicast.attributes = vec![NeighbourAttribute::LinkLayerAddress(vec![
            0x33, 0x33, 0, 0, 0, 1,
        ])];
        assert_eq!(neighbour(&multicast), None, "multicast");
    }

    #[test]
    fn ip_entries_keep_their_mac_only_while_usable() {
        let mut m = msg(
            AddressFamily::Inet,
            NeighbourState::Stale,
            NeighbourFlags::empty(),
        );
        m.attributes
            .push(NeighbourAttribute::Destination(NeighbourAddress::Inet(
                "10.0.0.7".parse().expect("ip"),
            )));
        let ip = "10.0.0.7".parse().expect("ip");
        assert_eq!(
            neighbour(&m),
            Some(Neighbour::Ip {
                ifindex: 5,
                ip,
                mac: Some(GUEST)
            })
        );
        m.header.state = NeighbourState::Failed;
        assert_eq!(
            neighbour(&m),
            Some(Neighbour::Ip {
                ifindex: 5,
                ip,
                mac: None
            })
        );
    }
}
