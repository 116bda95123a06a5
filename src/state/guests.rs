//! Which process holds which port, as pure data: the host layer scans for it (`/proc` on the
//! real host), the telemetry names ports with it.

use std::collections::HashMap;

use serde::Serialize;

/// The process behind a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuestProcess {
    /// Process id.
    pub pid: u32,
    /// QEMU's guest name, else `comm (pid N)`.
    pub name: String,
    /// Whether `name` came from QEMU's `-name` option.
    pub qemu_named: bool,
}

impl GuestProcess {
    /// Whether this one names a port better than `other`: a QEMU guest beats any other
    /// process (a helper that still holds a passed descriptor), then the lower pid wins, so
    /// the result does not depend on `/proc` order.
    fn better_than(&self, other: &GuestProcess) -> bool {
        (self.qemu_named, std::cmp::Reverse(self.pid))
            > (other.qemu_named, std::cmp::Reverse(other.pid))
    }
}

/// Ports mapped to processes, from one scan of `/proc`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestIndex {
    by_ifname: HashMap<String, GuestProcess>,
    by_tap_index: HashMap<u32, GuestProcess>,
}

fn insert_best<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, GuestProcess>,
    key: K,
    g: GuestProcess,
) {
    match map.get(&key) {
        Some(old) if !g.better_than(old) => {}
        _ => {
            map.insert(key, g);
        }
    }
}

impl GuestIndex {
    /// The process holding the tun/tap interface with this name.
    pub fn by_ifname(&self, ifname: &str) -> Option<&GuestProcess> {
        self.by_ifname.get(ifname)
    }

    /// The process holding `/dev/tapN` for the macvtap with this ifindex.
    pub fn by_tap_index(&self, ifindex: u32) -> Option<&GuestProcess> {
        self.by_tap_index.get(&ifindex)
    }

    /// The process behind a port, whichever kind it is.
    pub fn guest_of(&self, ifname: &str, ifindex: u32) -> Option<&GuestProcess> {
        self.by_ifname(ifname)
            .or_else(|| self.by_tap_index(ifindex))
    }

    /// Records that `guest` holds the tun/tap interface `ifname`.
    pub fn add_tun(&mut self, ifname: &str, guest: GuestProcess) {
        insert_best(&mut self.by_ifname, ifname.to_owned(), guest);
    }

    /// Records that `guest` holds `/dev/tapN` of the macvtap with index `ifindex`.
    pub fn add_tap(&mut self, ifindex: u32, guest: GuestProcess) {
        insert_best(&mut self.by_tap_index, ifindex, guest);
    }

    /// Number of ports mapped.
    pub fn len(&self) -> usize {
        self.by_ifname.len() + self.by_tap_index.len()
    }

    /// Whether no port is mapped.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
