//! `<dns>`: forwarders, host records, SRV and TXT records served by dnsmasq.

use std::net::IpAddr;

use super::extra::Extra;

/// `<dns enable forwardPlainNames>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsDef {
    /// `enable='no'` turns dnsmasq's DNS off (DHCP only).
    pub enable: Option<bool>,
    /// `forwardPlainNames`: forward unqualified names upstream.
    pub forward_plain_names: Option<bool>,
    /// `<forwarder>`s.
    pub forwarders: Vec<DnsForwarder>,
    /// `<txt>` records.
    pub txts: Vec<DnsTxt>,
    /// `<srv>` records.
    pub srvs: Vec<DnsSrv>,
    /// `<host>` records.
    pub hosts: Vec<DnsHost>,
    /// Unknown attributes and children.
    pub extra: Extra,
}

impl DnsDef {
    /// True when there is nothing to write (libvirt then omits `<dns>`).
    pub fn is_empty(&self) -> bool {
        self.enable.is_none()
            && self.forward_plain_names.is_none()
            && self.forwarders.is_empty()
            && self.txts.is_empty()
            && self.srvs.is_empty()
            && self.hosts.is_empty()
            && self.extra.is_empty()
    }

    /// True when any record or forwarder is present.
    pub fn has_records(&self) -> bool {
        !(self.forwarders.is_empty()
            && self.txts.is_empty()
            && self.srvs.is_empty()
            && self.hosts.is_empty())
    }
}

/// `<forwarder domain addr>`: at least one of the two.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsForwarder {
    /// Only forward queries for this domain.
    pub domain: Option<String>,
    /// Upstream server; with a domain but no address, the domain is resolved locally only.
    pub addr: Option<IpAddr>,
}

/// `<txt name value>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsTxt {
    /// Record name.
    pub name: String,
    /// Record text. As in libvirt, each ',' starts another string of the record.
    pub value: String,
}

/// `<srv service protocol domain target port priority weight>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsSrv {
    /// Service name, e.g. `ldap`.
    pub service: String,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Domain of the record.
    pub domain: Option<String>,
    /// Target host.
    pub target: Option<String>,
    /// Port (needs a target).
    pub port: Option<u16>,
    /// Priority (needs a target).
    pub priority: Option<u16>,
    /// Weight (needs a target).
    pub weight: Option<u16>,
}

/// `<host ip><hostname>…</hostname></host>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsHost {
    /// Address the names resolve to.
    pub ip: IpAddr,
    /// One or more names.
    pub hostnames: Vec<String>,
}

/// A `<host>` of `<dns>` as written, before the rules of a whole record apply: `net-update
/// delete` matches records by whatever it gives (the address, or names).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartialDnsHost {
    /// `ip`, if given.
    pub ip: Option<IpAddr>,
    /// The `<hostname>`s given, possibly none.
    pub hostnames: Vec<String>,
}

/// A `<txt>` as written: the name is always needed, the value only for a whole record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartialDnsTxt {
    /// `name`.
    pub name: String,
    /// `value`, if given.
    pub value: Option<String>,
}

/// An `<srv>` as written: every attribute may be missing in a pattern to match records by.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartialDnsSrv {
    /// `service`, if given.
    pub service: Option<String>,
    /// `protocol`, if given.
    pub protocol: Option<String>,
    /// `domain`, if given.
    pub domain: Option<String>,
    /// `target`, if given.
    pub target: Option<String>,
    /// `port`, if given.
    pub port: Option<u16>,
    /// `priority`, if given.
    pub priority: Option<u16>,
    /// `weight`, if given.
    pub weight: Option<u16>,
}

impl PartialDnsSrv {
    /// The whole record, when both `service` and `protocol` are given.
    pub fn complete(self) -> Option<DnsSrv> {
        Some(DnsSrv {
            service: self.service?,
            protocol: self.protocol?,
            domain: self.domain,
            target: self.target,
            port: self.port,
            priority: self.priority,
            weight: self.weight,
        })
    }
}
