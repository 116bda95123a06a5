//! dnsmasq configuration for one network (pure), in the spirit of libvirt's
//! `networkxml2confdata`: the same definition always gives the same files.
//!
//! A definition first becomes a [`DnsmasqPlan`]: typed option entries in libvirt's order
//! ([`conf`]), typed hosts-file lines ([`hosts`]), and the raw `<dnsmasq:options>` lines. Only
//! then is it written as text, through [`syntax`], which writes each value so that dnsmasq
//! reads back exactly that value, or refuses it. [`parse_conf`], [`parse_dhcp_hosts`] and
//! [`parse_addn_hosts`] read the files back by dnsmasq's rules.

mod check;
mod conf;
mod dhcp;
pub mod hosts;
mod read;
pub mod syntax;

use std::path::{Path, PathBuf};

pub use conf::{plan, unwritable, DnsmasqPlan};
pub use hosts::{parse_addn_hosts, parse_dhcp_hosts, AddnHost, DhcpHostLine};
pub use read::{parse_conf, parse_conf_fields, Options, ParseError};
pub use syntax::{Entry, Field, Key, RenderError, MAX_LINE_BYTES};

use crate::model::names::file_component;
use crate::model::NetworkDef;

/// Where dnsmasq keeps its files for one network, and which user it runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsmasqPaths {
    pub conf: PathBuf,
    pub pid_file: PathBuf,
    pub lease_file: PathBuf,
    pub hosts_file: PathBuf,
    pub addn_hosts: PathBuf,
    /// `Some(u)` writes `user=u`: dnsmasq drops to that system account instead of its default
    /// (`nobody`). It re-reads the hosts files as that user, so `u` must be able to reach them.
    pub user: Option<String>,
    /// That account's group (`group=`): the hosts files it re-reads on SIGHUP, after dropping
    /// privileges, belong to it (mode 0640).
    pub group: Option<(String, u32)>,
}

impl DnsmasqPaths {
    /// Who may read the hosts files: dnsmasq's group when it drops to one.
    pub fn hosts_access(&self) -> crate::plan::Access {
        match &self.group {
            Some((_, gid)) => crate::plan::Access::Group(*gid),
            None => crate::plan::Access::Private,
        }
    }
}

impl DnsmasqPaths {
    /// The conventional layout: configs and pid in `run`, leases in `state`, each file named
    /// after the network's [`file_component`] (never its raw name). No `user=` line.
    pub fn new(run: &Path, state: &Path, network: &str) -> DnsmasqPaths {
        let enc = file_component(network);
        DnsmasqPaths {
            conf: run.join(format!("{enc}.conf")),
            pid_file: run.join(format!("{enc}.pid")),
            lease_file: state.join(format!("{enc}.leases")),
            hosts_file: run.join(format!("{enc}.hostsfile")),
            addn_hosts: run.join(format!("{enc}.addnhosts")),
            user: None,
            group: None,
        }
    }
}

/// The three files dnsmasq reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsmasqFiles {
    pub conf: String,
    /// `dhcp-hostsfile`: static DHCP hosts, re-read on SIGHUP.
    pub hosts: String,
    /// `addn-hosts`: DNS host records, re-read on SIGHUP.
    pub addn_hosts: String,
}

/// Whether the network needs a dnsmasq at all (libvirt runs one for every network with its
/// own bridge and at least one address, unless DNS is off and there is no DHCP).
pub fn needs_dnsmasq(def: &NetworkDef) -> bool {
    if !def.uses_own_bridge() || def.ips.is_empty() {
        return false;
    }
    let dns_on = def.dns.as_ref().and_then(|d| d.enable) != Some(false);
    let dhcp = def
        .ips
        .iter()
        .any(|ip| !ip.ranges().is_empty() || !ip.hosts().is_empty());
    dns_on || dhcp
}

/// Renders the files for `def`, whose bridge is `bridge`. Fails, naming the field, when a
/// value cannot be written so that dnsmasq reads it back unchanged (a validated definition
/// never fails; a path or user from `paths` may).
pub fn render(
    def: &NetworkDef,
    bridge: &str,
    paths: &DnsmasqPaths,
) -> Result<DnsmasqFiles, RenderError> {
    plan(def, bridge, paths)?.write(&def.name)
}

#[cfg(test)]
mod tests;
