//! What the neighbour tables say about guests (pure: fed with the host's neighbour entries).
//!
//! Two tables share `RTM_NEWNEIGH`/`RTM_DELNEIGH`: the IP neighbours (ARP, NDP: "this IP has
//! that MAC on that interface") and the bridges' forwarding databases (family `AF_BRIDGE`:
//! "that MAC was learned behind this port"). A port's own MAC is the host end of the link; the
//! guest's MAC, which its lease and its ARP entry carry, is only known from what the bridge
//! learned behind the port. The collector dumps both tables once and then applies the
//! `RTNLGRP_NEIGH` events, so no poll is needed.

use std::collections::HashMap;
use std::net::IpAddr;

pub use crate::state::{Mac, Neighbour};

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

    /// Apply one entry, new (`deleted == false`) or deleted. A learned MAC that ages out of a
    /// bridge's table is kept (a quiet guest keeps its name and address).
    pub fn apply(&mut self, entry: &Neighbour, deleted: bool) -> Changed {
        match *entry {
            Neighbour::Ip { ifindex, ip, mac } => {
                let key = (ifindex, ip);
                match mac.filter(|_| !deleted) {
                    Some(mac) => self.ips.insert(key, mac) != Some(mac),
                    None => self.ips.remove(&key).is_some(),
                }
            }
            Neighbour::Learned { port, mac } => !deleted && self.learned(port, mac),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    const GUEST: Mac = [0x52, 0x54, 0, 0, 0, 1];
    const OTHER: Mac = [0x52, 0x54, 0, 0, 0, 2];

    fn learned(port: u32, mac: Mac) -> Neighbour {
        Neighbour::Learned { port, mac }
    }

    fn arp(ifindex: u32, ip: &str, mac: Option<Mac>) -> Neighbour {
        Neighbour::Ip {
            ifindex,
            ip: ip.parse().expect("test literal"),
            mac,
        }
    }

    #[test]
    fn guest_macs_are_sticky_and_move_with_the_guest() {
        let mut cache = NeighbourCache::new();
        assert!(cache.apply(&learned(5, GUEST), false));
        assert!(
            !cache.apply(&learned(5, GUEST), false),
            "refresh changes nothing"
        );
        assert!(
            !cache.apply(&learned(5, GUEST), true),
            "ageing out keeps the guest's MAC"
        );
        assert_eq!(cache.macs_behind(5), &[GUEST]);
        assert!(cache.apply(&learned(6, GUEST), false));
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
        cache.apply(&arp(3, "fe80::1", Some(GUEST)), false);
        cache.apply(&arp(3, "fd00::9", Some(GUEST)), false);
        let index = cache.ip_index();
        assert_eq!(
            index[&(3, GUEST)].to_string(),
            "fd00::9",
            "global before link-local"
        );
        cache.apply(&arp(3, "10.0.0.9", Some(GUEST)), false);
        cache.apply(&arp(3, "10.0.0.7", Some(GUEST)), false);
        cache.apply(&arp(3, "10.0.0.8", Some(OTHER)), false);
        cache.apply(&arp(4, "10.1.0.2", Some(GUEST)), false);
        let index = cache.ip_index();
        assert_eq!(index[&(3, GUEST)].to_string(), "10.0.0.7", "IPv4, lowest");
        assert_eq!(index[&(3, OTHER)].to_string(), "10.0.0.8");
        assert_eq!(index[&(4, GUEST)].to_string(), "10.1.0.2");
        // A failed or deleted entry no longer answers.
        assert!(cache.apply(&arp(3, "10.0.0.8", None), false));
        assert!(cache.apply(&arp(3, "10.0.0.7", Some(GUEST)), true));
        assert!(
            !cache.apply(&arp(3, "10.9.9.9", None), true),
            "unknown delete"
        );
        let index = cache.ip_index();
        assert_eq!(index.get(&(3, OTHER)), None);
        assert_eq!(index[&(3, GUEST)].to_string(), "10.0.0.9");
        cache.retain_ifindexes(|i| i == 4);
        assert_eq!(cache.ip_count(), 1);
    }
}
