//! What the neighbour tables say about guests (pure: fed with decoded netlink messages).
//!
//! Two tables share `RTM_NEWNEIGH`/`RTM_DELNEIGH`: the IP neighbours (ARP, NDP: "this IP has
//! that MAC on that interface") and the bridges' forwarding databases (family `AF_BRIDGE`:
//! "that MAC was learned behind this port"). A port's own MAC is the host end of the link; the
//! guest's MAC, which its lease and its ARP entry carry, is only known from what the bridge
//! learned behind the port. The collector dumps both tables once and then applies the
//! `RTNLGRP_NEIGH` events, so no poll is needed.

use std::collections::HashMap;
use std::net::IpAddr;

use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::AddressFamily;

/// A MAC address as six bytes.
pub type Mac = [u8; 6];

/// Most MACs remembered behind one port: a guest has one or a few; an uplink port has a whole
/// LAN behind it, which nobody wants listed.
const MACS_PER_PORT: usize = 8;

/// Guest MACs behind bridge ports and IP neighbours, kept current from netlink messages.
#[derive(Debug, Clone, Default)]
pub struct NeighbourCache {
    /// (ifindex, ip) → MAC of usable IP neighbour entries.
    ips: HashMap<(u32, IpAddr), Mac>,
    /// Port ifindex → MACs learned behind it, most recent last. An entry that ages out of
    /// the bridge's table stays (a quiet guest keeps its name and address) until the MAC is
    /// learned on another port or the port goes away.
    behind: HashMap<u32, Vec<Mac>>,
}

/// Whether a message changed what the cache knows.
pub type Changed = bool;

impl NeighbourCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget everything (before a full re-dump).
    pub fn clear(&mut self) {
        self.ips.clear();
        self.behind.clear();
    }

    /// Apply one `RTM_NEWNEIGH` (`deleted == false`) or `RTM_DELNEIGH` message.
    pub fn apply(&mut self, msg: &NeighbourMessage, deleted: bool) -> Changed {
        match msg.header.family {
            AddressFamily::Inet | AddressFamily::Inet6 => self.apply_ip(msg, deleted),
            AddressFamily::Bridge => !deleted && self.apply_fdb(msg),
            _ => false,
        }
    }

    fn apply_ip(&mut self, msg: &NeighbourMessage, deleted: bool) -> Changed {
        let Some(ip) = destination(msg) else {
            return false;
        };
        let key = (msg.header.ifindex, ip);
        match lladdr(msg).filter(|_| !deleted && usable_ip_state(msg.header.state)) {
            Some(mac) => self.ips.insert(key, mac) != Some(mac),
            None => self.ips.remove(&key).is_some(),
        }
    }

    fn apply_fdb(&mut self, msg: &NeighbourMessage) -> Changed {
        let Some(mac) = lladdr(msg) else {
            return false;
        };
        let local = msg.header.state == NeighbourState::Permanent;
        let own = msg.header.flags.contains(NeighbourFlags::Own);
        if local || own || is_multicast(&mac) {
            return false;
        }
        self.learned(msg.header.ifindex, mac)
    }

    /// `mac` was learned behind `port`: it moves there from any other port.
    pub fn learned(&mut self, port: u32, mac: Mac) -> Changed {
        let mut changed = false;
        for (&other, macs) in self.behind.iter_mut() {
            if other != port {
                let before = macs.len();
                macs.retain(|m| *m != mac);
                changed |= macs.len() != before;
            }
        }
        let macs = self.behind.entry(port).or_default();
        if macs.last() == Some(&mac) {
            return changed;
        }
        macs.retain(|m| *m != mac);
        macs.push(mac);
        if macs.len() > MACS_PER_PORT {
            macs.remove(0);
        }
        true
    }

    /// Drop what is known about ports (and interfaces) for which `live` is false.
    pub fn retain_ifindexes(&mut self, live: impl Fn(u32) -> bool) {
        self.behind
            .retain(|port, macs| live(*port) && !macs.is_empty());
        self.ips.retain(|(ifindex, _), _| live(*ifindex));
    }

    /// The MACs learned behind a port, most recent last.
    pub fn macs_behind(&self, port: u32) -> &[Mac] {
        self.behind.get(&port).map_or(&[], Vec::as_slice)
    }

    /// (interface, MAC) → its best IP: IPv4 before global IPv6 before link-local, then the
    /// lowest address, so the answer does not depend on hash order.
    pub fn ip_index(&self) -> HashMap<(u32, Mac), IpAddr> {
        let mut index: HashMap<(u32, Mac), IpAddr> = HashMap::new();
        for (&(ifindex, ip), &mac) in &self.ips {
            index
                .entry((ifindex, mac))
                .and_modify(|best| {
                    if ip_preference(ip) < ip_preference(*best) {
                        *best = ip;
                    }
                })
                .or_insert(ip);
        }
        index
    }

    /// Number of IP neighbour entries.
    pub fn ip_count(&self) -> usize {
        self.ips.len()
    }
}

/// Sort key for choosing one address among a MAC's neighbours.
fn ip_preference(ip: IpAddr) -> (u8, IpAddr) {
    let rank = match ip {
        IpAddr::V4(_) => 0,
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => 2,
        IpAddr::V6(_) => 1,
    };
    (rank, ip)
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

fn is_multicast(mac: &Mac) -> bool {
    mac[0] & 1 == 1
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

#[cfg(test)]
mod tests {
    use super::*;

    const GUEST: Mac = [0x52, 0x54, 0, 0, 0, 1];
    const OTHER: Mac = [0x52, 0x54, 0, 0, 0, 2];

    fn msg(
        family: AddressFamily,
        ifindex: u32,
        state: NeighbourState,
        flags: NeighbourFlags,
        ip: Option<&str>,
        mac: Option<Mac>,
    ) -> NeighbourMessage {
        let mut m = NeighbourMessage::default();
        m.header.family = family;
        m.header.ifindex = ifindex;
        m.header.state = state;
        m.header.flags = flags;
        if let Some(ip) = ip {
            let addr = match ip.parse::<IpAddr>().expect("test literal") {
                IpAddr::V4(v4) => NeighbourAddress::Inet(v4),
                IpAddr::V6(v6) => NeighbourAddress::Inet6(v6),
            };
            m.attributes.push(NeighbourAttribute::Destination(addr));
        }
        if let Some(mac) = mac {
            m.attributes
                .push(NeighbourAttribute::LinkLayerAddress(mac.to_vec()));
        }
        m
    }

    fn fdb(port: u32, state: NeighbourState, flags: NeighbourFlags, mac: Mac) -> NeighbourMessage {
        msg(AddressFamily::Bridge, port, state, flags, None, Some(mac))
    }

    fn arp(ifindex: u32, state: NeighbourState, ip: &str, mac: Option<Mac>) -> NeighbourMessage {
        let family = if ip.contains(':') {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        };
        msg(
            family,
            ifindex,
            state,
            NeighbourFlags::empty(),
            Some(ip),
            mac,
        )
    }

    #[test]
    fn fdb_entries_that_name_a_guest() {
        let none = NeighbourFlags::empty();
        let cases: &[(NeighbourMessage, bool, &str)] = &[
            (
                fdb(5, NeighbourState::Reachable, none, GUEST),
                true,
                "learned",
            ),
            (
                fdb(5, NeighbourState::Stale, none, GUEST),
                true,
                "learned, older",
            ),
            (
                fdb(5, NeighbourState::Noarp, none, GUEST),
                true,
                "static entry",
            ),
            (
                fdb(5, NeighbourState::Permanent, none, GUEST),
                false,
                "port's own MAC",
            ),
            (
                fdb(5, NeighbourState::Permanent, NeighbourFlags::Own, GUEST),
                false,
                "self",
            ),
            (
                fdb(5, NeighbourState::Reachable, none, [0x33, 0x33, 0, 0, 0, 1]),
                false,
                "multicast",
            ),
        ];
        for (m, learned, why) in cases {
            let mut cache = NeighbourCache::new();
            assert_eq!(cache.apply(m, false), *learned, "{why}");
            assert_eq!(!cache.macs_behind(5).is_empty(), *learned, "{why}");
        }
    }

    #[test]
    fn guest_macs_are_sticky_and_move_with_the_guest() {
        let mut cache = NeighbourCache::new();
        let learned = fdb(5, NeighbourState::Reachable, NeighbourFlags::empty(), GUEST);
        assert!(cache.apply(&learned, false));
        assert!(!cache.apply(&learned, false), "refresh changes nothing");
        assert!(
            !cache.apply(&learned, true),
            "ageing out keeps the guest's MAC"
        );
        assert_eq!(cache.macs_behind(5), &[GUEST]);
        let moved = fdb(6, NeighbourState::Reachable, NeighbourFlags::empty(), GUEST);
        assert!(cache.apply(&moved, false));
        assert!(cache.macs_behind(5).is_empty());
        assert_eq!(cache.macs_behind(6), &[GUEST]);
        cache.retain_ifindexes(|i| i != 6);
        assert!(cache.macs_behind(6).is_empty(), "port gone, MAC forgotten");
    }

    #[test]
    fn macs_behind_a_port_are_bounded_most_recent_last() {
        let mut cache = NeighbourCache::new();
        for i in 0..20u8 {
            cache.learned(7, [2, 0, 0, 0, 0, i]);
        }
        cache.learned(7, [2, 0, 0, 0, 0, 15]);
        let macs = cache.macs_behind(7);
        assert_eq!(macs.len(), MACS_PER_PORT);
        assert_eq!(macs.last(), Some(&[2, 0, 0, 0, 0, 15]));
        assert_eq!(macs.first(), Some(&[2, 0, 0, 0, 0, 12]));
    }

    #[test]
    fn ip_neighbours_by_interface_and_mac() {
        let mut cache = NeighbourCache::new();
        let st = NeighbourState::Stale;
        cache.apply(&arp(3, st, "fe80::1", Some(GUEST)), false);
        cache.apply(&arp(3, st, "fd00::9", Some(GUEST)), false);
        let index = cache.ip_index();
        assert_eq!(
            index[&(3, GUEST)].to_string(),
            "fd00::9",
            "global before link-local"
        );
        cache.apply(&arp(3, st, "10.0.0.9", Some(GUEST)), false);
        cache.apply(&arp(3, st, "10.0.0.7", Some(GUEST)), false);
        cache.apply(
            &arp(3, NeighbourState::Reachable, "10.0.0.8", Some(OTHER)),
            false,
        );
        cache.apply(&arp(4, st, "10.1.0.2", Some(GUEST)), false);
        let index = cache.ip_index();
        assert_eq!(index[&(3, GUEST)].to_string(), "10.0.0.7", "IPv4, lowest");
        assert_eq!(index[&(3, OTHER)].to_string(), "10.0.0.8");
        assert_eq!(index[&(4, GUEST)].to_string(), "10.1.0.2");
        // A failed or deleted entry no longer answers.
        assert!(cache.apply(&arp(3, NeighbourState::Failed, "10.0.0.8", None), false));
        assert!(cache.apply(&arp(3, st, "10.0.0.7", Some(GUEST)), true));
        assert!(
            !cache.apply(&arp(3, st, "10.9.9.9", None), true),
            "unknown delete"
        );
        let index = cache.ip_index();
        assert_eq!(index.get(&(3, OTHER)), None);
        assert_eq!(index[&(3, GUEST)].to_string(), "10.0.0.9");
        cache.retain_ifindexes(|i| i == 4);
        assert_eq!(cache.ip_count(), 1);
    }
}
