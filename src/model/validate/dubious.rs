//! Dubious definitions: values libvirt defines and starts although they are almost certainly
//! mistakes. An imported definition keeps them (with a warning); a new network is refused
//! them (see `build_definition`).

use std::collections::hash_map::{Entry, HashMap};
use std::collections::BTreeMap;
use std::hash::Hash;

use ipnet::IpNet;

use super::nets::NetIndex;
use super::Problems;
use crate::model::def::{ForwardMode, NetworkDef};
use crate::model::ip::{DhcpRange, IpDef, IpFamily};
use crate::model::port::BandwidthDef;

pub(super) fn check(def: &NetworkDef, out: &mut Problems) {
    for (i, ip) in def.ips.iter().enumerate() {
        let path = format!("ip[{i}]");
        let Some(net) = ip.net().filter(|_| is_host_address(ip)) else {
            continue;
        };
        check_gateway(ip, net, &path, out);
        check_range_overlaps(ip.ranges(), &path, out);
        check_range_reserved(ip, net, &path, out);
        check_hosts(ip, net, &path, out);
    }
    if def.uses_own_bridge() {
        check_block_overlaps(def, out);
        check_own_bridge_extras(def, out);
    } else {
        check_attached_extras(def, out);
    }
    check_zero_rates(def, out);
}

/// Unspecified, multicast and loopback gateways are errors, not warnings.
fn is_host_address(ip: &IpDef) -> bool {
    let a = ip.address;
    !(a.is_unspecified() || a.is_multicast() || a.is_loopback())
}

/// libvirt puts any address of the subnet on the bridge, the network and broadcast address
/// (IPv6: the subnet-router anycast address) included; guests then have a gateway they may
/// not be able to use.
fn check_gateway(ip: &IpDef, net: IpNet, path: &str, out: &mut Problems) {
    let (addr, subnet) = (ip.address, net.trunc());
    let which = match net {
        IpNet::V4(n) if n.prefix_len() >= 31 => return,
        IpNet::V6(n) if n.prefix_len() >= 127 => return,
        IpNet::V4(n) if n.addr() == n.network() => "network address",
        IpNet::V4(n) if n.addr() == n.broadcast() => "broadcast address",
        IpNet::V6(n) if n.addr() == n.network() => "subnet-router anycast address",
        _ => return,
    };
    out.add(
        format!("{path}.address"),
        format!(
            "{addr} is the {which} of {subnet}, not a host address; guests may be unable to \
             use it as their gateway (use a host address such as the first one)"
        ),
    );
}

/// dnsmasq serves overlapping ranges, but the overlap is almost always a typo. Sorted by
/// start, a range overlaps an earlier one exactly when it starts before the farthest end
/// seen so far; each overlap is reported on the range written later.
fn check_range_overlaps(ranges: &[DhcpRange], path: &str, out: &mut Problems) {
    let same_family = |r: &DhcpRange| IpFamily::of(&r.start) == IpFamily::of(&r.end);
    let mut order: Vec<usize> = (0..ranges.len())
        .filter(|&r| same_family(&ranges[r]) && ranges[r].start <= ranges[r].end)
        .collect();
    order.sort_by_key(|&r| (ranges[r].start, r));
    let mut farthest: Option<usize> = None;
    let mut clashes: BTreeMap<usize, usize> = BTreeMap::new();
    for r in order {
        if let Some(q) = farthest.filter(|&q| ranges[r].start <= ranges[q].end) {
            clashes.entry(r.max(q)).or_insert(r.min(q));
        }
        if farthest.is_none_or(|q| ranges[r].end > ranges[q].end) {
            farthest = Some(r);
        }
    }
    for (r, q) in clashes {
        out.add(
            format!("{path}.dhcp.range[{r}]"),
            format!("overlaps range[{q}]; the addresses in both are one pool, served once"),
        );
    }
}

/// Addresses of the subnet no guest may be handed: the network's own (gateway) address, and
/// for IPv4 the network and broadcast addresses (IPv6: the subnet-router anycast address).
/// dnsmasq skips its own address, but a range written over them is a typo for another range.
/// Ranges outside the subnet or backwards are reported by `validate`.
fn check_range_reserved(ip: &IpDef, net: IpNet, path: &str, out: &mut Problems) {
    let subnet = net.trunc();
    let mut reserved = vec![(
        ip.address,
        "the network's own (gateway) address".to_string(),
    )];
    match subnet {
        IpNet::V4(n) if n.prefix_len() <= 30 => {
            reserved.push((
                n.network().into(),
                format!("the network address of {subnet}"),
            ));
            reserved.push((
                n.broadcast().into(),
                format!("the broadcast address of {subnet}"),
            ));
        }
        IpNet::V6(n) if n.prefix_len() <= 126 => {
            let which = format!("the subnet-router anycast address of {subnet}");
            reserved.push((n.network().into(), which));
        }
        _ => {}
    }
    reserved.sort_by_key(|(a, _)| *a);
    for (r, range) in ip.ranges().iter().enumerate() {
        let inside = subnet.contains(&range.start) && subnet.contains(&range.end);
        if !inside || range.start > range.end {
            continue;
        }
        let hit = reserved
            .iter()
            .find(|(a, _)| range.start <= *a && *a <= range.end);
        if let Some((addr, which)) = hit {
            out.add(
                format!("{path}.dhcp.range[{r}]"),
                format!(
                    "the range {}-{} includes {addr}, {which}; no guest may be handed it",
                    range.start, range.end
                ),
            );
        }
    }
}

/// Static hosts dnsmasq cannot honour as written: outside the subnet, on the gateway, or
/// sharing a MAC, address or name with an earlier host (dnsmasq keeps only one of them).
fn check_hosts(ip: &IpDef, net: IpNet, path: &str, out: &mut Problems) {
    let mut macs = HashMap::new();
    let mut addrs = HashMap::new();
    let mut names = HashMap::new();
    let subnet = net.trunc();
    for (h, host) in ip.hosts().iter().enumerate() {
        let at = |field: &str| format!("{path}.dhcp.host[{h}].{field}");
        match host.ip {
            Some(addr) if !subnet.contains(&addr) => out.add(
                at("ip"),
                format!("{addr} is outside {subnet}; dnsmasq will never hand it out"),
            ),
            Some(addr) if addr == ip.address => out.add(
                at("ip"),
                format!("{addr} is the network's own (gateway) address; a guest given it would clash with the host"),
            ),
            _ => {}
        }
        let also = |j: usize| format!("also used by host[{j}]; dnsmasq keeps only one of them");
        if let Some(j) = host.mac.and_then(|m| seen_at(&mut macs, m, h)) {
            out.add(at("mac"), also(j));
        }
        if let Some(j) = host.ip.and_then(|a| seen_at(&mut addrs, a, h)) {
            out.add(at("ip"), also(j));
        }
        if let Some(j) = host.name.as_deref().and_then(|n| seen_at(&mut names, n, h)) {
            out.add(at("name"), also(j));
        }
    }
}

/// Where `key` was first seen; records `index` when this is the first time.
fn seen_at<K: Hash + Eq>(seen: &mut HashMap<K, usize>, key: K, index: usize) -> Option<usize> {
    match seen.entry(key) {
        Entry::Occupied(e) => Some(*e.get()),
        Entry::Vacant(e) => {
            e.insert(index);
            None
        }
    }
}

/// Two `<ip>` blocks of one bridge whose subnets overlap: the kernel takes both addresses,
/// but which one answers for the overlap is left to chance.
fn check_block_overlaps(def: &NetworkDef, out: &mut Problems) {
    let nets: Vec<(usize, IpNet)> = def
        .ips
        .iter()
        .enumerate()
        .filter_map(|(i, ip)| ip.net().map(|n| (i, n)))
        .collect();
    let mut index = NetIndex::new();
    for &(i, net) in &nets {
        index.insert(net, i);
    }
    for &(i, net) in &nets {
        let earlier = index
            .overlapping(net)
            .into_iter()
            .filter_map(|(_, holders)| holders.iter().copied().find(|&j| j != i))
            .filter(|&j| j < i)
            .min();
        if let Some(j) = earlier {
            out.add(
                format!("ip[{i}]"),
                format!("{} overlaps ip[{j}] of this network", net.trunc()),
            );
        }
    }
}

/// Settings libvirt keeps but ignores on a bridge it manages itself.
fn check_own_bridge_extras(def: &NetworkDef, out: &mut Problems) {
    let mode = def.mode_name();
    let refused = format!(
        "<virtualport> does not work with mode '{mode}': the network starts, but guests \
         that get this virtualport cannot be connected to it"
    );
    if def.virtualport.is_some() {
        out.add("virtualport", refused.clone());
    }
    for (i, pg) in def.portgroups.iter().enumerate() {
        if pg.virtualport.is_some() {
            out.add(format!("portgroup[{i}].virtualport"), refused.clone());
        }
    }
    if def.forward.as_ref().is_some_and(|f| f.pf.is_some()) {
        out.add(
            "forward.pf",
            format!(
                "<pf> is ignored with mode '{mode}'; it only applies to hostdev and macvtap pools"
            ),
        );
    }
}

/// Attached modes: settings without effect, and device pools guests cannot attach through.
fn check_attached_extras(def: &NetworkDef, out: &mut Problems) {
    let Some(f) = &def.forward else { return };
    let mode = f.mode;
    if !def.dnsmasq_options.is_empty() {
        out.add(
            "dnsmasq.option[0]",
            format!("dnsmasq options are ignored with mode '{mode}': no dnsmasq runs for a network whose guests attach to host devices"),
        );
    }
    let (ifaces, addrs, pf) = (
        !f.interfaces.is_empty(),
        !f.addresses.is_empty(),
        f.pf.is_some(),
    );
    let unusable = "the network starts, but no guest can be connected to it";
    match mode {
        ForwardMode::Bridge if def.bridge_name().is_none() && !(ifaces || pf) => out.add(
            "bridge.name",
            format!("mode 'bridge' needs the name of an existing host bridge (or <interface> devices for macvtap); {unusable}"),
        ),
        ForwardMode::Private | ForwardMode::Vepa | ForwardMode::Passthrough
            if !(ifaces || pf || addrs) =>
        {
            out.add(
                "forward.interface",
                format!("mode '{mode}' needs at least one <interface dev> (or a <pf>); {unusable}"),
            );
        }
        ForwardMode::Hostdev if !(addrs || pf) => out.add(
            "forward.address",
            format!("mode 'hostdev' needs PCI <address> devices (or a <pf>); {unusable}"),
        ),
        _ => {}
    }
}

/// A rate of 0 is accepted by libvirt and means "no limit": almost certainly not meant.
fn check_zero_rates(def: &NetworkDef, out: &mut Problems) {
    let groups = def.portgroups.iter().enumerate();
    let with_path = groups.filter_map(|(i, pg)| {
        let bw = pg.bandwidth.as_ref()?;
        Some((format!("portgroup[{i}].bandwidth"), bw))
    });
    let network = def
        .bandwidth
        .as_ref()
        .map(|bw| ("bandwidth".to_string(), bw));
    for (path, bw) in network.into_iter().chain(with_path) {
        zero_rates(bw, &path, out);
    }
}

fn zero_rates(bw: &BandwidthDef, path: &str, out: &mut Problems) {
    for (dir, rate) in [("inbound", &bw.inbound), ("outbound", &bw.outbound)] {
        let Some(rate) = rate else { continue };
        let values = [
            ("average", rate.average),
            ("peak", rate.peak),
            ("floor", rate.floor),
            ("burst", rate.burst),
        ];
        for (field, _) in values.iter().filter(|(_, v)| *v == Some(0)) {
            out.add(
                format!("{path}.{dir}.{field}"),
                "0 means no limit at all; give a rate of at least 1, or leave the attribute out",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{build_definition, CreateRequest, HostFacts};

    /// What `create` (CLI and wizard alike) says about `dhcp` on 10.9.0.1/24, and a bridge `br`.
    fn refused(dhcp: Option<&str>, bridge: Option<&str>) -> Vec<String> {
        let req = CreateRequest {
            name: "t".into(),
            mode: "nat".into(),
            ipv4: Some("10.9.0.1/24".into()),
            dhcp: dhcp.map(Into::into),
            bridge: bridge.map(Into::into),
            ..CreateRequest::default()
        };
        let mut n = 1u64;
        let mut rand = move || {
            n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            n
        };
        match build_definition(&req, &[], &HostFacts::default(), &mut rand) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn ranges_over_reserved_addresses_are_refused_on_create() {
        let cases = [
            ("10.9.0.2-10.9.0.254", None),
            (
                "10.9.0.1-10.9.0.9",
                Some("includes 10.9.0.1, the network's own (gateway) address"),
            ),
            (
                "10.9.0.0-10.9.0.0",
                Some("includes 10.9.0.0, the network address of 10.9.0.0/24"),
            ),
            (
                "10.9.0.200-10.9.0.255",
                Some("includes 10.9.0.255, the broadcast address of 10.9.0.0/24"),
            ),
        ];
        for (range, want) in cases {
            let got = refused(Some(range), None);
            match want {
                None => assert!(got.is_empty(), "{range}: {got:?}"),
                Some(w) => assert!(
                    got.len() == 1
                        && got[0].starts_with("ip[0].dhcp.range[0]: ")
                        && got[0].contains(w),
                    "{range}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn lo_is_never_a_bridge() {
        let got = refused(None, Some("lo"));
        assert_eq!(
            got,
            ["bridge.name: lo is the loopback interface, not a bridge"]
        );
    }
}
