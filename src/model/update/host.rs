//! `ip-dhcp-host`: static hosts of one `<ip>`'s `<dhcp>` (libvirt's
//! `virNetworkDefUpdateIPDHCPHost`, with the checks of `virNetworkDHCPHostDefParseXML`).

use super::dhcp::{check_single_dhcp, dhcp_mut, ip_label, target_ip, tidy_dhcp};
use super::error::{Reason, UpdateError};
use super::section::{Section, UpdateCommand};
use super::{fragment_error, UpdateRequest};
use crate::model::def::NetworkDef;
use crate::model::ip::{DhcpHost, IpDef};
use crate::model::xml::fragment;

/// Add (refused when a host shares the mac, name or ip), modify (the first host sharing
/// one of them) or delete (the first host matching all given) a static host.
pub(super) fn update_host(def: &mut NetworkDef, req: &UpdateRequest) -> Result<(), UpdateError> {
    let section = Section::IpDhcpHost;
    let host = fragment::parse_dhcp_host(&req.xml).map_err(fragment_error(section))?;
    let i = target_ip(def, section, req.parent_index)?;
    let partial = req.command == UpdateCommand::Delete;
    check_host(&def.ips[i], &host, partial)?;
    match req.command {
        UpdateCommand::Modify => modify_host(def, i, host),
        UpdateCommand::Delete => delete_host(def, i, &host),
        add => {
            check_single_dhcp(def, i, section)?;
            add_host(def, i, host, add)
        }
    }
}

/// `<host mac='…' name='…' ip='…'/>` for messages, "unknown" where not given.
pub(super) fn describe_host(host: &DhcpHost) -> String {
    let unknown = || "unknown".to_string();
    format!(
        "<host mac='{}' name='{}' ip='{}'/>",
        host.mac_text().unwrap_or_else(unknown),
        host.name
            .as_deref()
            .map_or_else(unknown, |n| n.escape_debug().to_string()),
        host.ip.map_or_else(unknown, |ip| ip.to_string())
    )
}

/// Which of the fragment's mac, name and ip an existing host shares, in libvirt's order of
/// checking for an add (mac, name, ip); `None` when it shares none.
fn shared_field(new: &DhcpHost, old: &DhcpHost) -> Option<&'static str> {
    if new.mac.is_some() && new.mac == old.mac {
        Some("mac")
    } else if new.name.is_some() && new.name == old.name {
        Some("name")
    } else if new.ip.is_some() && new.ip == old.ip {
        Some("ip")
    } else {
        None
    }
}

fn add_host(
    def: &mut NetworkDef,
    i: usize,
    host: DhcpHost,
    command: UpdateCommand,
) -> Result<(), UpdateError> {
    let existing = def.ips[i]
        .hosts()
        .iter()
        .find_map(|old| shared_field(&host, old).map(|f| (f, old)));
    if let Some((field, old)) = existing {
        let message = format!(
            "{} already has a static host with this {field}: {}",
            ip_label(def, i),
            describe_host(old)
        );
        return Err(UpdateError::refused(
            Section::IpDhcpHost,
            field,
            Reason::Duplicate,
            message,
        ));
    }
    let hosts = &mut dhcp_mut(def, i).hosts;
    hosts.insert(command.insert_at(hosts.len()), host);
    Ok(())
}

/// libvirt replaces the first host that shares the mac, the ip or the name.
fn modify_host(def: &mut NetworkDef, i: usize, host: DhcpHost) -> Result<(), UpdateError> {
    let found = def.ips[i]
        .hosts()
        .iter()
        .position(|old| shared_field(&host, old).is_some());
    let Some(k) = found else {
        let message = format!(
            "{} has no static host to modify matching {}",
            ip_label(def, i),
            describe_host(&host)
        );
        return Err(UpdateError::refused(
            Section::IpDhcpHost,
            "host",
            Reason::NotFound,
            message,
        ));
    };
    dhcp_mut(def, i).hosts[k] = host;
    Ok(())
}

/// libvirt deletes the first host matching every attribute the fragment gives (a host
/// without a MAC matches any mac).
fn delete_host(def: &mut NetworkDef, i: usize, pattern: &DhcpHost) -> Result<(), UpdateError> {
    let matches = |old: &DhcpHost| {
        (pattern.mac.is_none() || old.mac.is_none() || pattern.mac == old.mac)
            && (pattern.name.is_none() || pattern.name == old.name)
            && (pattern.ip.is_none() || pattern.ip == old.ip)
    };
    let Some(k) = def.ips[i].hosts().iter().position(matches) else {
        let message = format!(
            "{} has no static host matching {}",
            ip_label(def, i),
            describe_host(pattern)
        );
        return Err(UpdateError::refused(
            Section::IpDhcpHost,
            "host",
            Reason::NotFound,
            message,
        ));
    };
    dhcp_mut(def, i).hosts.remove(k);
    tidy_dhcp(def, i);
    Ok(())
}

/// libvirt's checks of a static host fragment for `<ip>` `ip`: the values given, then what
/// the command needs. A delete (`partial`) needs one of mac, name and ip; an add or modify
/// needs an ip of the `<ip>`'s family and a mac or name (IPv4) or an id or name (IPv6).
pub(super) fn check_host(ip: &IpDef, host: &DhcpHost, partial: bool) -> Result<(), UpdateError> {
    check_host_values(ip, host)?;
    let refuse = |field, reason, message: &str| {
        Err(UpdateError::refused(
            Section::IpDhcpHost,
            field,
            reason,
            message,
        ))
    };
    if partial {
        if host.mac.is_none() && host.name.is_none() && host.ip.is_none() {
            let msg = "a static host to delete needs at least one of name, mac or ip";
            return refuse("host", Reason::Incomplete, msg);
        }
        return Ok(());
    }
    let v6 = ip.address.is_ipv6();
    if v6 && host.id.is_none() && host.name.is_none() {
        let msg = "a static host of an IPv6 <ip> needs an id or a name";
        return refuse("name", Reason::Incomplete, msg);
    }
    if !v6 && host.mac.is_none() && host.name.is_none() {
        let msg = "a static host of an IPv4 <ip> needs a mac or a name";
        return refuse("mac", Reason::Incomplete, msg);
    }
    match host.ip {
        None => refuse(
            "ip",
            Reason::Incomplete,
            "a static host needs an ip address",
        ),
        Some(addr) if addr.is_ipv6() != v6 => refuse(
            "ip",
            Reason::Invalid,
            &format!(
                "{addr} is not of the family of the <ip> {} the host goes in",
                ip.address
            ),
        ),
        Some(_) => Ok(()),
    }
}

/// The values libvirt refuses whatever the command: a MAC for an IPv6 `<ip>` or a multicast
/// one, an id with other than hex digits and ':', a name not starting with a letter or digit.
fn check_host_values(ip: &IpDef, host: &DhcpHost) -> Result<(), UpdateError> {
    let invalid = |field, message: String| {
        Err(UpdateError::refused(
            Section::IpDhcpHost,
            field,
            Reason::Invalid,
            message,
        ))
    };
    if let Some(mac) = host.mac {
        if ip.address.is_ipv6() {
            return invalid("mac", format!("a MAC address ({mac}) cannot be given for a static host of an IPv6 <ip>; IPv6 hosts are matched by id or name"));
        }
        if mac.is_multicast() {
            return invalid(
                "mac",
                format!("expected a unicast MAC address, found multicast {mac}"),
            );
        }
    }
    if let Some(id) = &host.id {
        if let Some(c) = id.chars().find(|c| !(c.is_ascii_hexdigit() || *c == ':')) {
            return invalid(
                "id",
                format!(
                    "invalid character '{}' in id '{}'",
                    c.escape_debug(),
                    id.escape_debug()
                ),
            );
        }
    }
    match host.name.as_deref() {
        Some(name) if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) => invalid(
            "name",
            format!(
                "cannot use host name '{}': it must start with a letter or digit",
                name.escape_debug()
            ),
        ),
        _ => Ok(()),
    }
}
