//! `ip-dhcp-range` (libvirt's `virNetworkDefUpdateIPDHCPRange`), and what the DHCP sections
//! share: which `<ip>` they change, and the one-DHCP-`<ip>`-per-family rule.

use std::net::IpAddr;

use ipnet::IpNet;

use super::error::{Reason, UpdateError};
use super::section::{Section, UpdateCommand};
use super::{fragment_error, no_modify, UpdateRequest};
use crate::model::def::NetworkDef;
use crate::model::ip::{DhcpDef, DhcpRange, IpDef};
use crate::model::xml::fragment;

/// The index of the `<ip>` a DHCP update works on: `index` counts every `<ip>`; without one,
/// libvirt's choice (`virNetworkIPDefByIndex(-1)`): the first `<ip>` with DHCP ranges or
/// hosts, else the first IPv4 `<ip>`, else the first IPv6 one.
pub(super) fn target_ip(
    def: &NetworkDef,
    section: Section,
    index: Option<usize>,
) -> Result<usize, UpdateError> {
    let found = match index {
        Some(i) => (i < def.ips.len()).then_some(i),
        None => def
            .ips
            .iter()
            .position(has_dhcp)
            .or_else(|| def.ips.iter().position(|ip| ip.address.is_ipv4()))
            .or_else(|| def.ips.iter().position(|ip| ip.address.is_ipv6())),
    };
    found.ok_or_else(|| {
        let field = "parent-index";
        let message = match index {
            Some(i) => format!(
                "there is no <ip> at index {i} (the network has {})",
                def.ips.len()
            ),
            None => "the network has no <ip> element".to_string(),
        };
        UpdateError::refused(section, field, Reason::NotFound, message)
    })
}

fn has_dhcp(ip: &IpDef) -> bool {
    !(ip.ranges().is_empty() && ip.hosts().is_empty())
}

/// How the chosen `<ip>` is named in messages: `ip[0] (192.168.122.1)`.
pub(super) fn ip_label(def: &NetworkDef, i: usize) -> String {
    format!("ip[{i}] ({})", def.ips[i].address)
}

/// libvirt's rule that only one `<ip>` of each family serves DHCP, checked before an add.
pub(super) fn check_single_dhcp(
    def: &NetworkDef,
    i: usize,
    section: Section,
) -> Result<(), UpdateError> {
    let v6 = def.ips[i].address.is_ipv6();
    let other = def
        .ips
        .iter()
        .enumerate()
        .find(|(j, ip)| *j != i && ip.address.is_ipv6() == v6 && has_dhcp(ip));
    match other {
        Some((j, _)) => Err(UpdateError::refused(
            section,
            "parent-index",
            Reason::Invalid,
            format!(
                "DHCP is supported on a single {} <ip> of each network, and {} already has it",
                if v6 { "IPv6" } else { "IPv4" },
                ip_label(def, j)
            ),
        )),
        None => Ok(()),
    }
}

/// The `<dhcp>` of `<ip>` `i`, created when missing.
pub(super) fn dhcp_mut(def: &mut NetworkDef, i: usize) -> &mut DhcpDef {
    def.ips[i].dhcp.get_or_insert_with(DhcpDef::default)
}

/// Drops a `<dhcp>` left with nothing in it.
pub(super) fn tidy_dhcp(def: &mut NetworkDef, i: usize) {
    if def.ips[i].dhcp.as_ref().is_some_and(DhcpDef::is_empty) {
        def.ips[i].dhcp = None;
    }
}

/// Add or delete a range, matched by start and end; ranges cannot be modified.
pub(super) fn update_range(def: &mut NetworkDef, req: &UpdateRequest) -> Result<(), UpdateError> {
    let section = Section::IpDhcpRange;
    let range = fragment::parse_dhcp_range(&req.xml).map_err(fragment_error(section))?;
    let i = target_ip(def, section, req.parent_index)?;
    if req.command == UpdateCommand::Modify {
        return Err(no_modify(section, "DHCP ranges"));
    }
    check_range(&def.ips[i], &range)?;
    let found = def.ips[i]
        .ranges()
        .iter()
        .position(|r| r.start == range.start && r.end == range.end);
    let shown = format!("<range start='{}' end='{}'/>", range.start, range.end);
    match (req.command, found) {
        (UpdateCommand::Delete, Some(k)) => {
            dhcp_mut(def, i).ranges.remove(k);
            tidy_dhcp(def, i);
            Ok(())
        }
        (UpdateCommand::Delete, None) => Err(UpdateError::refused(
            section,
            "start",
            Reason::NotFound,
            format!("{} has no DHCP range {shown}", ip_label(def, i)),
        )),
        (_, Some(_)) => Err(UpdateError::refused(
            section,
            "start",
            Reason::Duplicate,
            format!("{} already has the DHCP range {shown}", ip_label(def, i)),
        )),
        (add, None) => {
            check_single_dhcp(def, i, section)?;
            let ranges = &mut dhcp_mut(def, i).ranges;
            ranges.insert(add.insert_at(ranges.len()), range);
            Ok(())
        }
    }
}

/// libvirt's sanity check of a range against its `<ip>` (`virSocketAddrGetRange`): one
/// family, inside the subnet, not starting on the network address nor ending on the
/// broadcast address (IPv4), in order, and at most 65536 addresses.
fn check_range(ip: &IpDef, range: &DhcpRange) -> Result<(), UpdateError> {
    let bad = |field, message: String| {
        Err(UpdateError::refused(
            Section::IpDhcpRange,
            field,
            Reason::Invalid,
            message,
        ))
    };
    let shown = format!("{} - {}", range.start, range.end);
    let Some(net) = ip.net() else {
        return bad("start", format!("<ip> {} has no usable prefix", ip.address));
    };
    let subnet = net.trunc();
    if range.start.is_ipv4() != range.end.is_ipv4() {
        return bad("end", format!("range {shown} mixes address families"));
    }
    if range.start.is_ipv4() != ip.address.is_ipv4() {
        return bad(
            "start",
            format!(
                "the family of range {shown} does not match <ip> {}",
                ip.address
            ),
        );
    }
    if !subnet.contains(&range.start) || !subnet.contains(&range.end) {
        return bad(
            "start",
            format!("range {shown} is not entirely within network {subnet}"),
        );
    }
    if let Some((field, problem)) = edge_problem(net, range) {
        return bad(field, format!("range {shown}: {problem} of {subnet}"));
    }
    range_size_problem(range).map_or(Ok(()), |p| bad("end", format!("range {shown} {p}")))
}

/// An IPv4 range may not start on the network address nor end on the broadcast address.
fn edge_problem(net: IpNet, range: &DhcpRange) -> Option<(&'static str, &'static str)> {
    let IpNet::V4(v4) = net else { return None };
    if range.start == IpAddr::V4(v4.network()) {
        Some(("start", "the start is the network address"))
    } else if range.end == IpAddr::V4(v4.broadcast()) {
        Some(("end", "the end is the broadcast address"))
    } else {
        None
    }
}

/// libvirt's legacy limits: all but the last 16 bits equal, and the end not before the start.
fn range_size_problem(range: &DhcpRange) -> Option<&'static str> {
    let (start, end) = match (range.start, range.end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => (u128::from(u32::from(s)), u128::from(u32::from(e))),
        (IpAddr::V6(s), IpAddr::V6(e)) => (u128::from(s), u128::from(e)),
        _ => return Some("mixes address families"),
    };
    if start >> 16 != end >> 16 {
        Some("is too large: its start and end may differ only in the last 16 bits")
    } else if end < start {
        Some("is reversed (the end is before the start)")
    } else {
        None
    }
}
