//! `<ip>` blocks, DHCP ranges and hosts, static routes, and subnet clashes with other
//! networks. (What libvirt accepts although it is dubious, such as a gateway on the network
//! address or overlapping ranges, is in `dubious`.)

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::nets::NetIndex;
use super::text::{check_dhcp_host_name, check_dnsmasq_value};
use super::Problems;
use crate::model::def::NetworkDef;
use crate::model::ip::{
    classful_prefix, netmask_bits, DhcpHost, IpDef, IpFamily, LeaseDef, RouteDef,
};

pub(super) fn check(def: &NetworkDef, others: &[&NetworkDef], out: &mut Problems) {
    for (i, ip) in def.ips.iter().enumerate() {
        let path = format!("ip[{i}]");
        let net = check_address(ip, &path, out);
        check_tftp_bootp(ip, &path, out);
        check_dnsmasq_prefix(ip, &path, out);
        if let Some(net) = net {
            check_ranges(ip, net, &path, out);
            check_hosts(ip, &path, out);
        }
    }
    check_single_dhcp(def, out);
    let mut blocks = NetIndex::new();
    for net in def.ips.iter().filter_map(IpDef::net) {
        blocks.insert(net, ());
    }
    for (r, route) in def.routes.iter().enumerate() {
        check_route(&blocks, route, &format!("route[{r}]"), out);
    }
    check_overlaps(def, others, out);
}

fn family_name(f: IpFamily) -> &'static str {
    match f {
        IpFamily::V4 => "IPv4",
        IpFamily::V6 => "IPv6",
    }
}

/// Address, family, prefix/netmask; returns the subnet when it is usable.
fn check_address(ip: &IpDef, path: &str, out: &mut Problems) -> Option<IpNet> {
    let family = IpFamily::of(&ip.address);
    if let Some(written) = ip.family.filter(|f| *f != family) {
        out.add(
            format!("{path}.family"),
            format!(
                "family '{}' does not match {} address {}",
                written.as_str(),
                family_name(family),
                ip.address
            ),
        );
    }
    let prefix_ok = check_prefix(ip.address, ip.prefix, ip.netmask, path, out);
    let addr = ip.address;
    if addr.is_unspecified() || addr.is_multicast() || addr.is_loopback() {
        out.add(
            format!("{path}.address"),
            format!("{addr} cannot be a network's gateway address"),
        );
        return None;
    }
    ip.net().filter(|_| prefix_ok)
}

/// Shared by `<ip>` and `<route>`: prefix in range, netmask contiguous and IPv4, not both.
fn check_prefix(
    addr: IpAddr,
    prefix: Option<u8>,
    netmask: Option<Ipv4Addr>,
    path: &str,
    out: &mut Problems,
) -> bool {
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let fam = family_name(IpFamily::of(&addr));
    let mut ok = netmask.is_none_or(|mask| check_netmask(addr, mask, path, out));
    if let Some(p) = prefix.filter(|p| *p == 0 || *p > max) {
        out.add(
            format!("{path}.prefix"),
            format!("{p} is out of range for {fam} (1-{max})"),
        );
        ok = false;
    }
    if prefix.is_some() && netmask.is_some() {
        out.add(
            format!("{path}.prefix"),
            "give either a prefix or a netmask, not both",
        );
    }
    let classless = matches!(addr, IpAddr::V4(a) if classful_prefix(a).is_none());
    if prefix.is_none() && netmask.is_none() && classless {
        out.add(
            format!("{path}.prefix"),
            format!("{addr} needs an explicit prefix"),
        );
        ok = false;
    }
    ok
}

fn check_netmask(addr: IpAddr, mask: Ipv4Addr, path: &str, out: &mut Problems) -> bool {
    if addr.is_ipv6() {
        out.add(
            format!("{path}.netmask"),
            "a netmask cannot be used with an IPv6 address; use prefix",
        );
        return false;
    }
    if netmask_bits(mask).is_none_or(|b| b == 0) {
        let msg = format!("{mask} is not a valid netmask (the one bits must be contiguous)");
        out.add(format!("{path}.netmask"), msg);
        return false;
    }
    true
}

fn check_tftp_bootp(ip: &IpDef, path: &str, out: &mut Problems) {
    if let Some(root) = &ip.tftp_root {
        if ip.address.is_ipv6() {
            out.add(
                format!("{path}.tftp"),
                "TFTP is only supported on an IPv4 <ip>",
            );
        }
        check_dnsmasq_value(out, &format!("{path}.tftp.root"), root);
        if root.is_empty() {
            out.add(format!("{path}.tftp.root"), "the TFTP root is empty");
        }
    }
    let Some(bootp) = ip.dhcp.as_ref().and_then(|d| d.bootp.as_ref()) else {
        return;
    };
    if ip.address.is_ipv6() {
        out.add(
            format!("{path}.dhcp.bootp"),
            "BOOTP is only supported on an IPv4 <ip>",
        );
    }
    check_dnsmasq_value(out, &format!("{path}.dhcp.bootp.file"), &bootp.file);
    if bootp.file.is_empty() {
        out.add(
            format!("{path}.dhcp.bootp.file"),
            "the boot file name is empty",
        );
    }
    if bootp.server.is_some_and(|s| !s.is_ipv4()) {
        out.add(
            format!("{path}.dhcp.bootp.server"),
            "the boot server must be an IPv4 address",
        );
    }
}

/// Prefixes dnsmasq cannot serve: DHCPv6 needs a prefix of at least 64, and a local reverse
/// zone (`localPtr`) needs whole octets (IPv4) or nibbles (IPv6).
fn check_dnsmasq_prefix(ip: &IpDef, path: &str, out: &mut Problems) {
    let Some(prefix) = ip.prefix_len() else {
        return;
    };
    let dhcp = !(ip.ranges().is_empty() && ip.hosts().is_empty());
    if ip.address.is_ipv6() && dhcp && prefix < 64 {
        out.add(
            format!("{path}.prefix"),
            format!("DHCPv6 needs a prefix of at least 64 (dnsmasq refuses /{prefix})"),
        );
    }
    let ptr_ok = match ip.address {
        IpAddr::V4(_) => matches!(prefix, 8 | 16 | 24),
        IpAddr::V6(_) => prefix % 4 == 0 && (4..128).contains(&prefix),
    };
    if ip.local_ptr == Some(true) && !ptr_ok {
        out.add(
            format!("{path}.localPtr"),
            format!(
                "the reverse zone of a /{prefix} cannot be served locally (IPv4 needs a prefix \
                 of 8, 16 or 24, IPv6 a multiple of 4)"
            ),
        );
    }
}

fn contains(net: IpNet, addr: IpAddr) -> bool {
    net.trunc().contains(&addr)
}

fn check_ranges(ip: &IpDef, net: IpNet, path: &str, out: &mut Problems) {
    let subnet = net.trunc();
    for (r, range) in ip.ranges().iter().enumerate() {
        let rpath = format!("{path}.dhcp.range[{r}]");
        let mut inside = true;
        for addr in [range.start, range.end] {
            if !contains(net, addr) {
                out.add(rpath.clone(), format!("{addr} is outside {subnet}"));
                inside = false;
            }
        }
        if inside && range.start > range.end {
            out.add(
                rpath.clone(),
                format!("start {} is after end {}", range.start, range.end),
            );
        }
        check_lease(range.lease.as_ref(), &format!("{rpath}.lease"), out);
    }
}

/// Longest finite lease dnsmasq reads correctly: it computes the seconds in a C `int`.
const MAX_LEASE_SECS: u64 = i32::MAX as u64;

fn check_lease(lease: Option<&LeaseDef>, path: &str, out: &mut Problems) {
    if let Some(secs) = lease.and_then(LeaseDef::seconds) {
        if secs < 120 {
            out.add(
                path,
                format!("{secs} seconds is too short; dnsmasq's minimum lease is 2 minutes"),
            );
        } else if secs > MAX_LEASE_SECS {
            out.add(
                path,
                format!(
                    "{secs} seconds is more than dnsmasq can count ({MAX_LEASE_SECS}); use \
                     expiry='0' for a lease that never ends"
                ),
            );
        }
    }
}

/// What each static host needs; clashes and addresses outside the subnet are `dubious`.
fn check_hosts(ip: &IpDef, path: &str, out: &mut Problems) {
    for (h, host) in ip.hosts().iter().enumerate() {
        let hpath = format!("{path}.dhcp.host[{h}]");
        check_host_identity(ip, host, &hpath, out);
        if host.ip.is_none() {
            out.add(format!("{hpath}.ip"), "a static host needs an ip address");
        }
        check_lease(host.lease.as_ref(), &format!("{hpath}.lease"), out);
    }
}

fn check_host_identity(ip: &IpDef, host: &DhcpHost, hpath: &str, out: &mut Problems) {
    let v6 = ip.address.is_ipv6();
    if let Some(mac) = host.mac {
        if v6 {
            out.add(
                format!("{hpath}.mac"),
                "IPv6 static hosts are matched by id (DUID), not MAC",
            );
        } else if mac.is_multicast() || mac.is_zero() {
            out.add(
                format!("{hpath}.mac"),
                format!("{mac} is not a unicast MAC address"),
            );
        }
    }
    if let Some(id) = &host.id {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            out.add(
                format!("{hpath}.id"),
                format!(
                    "'{}' is not a DUID (hex digits and ':' only)",
                    id.escape_debug()
                ),
            );
        }
    }
    if let Some(name) = &host.name {
        check_dhcp_host_name(out, &format!("{hpath}.name"), name);
    }
    let named = host.name.is_some();
    if !(v6 || named || host.mac.is_some()) {
        out.add(hpath, "an IPv4 static host needs a mac or a name");
    }
    if v6 && !(named || host.id.is_some()) {
        out.add(hpath, "an IPv6 static host needs an id or a name");
    }
}

/// libvirt serves DHCP on one IPv4 and one IPv6 block only.
fn check_single_dhcp(def: &NetworkDef, out: &mut Problems) {
    for v6 in [false, true] {
        let with_dhcp = def
            .ips
            .iter()
            .enumerate()
            .filter(|(_, ip)| ip.address.is_ipv6() == v6);
        let with_dhcp: Vec<usize> = with_dhcp
            .filter(|(_, ip)| !(ip.ranges().is_empty() && ip.hosts().is_empty()))
            .map(|(i, _)| i)
            .collect();
        for i in with_dhcp.iter().skip(1) {
            let fam = if v6 { "IPv6" } else { "IPv4" };
            out.add(
                format!("ip[{i}].dhcp"),
                format!(
                    "DHCP is already served on ip[{}]; only one {fam} <ip> can have DHCP",
                    with_dhcp[0]
                ),
            );
        }
    }
}

fn check_route(blocks: &NetIndex<()>, route: &RouteDef, path: &str, out: &mut Problems) {
    let family = IpFamily::of(&route.address);
    if let Some(written) = route.family.filter(|f| *f != family) {
        out.add(
            format!("{path}.family"),
            format!(
                "family '{}' does not match address {}",
                written.as_str(),
                route.address
            ),
        );
    }
    check_prefix(route.address, route.prefix, route.netmask, path, out);
    if route.gateway.is_ipv4() != route.address.is_ipv4() {
        out.add(
            format!("{path}.gateway"),
            format!(
                "{} and {} are of different IP families",
                route.gateway, route.address
            ),
        );
        return;
    }
    if blocks.overlapping(IpNet::from(route.gateway)).is_empty() {
        out.add(
            format!("{path}.gateway"),
            format!("{} is not on any of this network's subnets", route.gateway),
        );
    }
}

/// Own-bridge subnets must not overlap another own-bridge network's (overlaps inside this
/// network are `dubious`). One index of the others' subnets keeps this near-linear.
fn check_overlaps(def: &NetworkDef, others: &[&NetworkDef], out: &mut Problems) {
    if !def.uses_own_bridge() {
        return;
    }
    let mut theirs = NetIndex::new();
    for (k, other) in others
        .iter()
        .enumerate()
        .filter(|(_, o)| o.uses_own_bridge())
    {
        for net in other.ips.iter().filter_map(IpDef::net) {
            theirs.insert(net, k);
        }
    }
    for (i, ip) in def.ips.iter().enumerate() {
        let Some(net) = ip.net() else { continue };
        let mut clashes: BTreeMap<usize, IpNet> = BTreeMap::new();
        for (their_net, holders) in theirs.overlapping(net) {
            for &k in holders {
                clashes.entry(k).or_insert(their_net);
            }
        }
        for (k, their_net) in clashes {
            out.add(
                format!("ip[{i}]"),
                format!(
                    "{} overlaps {their_net} of network '{}'",
                    net.trunc(),
                    others[k].name
                ),
            );
        }
    }
}
