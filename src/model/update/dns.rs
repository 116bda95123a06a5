//! `dns-host`, `dns-txt` and `dns-srv`: records of `<dns>` (libvirt's
//! `virNetworkDefUpdateDNSHost`, `…DNSTxt` and `…DNSSrv`). None of them can be modified,
//! only added or deleted; a delete matches by what the fragment gives.

use super::error::{Reason, UpdateError};
use super::section::{Section, UpdateCommand};
use super::{fragment_error, no_modify, UpdateRequest};
use crate::model::def::NetworkDef;
use crate::model::dns::{DnsDef, DnsHost, DnsSrv, DnsTxt, PartialDnsHost, PartialDnsSrv};
use crate::model::xml::fragment;

/// Longest SRV service name libvirt takes (`DNS_RECORD_LENGTH_SRV`).
const MAX_SRV_SERVICE: usize = 512 - 30;

fn dns_mut(def: &mut NetworkDef) -> &mut DnsDef {
    def.dns.get_or_insert_with(DnsDef::default)
}

/// Drops a `<dns>` left with nothing in it.
fn tidy_dns(def: &mut NetworkDef) {
    if def.dns.as_ref().is_some_and(DnsDef::is_empty) {
        def.dns = None;
    }
}

fn refused(section: Section, field: &'static str, reason: Reason, msg: String) -> UpdateError {
    UpdateError::refused(section, field, reason, msg)
}

/// The one entry a delete removes: none or several is refused.
fn single_match(section: Section, found: &[usize], what: &str) -> Result<usize, UpdateError> {
    match found {
        [k] => Ok(*k),
        [] => Err(refused(
            section,
            "record",
            Reason::NotFound,
            format!("there is no {what} matching the fragment"),
        )),
        _ => Err(refused(
            section,
            "record",
            Reason::Ambiguous,
            format!(
                "{} {what}s match the fragment; give more of the record to pick one",
                found.len()
            ),
        )),
    }
}

/// Add a DNS host (refused when one has the address) or delete the one matching the
/// address or sharing a name.
pub(super) fn update_host(def: &mut NetworkDef, req: &UpdateRequest) -> Result<(), UpdateError> {
    let section = Section::DnsHost;
    if req.command == UpdateCommand::Modify {
        return Err(no_modify(section, "DNS host records"));
    }
    let pattern = fragment::parse_dns_host(&req.xml).map_err(fragment_error(section))?;
    let is_add = req.command.is_add();
    let hosts = def.dns.as_ref().map_or(&[][..], |d| &d.hosts);
    // An add only checks the address: several addresses for one name is a legitimate setup.
    let found: Vec<usize> = (0..hosts.len())
        .filter(|&k| dns_host_matches(&pattern, &hosts[k], is_add))
        .collect();
    if !is_add {
        check_dns_host_pattern(&pattern)?;
        let k = single_match(section, &found, "DNS host record")?;
        dns_mut(def).hosts.remove(k);
        tidy_dns(def);
        return Ok(());
    }
    let host = complete_dns_host(pattern)?;
    if !found.is_empty() {
        let msg = format!("there is already a DNS host record for {}", host.ip);
        return Err(refused(section, "ip", Reason::Duplicate, msg));
    }
    let hosts = &mut dns_mut(def).hosts;
    hosts.insert(req.command.insert_at(hosts.len()), host);
    Ok(())
}

fn dns_host_matches(pattern: &PartialDnsHost, host: &DnsHost, is_add: bool) -> bool {
    let same_ip = pattern.ip == Some(host.ip);
    let shared_name = || pattern.hostnames.iter().any(|n| host.hostnames.contains(n));
    same_ip || (!is_add && shared_name())
}

fn check_dns_host_pattern(pattern: &PartialDnsHost) -> Result<(), UpdateError> {
    if pattern.ip.is_none() && pattern.hostnames.is_empty() {
        let msg = "a DNS host record to delete needs an ip or a <hostname>".to_string();
        return Err(refused(Section::DnsHost, "ip", Reason::Incomplete, msg));
    }
    Ok(())
}

fn complete_dns_host(pattern: PartialDnsHost) -> Result<DnsHost, UpdateError> {
    let Some(ip) = pattern.ip else {
        let msg = "a DNS host record needs an ip address".to_string();
        return Err(refused(Section::DnsHost, "ip", Reason::Incomplete, msg));
    };
    if pattern.hostnames.is_empty() {
        let msg = "a DNS host record needs at least one <hostname>".to_string();
        return Err(refused(
            Section::DnsHost,
            "hostname",
            Reason::Incomplete,
            msg,
        ));
    }
    Ok(DnsHost {
        ip,
        hostnames: pattern.hostnames,
    })
}

/// Add or delete a TXT record, matched by name.
pub(super) fn update_txt(def: &mut NetworkDef, req: &UpdateRequest) -> Result<(), UpdateError> {
    let section = Section::DnsTxt;
    if req.command == UpdateCommand::Modify {
        return Err(no_modify(section, "DNS TXT records"));
    }
    let txt = fragment::parse_dns_txt(&req.xml).map_err(fragment_error(section))?;
    let shown = txt.name.escape_debug().to_string();
    let refuse = |field, reason, msg: String| Err(refused(section, field, reason, msg));
    if txt.name.contains([' ', ',']) {
        let msg = format!("the TXT record name '{shown}' contains a space or a comma");
        return refuse("name", Reason::Invalid, msg);
    }
    let txts = def.dns.as_ref().map_or(&[][..], |d| &d.txts);
    let found = txts.iter().position(|t| t.name == txt.name);
    match (req.command.is_add(), found, txt.value) {
        (true, _, None) => refuse(
            "value",
            Reason::Incomplete,
            format!("the TXT record '{shown}' needs a value"),
        ),
        (true, Some(_), _) => refuse(
            "name",
            Reason::Duplicate,
            format!("there is already a DNS TXT record named '{shown}'"),
        ),
        (false, None, _) => refuse(
            "name",
            Reason::NotFound,
            format!("there is no DNS TXT record named '{shown}'"),
        ),
        (false, Some(k), _) => {
            dns_mut(def).txts.remove(k);
            tidy_dns(def);
            Ok(())
        }
        (true, None, Some(value)) => {
            let txts = &mut dns_mut(def).txts;
            let new = DnsTxt {
                name: txt.name,
                value,
            };
            txts.insert(req.command.insert_at(txts.len()), new);
            Ok(())
        }
    }
}

/// Add an SRV record (refused when one matches every field given) or delete the one that
/// does.
pub(super) fn update_srv(def: &mut NetworkDef, req: &UpdateRequest) -> Result<(), UpdateError> {
    let section = Section::DnsSrv;
    if req.command == UpdateCommand::Modify {
        return Err(no_modify(section, "DNS SRV records"));
    }
    let srv = fragment::parse_dns_srv(&req.xml).map_err(fragment_error(section))?;
    let is_add = req.command.is_add();
    check_srv(&srv, is_add)?;
    let srvs = def.dns.as_ref().map_or(&[][..], |d| &d.srvs);
    let found: Vec<usize> = (0..srvs.len())
        .filter(|&k| srv_matches(&srv, &srvs[k]))
        .collect();
    if !is_add {
        let k = single_match(section, &found, "DNS SRV record")?;
        dns_mut(def).srvs.remove(k);
        tidy_dns(def);
        return Ok(());
    }
    if !found.is_empty() {
        let msg = "there is already a DNS SRV record matching every field given".to_string();
        return Err(refused(section, "service", Reason::Duplicate, msg));
    }
    // check_srv made sure an add has both service and protocol.
    if let Some(new) = srv.complete() {
        let srvs = &mut dns_mut(def).srvs;
        srvs.insert(req.command.insert_at(srvs.len()), new);
    }
    Ok(())
}

/// Every attribute the fragment gives (of domain, service, protocol, target) is equal.
fn srv_matches(pattern: &PartialDnsSrv, srv: &DnsSrv) -> bool {
    let same = |given: &Option<String>, have: Option<&str>| {
        given.as_deref().is_none_or(|g| Some(g) == have)
    };
    same(&pattern.domain, srv.domain.as_deref())
        && same(&pattern.service, Some(&srv.service))
        && same(&pattern.protocol, Some(&srv.protocol))
        && same(&pattern.target, srv.target.as_deref())
}

/// libvirt's checks of an SRV fragment (`virNetworkDNSSrvDefParseXML`): service and protocol
/// (needed for an add) of the characters libvirt allows, the service not too long.
fn check_srv(srv: &PartialDnsSrv, is_add: bool) -> Result<(), UpdateError> {
    let fields = [
        ("service", srv.service.as_deref(), "_-+/*"),
        ("protocol", srv.protocol.as_deref(), "-+/"),
    ];
    for (field, value, extra) in fields {
        let problem = match value {
            None if is_add => Some((Reason::Incomplete, format!("an SRV record needs a {field}"))),
            None => None,
            Some(v) => srv_name_problem(field, v, extra).map(|p| (Reason::Invalid, p)),
        };
        if let Some((reason, msg)) = problem {
            return Err(refused(Section::DnsSrv, field, reason, msg));
        }
    }
    check_srv_target(srv)
}

/// An SRV service or protocol with a character libvirt refuses (it allows letters, digits
/// and `extra`), or a service over libvirt's length limit.
fn srv_name_problem(field: &str, value: &str, extra: &str) -> Option<String> {
    if field == "service" && value.len() > MAX_SRV_SERVICE {
        return Some(format!(
            "the service name is longer than {MAX_SRV_SERVICE} bytes"
        ));
    }
    let bad = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || extra.contains(*c)))?;
    Some(format!(
        "invalid character '{}' in {field} '{}' (letters, digits and {extra} only)",
        bad.escape_debug(),
        value.escape_debug()
    ))
}

/// port, priority and weight need a target; the port is 1-65535.
fn check_srv_target(srv: &PartialDnsSrv) -> Result<(), UpdateError> {
    let given = [
        ("port", srv.port.is_some()),
        ("priority", srv.priority.is_some()),
        ("weight", srv.weight.is_some()),
    ];
    if srv.target.is_none() {
        if let Some((field, _)) = given.iter().find(|(_, g)| *g) {
            let msg = format!("the SRV {field} attribute is not permitted without a target");
            return Err(refused(Section::DnsSrv, field, Reason::Invalid, msg));
        }
    }
    if srv.port == Some(0) {
        let msg = "0 is not an SRV port (1-65535)".to_string();
        return Err(refused(Section::DnsSrv, "port", Reason::Invalid, msg));
    }
    Ok(())
}
