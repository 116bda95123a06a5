//! `<domain>` and `<dns>`: names and record values that dnsmasq will read, by dnsmasq's rules.

use super::text::{
    check_dnsmasq_value, check_hostname, describe, idna_problem, MAX_DNS_LABEL, MAX_DNS_NAME,
};
use super::{Problem, Problems};
use crate::model::def::NetworkDef;
use crate::model::dns::{DnsDef, DnsSrv};

pub(super) fn check(def: &NetworkDef, out: &mut Problems) {
    if let Some(domain) = &def.domain {
        check_hostname(out, "domain.name", &domain.name);
    }
    let Some(dns) = &def.dns else { return };
    if dns.enable == Some(false) && dns.has_records() {
        out.add(
            "dns",
            "DNS is disabled (enable='no') but forwarders or records are given",
        );
    }
    check_forwarders(dns, out);
    for (i, txt) in dns.txts.iter().enumerate() {
        check_hostname(out, &format!("dns.txt[{i}].name"), &txt.name);
        check_dnsmasq_value(out, &format!("dns.txt[{i}].value"), &txt.value);
    }
    for (i, srv) in dns.srvs.iter().enumerate() {
        check_srv(srv, &format!("dns.srv[{i}]"), out);
    }
    check_hosts(dns, out);
}

/// Everything dnsmasq's writer cannot write even so (a line longer than dnsmasq reads, for
/// one), unless a problem was already reported at or around the same path. The writer is the
/// authority on what fits; asking it keeps validation and rendering from drifting apart.
pub(super) fn check_writable(def: &NetworkDef, out: &mut Problems) {
    let related = |a: &str, b: &str| {
        a == b || a.starts_with(&format!("{b}.")) || b.starts_with(&format!("{a}."))
    };
    for e in crate::plan::dnsmasq::unwritable(def) {
        if !out.0.iter().any(|p: &Problem| related(&p.path, &e.path)) {
            out.add(e.path, e.message);
        }
    }
}

fn check_hosts(dns: &DnsDef, out: &mut Problems) {
    for (i, host) in dns.hosts.iter().enumerate() {
        if host.hostnames.is_empty() {
            out.add(
                format!("dns.host[{i}]"),
                "a DNS host needs at least one hostname",
            );
        }
        for (j, name) in host.hostnames.iter().enumerate() {
            check_hostname(out, &format!("dns.host[{i}].hostname[{j}]"), name);
        }
    }
}

fn check_forwarders(dns: &DnsDef, out: &mut Problems) {
    for (i, fwd) in dns.forwarders.iter().enumerate() {
        if let Some(domain) = &fwd.domain {
            check_hostname(out, &format!("dns.forwarder[{i}].domain"), domain);
        }
        if fwd.domain.is_none() && fwd.addr.is_none() {
            out.add(
                format!("dns.forwarder[{i}]"),
                "a forwarder needs an addr or a domain",
            );
        }
    }
}

/// Characters libvirt accepts in an SRV service name.
fn service_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '/' | '*')
}

fn check_srv(srv: &DnsSrv, path: &str, out: &mut Problems) {
    if srv.service.is_empty() {
        out.add(format!("{path}.service"), "the service name is empty");
    } else if srv.service.len() >= MAX_DNS_LABEL {
        out.add(
            format!("{path}.service"),
            format!(
                "the service name is longer than {} characters (a DNS label with its '_')",
                MAX_DNS_LABEL - 1
            ),
        );
    } else if let Some(c) = srv.service.chars().find(|c| !service_char(*c)) {
        out.add(
            format!("{path}.service"),
            format!(
                "'{}' contains {}; use letters, digits and _ - + / * only",
                srv.service.escape_debug(),
                describe(c)
            ),
        );
    } else if let Some(problem) = idna_problem(&srv.service, &format!("_{}", srv.service)) {
        out.add(format!("{path}.service"), problem);
    }
    if srv.protocol != "tcp" && srv.protocol != "udp" {
        out.add(
            format!("{path}.protocol"),
            format!(
                "'{}' is not a protocol (tcp or udp)",
                srv.protocol.escape_debug()
            ),
        );
    }
    if let Some(domain) = &srv.domain {
        check_hostname(out, &format!("{path}.domain"), domain);
        let owner = srv.service.len() + srv.protocol.len() + domain.len() + 4;
        if owner > MAX_DNS_NAME {
            out.add(
                format!("{path}.domain"),
                format!("the record's name _service._protocol.domain is longer than {MAX_DNS_NAME} characters"),
            );
        }
    }
    match &srv.target {
        // "." means "no such service here" (RFC 2782); libvirt then writes no target.
        Some(target) if target == "." => {}
        Some(target) => check_hostname(out, &format!("{path}.target"), target),
        None => {
            let given = [
                ("port", srv.port.is_some()),
                ("priority", srv.priority.is_some()),
                ("weight", srv.weight.is_some()),
            ];
            for (field, _) in given.iter().filter(|(_, g)| *g) {
                out.add(format!("{path}.{field}"), format!("{field} needs a target"));
            }
        }
    }
    if srv.port == Some(0) {
        out.add(format!("{path}.port"), "0 is not a port (1-65535)");
    }
}
