//! What a change of a running network's definition takes (pure): nothing, a live update that
//! leaves the bridge and the guests' links alone (rewrite dnsmasq's files and reload or restart
//! dnsmasq; replace the network's firewall chains), or a restart of the bridge.
//!
//! The classification compares what each definition makes on the host, not the XML: the steps
//! a start would take for the bridge, its addresses, routes and sysctls; the network's firewall
//! entry; the three dnsmasq files. A title or a description changes nothing; a DHCP host
//! changes one hosts file (a reload); an address changes the bridge (a restart).

use std::path::PathBuf;

use super::dnsmasq::{self, DnsmasqPaths};
use super::firewall::FirewallNet;
use super::start::{firewall_net, plan_start, Observed, PlanError};
use super::steps::{Access, Plan, Step};
use crate::model::NetworkDef;
use crate::state::HostState;

/// What a definition change takes on a running network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing on the host differs (title, description, metadata…).
    Nothing,
    /// Applied to the running network; the bridge and the guests' links stay.
    Live(Plan),
    /// The bridge (or its addresses, routes, sysctls) must be made again, for these reasons.
    Restart(Vec<String>),
}

/// What a start makes of `def` on an empty host: the bridge-level steps (no firewall, no
/// dnsmasq, no files).
fn bridge_steps(def: &NetworkDef, paths: &DnsmasqPaths) -> Result<Vec<Step>, PlanError> {
    let host = HostState::default();
    let obs = Observed {
        host: &host,
        firewall: None,
        other_firewall: &[],
        dnsmasq_running: true,
        ipv4_forward: Some(false),
        ipv6_forward: Some(false),
        own_bridge: None,
    };
    let plan = plan_start(def, &obs, paths)?;
    Ok(plan
        .steps
        .into_iter()
        .filter(|s| !matches!(s, Step::AddFirewall { .. }))
        .collect())
}

/// Classifies the change of running network `old` into `new` (same name) and, when it can be
/// applied live, plans it. `paths` are the running dnsmasq's.
pub fn classify(
    old: &NetworkDef,
    new: &NetworkDef,
    paths: &DnsmasqPaths,
) -> Result<Change, PlanError> {
    let (before, after) = (bridge_steps(old, paths)?, bridge_steps(new, paths)?);
    if before != after {
        let mut reasons: Vec<String> = after
            .iter()
            .filter(|s| !before.contains(s))
            .map(|s| format!("needs: {s}"))
            .collect();
        reasons.extend(
            before
                .iter()
                .filter(|s| !after.contains(s))
                .map(|s| format!("no longer: {s}")),
        );
        return Ok(Change::Restart(reasons));
    }
    let mut steps = Vec::new();
    let bridge = new.bridge_name().unwrap_or_default();
    let fw = |d: &NetworkDef| firewall_net(d, d.bridge_name().unwrap_or_default());
    match (fw(old), fw(new)) {
        (Some(a), Some(b)) if a != b => steps.push(Step::ReplaceFirewall { old: a, new: b }),
        (None, Some(b)) => steps.push(Step::AddFirewall {
            net: b,
            first: false,
            shared_ready: false,
        }),
        (Some(a), None) => steps.push(Step::RemoveFirewall {
            net: a,
            delete_table: false,
        }),
        _ => {}
    }
    steps.extend(dnsmasq_change(old, new, bridge, paths)?);
    Ok(if steps.is_empty() {
        Change::Nothing
    } else {
        Change::Live(Plan {
            network: new.name.clone(),
            steps,
            notes: Vec::new(),
        })
    })
}

/// The steps that take dnsmasq from serving `old` to serving `new`: its files rewritten, then
/// a reload (SIGHUP re-reads the hosts files) or, when the configuration itself changed, a
/// restart; a start or a stop when one of them needs no dnsmasq.
fn dnsmasq_change(
    old: &NetworkDef,
    new: &NetworkDef,
    bridge: &str,
    paths: &DnsmasqPaths,
) -> Result<Vec<Step>, PlanError> {
    let files = |d: &NetworkDef| -> Result<Option<dnsmasq::DnsmasqFiles>, PlanError> {
        if !dnsmasq::needs_dnsmasq(d) {
            return Ok(None);
        }
        Ok(Some(dnsmasq::render(d, bridge, paths)?))
    };
    let (before, after) = (files(old)?, files(new)?);
    if before == after {
        return Ok(Vec::new());
    }
    let (Some(before), Some(after)) = (&before, &after) else {
        // A dnsmasq to start or stop: what a start or stop of the network does for it.
        return Ok(start_or_stop(before.is_some(), new, paths, after.clone()));
    };
    let hosts = paths.hosts_access();
    let change = |path: &PathBuf, new: &String, old: &String, access: Access| FileChange {
        path: path.clone(),
        contents: new.clone(),
        previous: old.clone(),
        access,
    };
    let files = vec![
        change(&paths.hosts_file, &after.hosts, &before.hosts, hosts),
        change(
            &paths.addn_hosts,
            &after.addn_hosts,
            &before.addn_hosts,
            hosts,
        ),
        change(&paths.conf, &after.conf, &before.conf, Access::Private),
    ];
    Ok(vec![Step::UpdateDnsmasq {
        network: new.name.clone(),
        conf: paths.conf.clone(),
        pid_file: paths.pid_file.clone(),
        files,
        restart: before.conf != after.conf,
    }])
}

fn start_or_stop(
    running: bool,
    new: &NetworkDef,
    paths: &DnsmasqPaths,
    files: Option<dnsmasq::DnsmasqFiles>,
) -> Vec<Step> {
    if running {
        return vec![Step::StopDnsmasq {
            network: new.name.clone(),
            pid_file: paths.pid_file.clone(),
        }];
    }
    let Some(files) = files else {
        return Vec::new();
    };
    let hosts = paths.hosts_access();
    let write = |path: &PathBuf, contents: String, access| Step::WriteFile {
        path: path.clone(),
        contents,
        access,
    };
    vec![
        write(&paths.hosts_file, files.hosts, hosts),
        write(&paths.addn_hosts, files.addn_hosts, hosts),
        write(&paths.conf, files.conf, Access::Private),
        Step::StartDnsmasq {
            network: new.name.clone(),
            conf: paths.conf.clone(),
            pid_file: paths.pid_file.clone(),
            lease_file: Some(paths.lease_file.clone()),
        },
    ]
}

/// One file a live change rewrites, with what it held before (its undo).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileChange {
    pub path: PathBuf,
    pub contents: String,
    pub previous: String,
    pub access: Access,
}

impl FileChange {
    /// The same change the other way round.
    pub fn reversed(&self) -> FileChange {
        FileChange {
            contents: self.previous.clone(),
            previous: self.contents.clone(),
            ..self.clone()
        }
    }
}

/// The firewall entry a running network's record holds, replaced by `new` (the record of a
/// live change).
pub fn with_firewall(plan: &Plan, new: Option<&FirewallNet>) -> Plan {
    let mut out = plan.clone();
    out.steps.retain(|s| !matches!(s, Step::AddFirewall { .. }));
    if let Some(net) = new {
        out.steps.push(Step::AddFirewall {
            net: net.clone(),
            first: false,
            shared_ready: false,
        });
    }
    out
}

#[cfg(test)]
mod tests;
