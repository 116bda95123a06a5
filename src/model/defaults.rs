//! Define-time defaults: bridge name, MAC and UUID, free subnets, DHCP ranges, ULA prefixes.
//! Pure and deterministic given the inputs (the random source is passed in).

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use uuid::Uuid;

use super::def::{BridgeDef, NetworkDef};
use super::mac::MacAddr;

/// Prefix of bridge names switchyard picks: `sybr0`, `sybr1`, …
pub const BRIDGE_PREFIX: &str = "sybr";

/// libvirt's own default network, never picked automatically.
pub const LIBVIRT_DEFAULT_SUBNET: Ipv4Net =
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 122, 0), 24);

/// Fill in what a definition needs before it is stored: for own-bridge modes a free
/// `sybrN` bridge name, explicit STP (on) and delay (0) as libvirt writes them, and a
/// `52:54:00:xx:xx:xx` MAC; for every mode a random (v4) UUID.
/// `host_ifnames` are the interfaces that exist on the host now.
pub fn fill_defaults(
    def: &mut NetworkDef,
    others: &[NetworkDef],
    host_ifnames: &[String],
    rand: &mut dyn FnMut() -> u64,
) {
    if def.uses_own_bridge() {
        let name = def
            .bridge_name()
            .is_none()
            .then(|| free_bridge_name(others, host_ifnames));
        let bridge = def.bridge.get_or_insert_with(BridgeDef::default);
        bridge.name = bridge.name.take().or(name);
        bridge.stp = bridge.stp.or(Some(true));
        bridge.delay = bridge.delay.or(Some(0));
        if def.mac.is_none() {
            let taken: HashSet<MacAddr> = others.iter().filter_map(|o| o.mac).collect();
            def.mac = Some(unused(rand, random_mac, |m| taken.contains(m)));
        }
    }
    if def.uuid.is_none() {
        let taken: HashSet<Uuid> = others.iter().filter_map(|o| o.uuid).collect();
        def.uuid = Some(unused(rand, random_uuid, |u| taken.contains(u)));
    }
}

/// Draw until `taken` says no (a few tries; collisions are astronomically rare).
fn unused<T>(
    rand: &mut dyn FnMut() -> u64,
    draw: fn(&mut dyn FnMut() -> u64) -> T,
    taken: impl Fn(&T) -> bool,
) -> T {
    let mut value = draw(rand);
    for _ in 0..16 {
        if !taken(&value) {
            break;
        }
        value = draw(rand);
    }
    value
}

/// Lowest `sybrN` not used as a bridge name by another network nor as a host interface.
pub fn free_bridge_name(others: &[NetworkDef], host_ifnames: &[String]) -> String {
    let mut used: HashSet<&str> = others.iter().filter_map(NetworkDef::bridge_name).collect();
    used.extend(host_ifnames.iter().map(String::as_str));
    (0u32..)
        .map(|n| format!("{BRIDGE_PREFIX}{n}"))
        .find(|name| !used.contains(name.as_str()))
        .expect("finitely many names are used, so some sybrN is free")
}

/// A locally administered unicast MAC in QEMU/libvirt's 52:54:00 block.
pub fn random_mac(rand: &mut dyn FnMut() -> u64) -> MacAddr {
    let [a, b, c, ..] = rand().to_le_bytes();
    MacAddr([0x52, 0x54, 0x00, a, b, c])
}

/// A version 4 (random) UUID built from `rand`.
pub fn random_uuid(rand: &mut dyn FnMut() -> u64) -> Uuid {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rand().to_le_bytes());
    bytes[8..].copy_from_slice(&rand().to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Candidate /24s in order: 192.168.100.0/24 … 192.168.254.0/24 (skipping libvirt's
/// 192.168.122.0/24), then 10.100.0.0/24 … 10.100.255.0/24.
fn candidate_subnets() -> impl Iterator<Item = Ipv4Net> {
    let c_class = (100u8..=254).map(|third| Ipv4Addr::new(192, 168, third, 0));
    let ten = (0u8..=255).map(|third| Ipv4Addr::new(10, 100, third, 0));
    c_class
        .chain(ten)
        .map(|a| Ipv4Net::new_assert(a, 24))
        .filter(|n| *n != LIBVIRT_DEFAULT_SUBNET)
}

/// The first candidate /24 that overlaps nothing in `taken` (host addresses, host routes,
/// other networks' subnets). Prefix-0 entries (default routes) claim nothing.
pub fn free_ipv4_subnet(taken: &[IpNet]) -> Option<Ipv4Net> {
    let taken: Vec<Ipv4Net> = taken
        .iter()
        .filter_map(|n| match n {
            IpNet::V4(v4) if v4.prefix_len() > 0 => Some(v4.trunc()),
            _ => None,
        })
        .collect();
    candidate_subnets().find(|c| {
        !taken
            .iter()
            .any(|t| t.contains(&c.network()) || c.contains(&t.network()))
    })
}

/// The usual DHCP range of a subnet whose gateway is its first address: `.2 … .254` for a
/// /24, generally network+2 … broadcast-1. A /31 or /32 has no room for a pool; the range is
/// then the last address alone (callers should not offer DHCP there).
pub fn default_dhcp_range(net: Ipv4Net) -> (Ipv4Addr, Ipv4Addr) {
    let (network, broadcast) = (u32::from(net.network()), u32::from(net.broadcast()));
    if net.prefix_len() >= 31 {
        return (net.broadcast(), net.broadcast());
    }
    (Ipv4Addr::from(network + 2), Ipv4Addr::from(broadcast - 1))
}

/// A random unique local IPv6 /64 (`fdxx:xxxx:xxxx::/64`, RFC 4193) in gateway form: the
/// address is `…::1`, the prefix 64.
pub fn ula_prefix(rand: &mut dyn FnMut() -> u64) -> Ipv6Net {
    let global = rand().to_le_bytes();
    let mut octets = [0u8; 16];
    octets[0] = 0xfd;
    octets[1..6].copy_from_slice(&global[..5]);
    octets[15] = 1;
    Ipv6Net::new_assert(Ipv6Addr::from(octets), 64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::def::{ForwardDef, ForwardMode};

    fn counter() -> impl FnMut() -> u64 {
        let mut n = 0x0123_4567_89ab_cdefu64;
        move || {
            n = n
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            n
        }
    }

    fn net(s: &str) -> IpNet {
        s.parse().expect("test subnet")
    }

    #[test]
    fn subnets_skip_taken_and_libvirt_default() {
        assert_eq!(
            free_ipv4_subnet(&[]),
            Some("192.168.100.0/24".parse().expect("net"))
        );
        let taken = [
            net("192.168.100.7/32"),
            net("192.168.101.0/25"),
            net("0.0.0.0/0"),
            net("fd00::/8"),
        ];
        assert_eq!(
            free_ipv4_subnet(&taken),
            Some("192.168.102.0/24".parse().expect("net"))
        );
        let upto_121: Vec<IpNet> = (100..=121)
            .map(|t| net(&format!("192.168.{t}.0/24")))
            .collect();
        assert_eq!(
            free_ipv4_subnet(&upto_121),
            Some("192.168.123.0/24".parse().expect("net"))
        );
        assert_eq!(
            free_ipv4_subnet(&[net("192.168.0.0/16")]),
            Some("10.100.0.0/24".parse().expect("net"))
        );
        assert_eq!(
            free_ipv4_subnet(&[net("192.168.0.0/16"), net("10.0.0.0/8")]),
            None
        );
    }

    #[test]
    fn dhcp_ranges() {
        let r = |s: &str| {
            let (a, b) = default_dhcp_range(s.parse().expect("net"));
            format!("{a}-{b}")
        };
        assert_eq!(r("192.168.100.0/24"), "192.168.100.2-192.168.100.254");
        assert_eq!(r("10.0.0.0/16"), "10.0.0.2-10.0.255.254");
        assert_eq!(r("10.0.0.4/30"), "10.0.0.6-10.0.0.6");
        assert_eq!(r("10.0.0.4/31"), "10.0.0.5-10.0.0.5");
    }

    #[test]
    fn ula_is_fd_slash_64_with_gateway_one() {
        let ula = ula_prefix(&mut counter());
        assert_eq!(ula.prefix_len(), 64);
        assert_eq!(ula.addr().octets()[0], 0xfd);
        assert_eq!(ula.addr().segments()[3..7], [0, 0, 0, 0]);
        assert_eq!(ula.addr().segments()[7], 1);
    }

    #[test]
    fn fills_bridge_mac_uuid_for_own_bridge() {
        let others = [NetworkDef {
            name: "a".into(),
            bridge: Some(BridgeDef {
                name: Some("sybr0".into()),
                ..Default::default()
            }),
            ..Default::default()
        }];
        let mut def = NetworkDef {
            name: "b".into(),
            forward: Some(ForwardDef::new(ForwardMode::Nat)),
            ..Default::default()
        };
        fill_defaults(&mut def, &others, &["sybr1".to_string()], &mut counter());
        assert_eq!(def.bridge_name(), Some("sybr2"));
        let mac = def.mac.expect("mac filled");
        assert_eq!(mac.0[..3], [0x52, 0x54, 0x00]);
        assert_eq!(def.uuid.expect("uuid filled").get_version_num(), 4);
    }

    #[test]
    fn macvtap_gets_only_a_uuid() {
        let forward = ForwardDef {
            interfaces: vec!["eth0".into()],
            ..ForwardDef::new(ForwardMode::Private)
        };
        let mut def = NetworkDef {
            name: "m".into(),
            forward: Some(forward),
            ..Default::default()
        };
        fill_defaults(&mut def, &[], &[], &mut counter());
        assert!(def.bridge.is_none() && def.mac.is_none() && def.uuid.is_some());
    }

    #[test]
    fn deterministic_given_rand() {
        let make = || {
            let mut def = NetworkDef {
                name: "x".into(),
                ..Default::default()
            };
            fill_defaults(&mut def, &[], &[], &mut counter());
            def
        };
        assert_eq!(make(), make());
    }
}
