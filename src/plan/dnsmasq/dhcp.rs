//! DHCP, TFTP and router advertisements, as libvirt writes them: DHCP is served on the first
//! IPv4 and the first IPv6 `<ip>` with a range or a static host (IPv4 first), TFTP on every
//! IPv4 `<ip>` with a root.
//!
//! switchyard's own lines, on purpose: `no-ping` (we own the subnet, and the check costs
//! seconds per lease) and `dhcp-leasefile` (leases live in switchyard's state folder, where
//! libvirt uses a lease helper instead).

use std::net::IpAddr;

use super::conf::path_field;
use super::hosts::{infinite, lease_text, DhcpHostLine};
use super::syntax::{Entry, Field, Key, RenderError};
use super::DnsmasqPaths;
use crate::model::{DhcpRange, IpDef, NetworkDef};

/// Largest `dhcp-lease-max` dnsmasq reads (a C `int`).
const MAX_LEASES: u64 = i32::MAX as u64;

/// `enable-tftp` once, then `tftp-root` for each IPv4 `<ip>` with one.
pub(super) fn tftp(def: &NetworkDef, e: &mut Vec<Entry>) {
    let roots = def
        .ips
        .iter()
        .enumerate()
        .filter(|(_, ip)| ip.address.is_ipv4())
        .filter_map(|(i, ip)| ip.tftp_root.as_ref().map(|r| (i, r)));
    for (n, (i, root)) in roots.enumerate() {
        if n == 0 {
            e.push(Entry::flag(Key::EnableTftp));
        }
        let root = Field::data(root, format!("ip[{i}].tftp.root"));
        e.push(Entry::new(Key::TftpRoot, vec![root]));
    }
}

/// The `<ip>` blocks that serve DHCP: the first IPv4 and the first IPv6 one with a range or
/// a static host, with their indexes.
fn dhcp_blocks(def: &NetworkDef) -> Vec<(usize, &IpDef)> {
    let serves = |ip: &IpDef| !(ip.ranges().is_empty() && ip.hosts().is_empty());
    let first = |v6: bool| {
        def.ips
            .iter()
            .enumerate()
            .find(|(_, ip)| ip.address.is_ipv6() == v6 && serves(ip))
    };
    [first(false), first(true)].into_iter().flatten().collect()
}

/// Ranges, per-family options and the files DHCP needs.
pub(super) fn dhcp(
    def: &NetworkDef,
    paths: &DnsmasqPaths,
    e: &mut Vec<Entry>,
) -> Result<(), RenderError> {
    let blocks = dhcp_blocks(def);
    let mut leases: u64 = 0;
    for (i, ip) in &blocks {
        leases = leases.saturating_add(block(*i, ip, e)?);
    }
    // Only dynamic ranges count: with static hosts alone dnsmasq keeps its default limit,
    // which serves all of them.
    if leases > 0 {
        let max = leases.min(MAX_LEASES).to_string();
        e.push(Entry::fixed(Key::DhcpLeaseMax, [max]));
    }
    if !blocks.is_empty() {
        e.push(Entry::new(
            Key::DhcpLeasefile,
            vec![path_field(&paths.lease_file, "lease_file")?],
        ));
        e.push(Entry::new(
            Key::DhcpHostsfile,
            vec![path_field(&paths.hosts_file, "hosts_file")?],
        ));
    }
    Ok(())
}

/// One DHCP block's lines; returns the number of addresses its ranges hand out.
fn block(i: usize, ip: &IpDef, e: &mut Vec<Entry>) -> Result<u64, RenderError> {
    let Some(prefix) = ip.prefix_len() else {
        return Err(RenderError::new(
            format!("ip[{i}].prefix"),
            "no usable prefix",
        ));
    };
    let mask = match (ip.address, ip.net()) {
        (IpAddr::V4(_), Some(net)) => net.netmask().to_string(),
        _ => prefix.to_string(),
    };
    let mut leases: u64 = 0;
    for range in ip.ranges() {
        let mut fields = vec![range.start.to_string(), range.end.to_string(), mask.clone()];
        fields.extend(range.lease.as_ref().map(lease_text));
        e.push(Entry::fixed(Key::DhcpRange, fields));
        leases = leases.saturating_add(range_size(range));
    }
    if ip.ranges().is_empty() {
        // Static hosts only: a range of kind static turns DHCP on for them.
        let mut fields = vec![ip.address.to_string(), "static".to_owned()];
        fields.extend(ip.address.is_ipv6().then(|| prefix.to_string()));
        e.push(Entry::fixed(Key::DhcpRange, fields));
    }
    if ip.address.is_ipv4() {
        e.push(Entry::flag(Key::DhcpNoOverride));
        e.push(Entry::flag(Key::DhcpAuthoritative));
        e.push(Entry::flag(Key::NoPing));
        boot(i, ip, e);
    }
    Ok(leases)
}

/// `dhcp-boot=file[,,server]`.
fn boot(i: usize, ip: &IpDef, e: &mut Vec<Entry>) {
    let Some(bootp) = ip.dhcp.as_ref().and_then(|d| d.bootp.as_ref()) else {
        return;
    };
    let mut fields = vec![Field::data(&bootp.file, format!("ip[{i}].dhcp.bootp.file"))];
    if let Some(server) = bootp.server {
        fields.push(Field::Fixed(String::new()));
        fields.push(Field::Fixed(server.to_string()));
    }
    e.push(Entry::new(Key::DhcpBoot, fields));
}

fn range_size(range: &DhcpRange) -> u64 {
    match (range.start, range.end) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            u64::from(u32::from(b).saturating_sub(u32::from(a))).saturating_add(1)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let n = u128::from(b)
                .saturating_sub(u128::from(a))
                .saturating_add(1);
            u64::try_from(n).unwrap_or(u64::MAX)
        }
        _ => 0,
    }
}

/// `enable-ra` with DHCPv6; otherwise an `ra-only` range for each IPv6 `<ip>` (addresses by
/// SLAAC).
pub(super) fn router_advertisements(def: &NetworkDef, e: &mut Vec<Entry>) {
    if dhcp_blocks(def).iter().any(|(_, ip)| ip.address.is_ipv6()) {
        e.push(Entry::flag(Key::EnableRa));
        return;
    }
    for ip in def.ips.iter().filter(|ip| ip.address.is_ipv6()) {
        e.push(Entry::fixed(
            Key::DhcpRange,
            [ip.address.to_string(), "ra-only".to_owned()],
        ));
    }
}

/// The static hosts of the DHCP blocks, IPv4 first; hosts without an address are skipped, as
/// libvirt does. IPv4 hosts are matched by MAC, IPv6 hosts by DUID.
pub(super) fn host_lines(def: &NetworkDef) -> Vec<(String, DhcpHostLine)> {
    let mut out = Vec::new();
    for (i, ip) in dhcp_blocks(def) {
        let v6 = ip.address.is_ipv6();
        for (h, host) in ip.hosts().iter().enumerate() {
            let Some(addr) = host.ip else { continue };
            let line = DhcpHostLine {
                mac: host.mac.filter(|_| !v6),
                id: host.id.clone().filter(|_| v6),
                name: host.name.clone(),
                ip: addr,
                lease: host
                    .lease
                    .map(|l| if l.expiry == 0 { infinite() } else { l }),
            };
            out.push((format!("ip[{i}].dhcp.host[{h}]"), line));
        }
    }
    out
}
