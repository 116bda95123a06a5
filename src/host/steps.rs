//! How a plan step is carried out, once, for every host: the decisions (delete only the bridge
//! we made, by its index; treat "already gone" as done on removal; repair a map element that
//! points elsewhere; never pull a file from under a running dnsmasq; restart or reload dnsmasq)
//! are written here over the [`Kernel`] primitives, which the real host does on the kernel and
//! the fake host in memory. So the fake carries out the very same logic the real host does.

use std::future::Future;
use std::net::IpAddr;
use std::path::Path;
use std::sync::MutexGuard;

use ipnet::IpNet;
use serde_json::Value;

use super::apply::Outcome;
use super::error::HostError;
use super::netlink::BridgeSpec;
use crate::plan::bandwidth::Shaping;
use crate::plan::change::FileChange;
use crate::plan::firewall::{self, FirewallNet, ObservedTable};
use crate::plan::ports::PortRef;
use crate::plan::Step;
use crate::state::{LinkInfo, LinkKind};
use crate::store;

/// The primitive operations a step is made of. Every method is one request to the kernel or
/// one tool run; none decides anything.
pub trait Kernel: Sync {
    fn link_by_name(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<LinkInfo>, HostError>> + Send;
    fn link_by_index(
        &self,
        ifindex: u32,
    ) -> impl Future<Output = Result<Option<LinkInfo>, HostError>> + Send;
    /// Creates the bridge and returns its interface index.
    fn create_bridge(
        &self,
        spec: &BridgeSpec,
    ) -> impl Future<Output = Result<u32, HostError>> + Send;
    fn delete_link_index(
        &self,
        ifindex: u32,
        name: &str,
    ) -> impl Future<Output = Result<(), HostError>> + Send;
    fn add_addr(
        &self,
        dev: &str,
        addr: IpNet,
    ) -> impl Future<Output = Result<(), HostError>> + Send;
    fn del_addr(
        &self,
        dev: &str,
        addr: IpNet,
    ) -> impl Future<Output = Result<(), HostError>> + Send;
    fn set_up(&self, dev: &str) -> impl Future<Output = Result<(), HostError>> + Send;
    fn set_down(&self, dev: &str) -> impl Future<Output = Result<(), HostError>> + Send;
    fn set_mtu(&self, dev: &str, mtu: u32) -> impl Future<Output = Result<(), HostError>> + Send;
    /// Enslaves the link with index `ifindex` (`name` is for messages) to the link with index
    /// `master`: by index, so a link that took the name meanwhile is never touched.
    fn set_master_index(
        &self,
        ifindex: u32,
        name: &str,
        master: u32,
    ) -> impl Future<Output = Result<(), HostError>> + Send;
    /// Enslaves `port` to `bridge`.
    fn set_master(
        &self,
        port: &str,
        bridge: &str,
    ) -> impl Future<Output = Result<(), HostError>> + Send;
    fn add_route(
        &self,
        dest: IpNet,
        gateway: IpAddr,
        dev: &str,
    ) -> impl Future<Output = Result<(), HostError>> + Send;
    fn del_route(
        &self,
        dest: IpNet,
        gateway: IpAddr,
        dev: &str,
    ) -> impl Future<Output = Result<(), HostError>> + Send;
    fn write_sysctl(&self, key: &str, value: &str) -> Result<(), HostError>;
    fn shape(&self, dev: &str, shaping: &Shaping) -> Result<(), HostError>;
    /// Removes any shaping (nothing to remove is fine).
    fn unshape(&self, dev: &str);
    /// Loads one `{"nftables": […]}` transaction; the tool's words on failure.
    fn nft_load(&self, doc: &Value) -> Result<(), String>;
    /// Loads a text script (records of the first release only).
    fn nft_load_script(&self, script: &str) -> Result<(), String>;
    /// Our table as listed; `None` when it does not exist.
    fn nft_list(&self) -> Result<Option<ObservedTable>, String>;
    /// Starts dnsmasq with `conf`; it has read its configuration and bound its sockets when
    /// this returns.
    fn dnsmasq_start(&self, conf: &Path, pid_file: &Path) -> Result<(), String>;
    /// The running dnsmasq serving `conf`.
    fn dnsmasq_running(&self, pid_file: &Path, conf: &Path) -> Option<i32>;
    /// Asks dnsmasq `pid` to re-read its hosts files.
    fn dnsmasq_reload(&self, pid: i32) -> Result<(), String>;
    /// Asks the dnsmasq serving `conf` to end and forgets its pid file; returns its pid.
    fn dnsmasq_signal_stop(&self, pid_file: &Path, conf: &Path) -> Result<Option<i32>, String>;
    /// Waits (briefly, then forcibly) until `pids` are gone.
    fn dnsmasq_wait_gone(&self, pids: &[i32]);
    /// The running dnsmasq that reads `path`, if any.
    fn dnsmasq_reader_of(&self, path: &Path) -> Option<i32>;
    /// dnsmasq processes told to stop and not yet waited for.
    fn stopping(&self) -> MutexGuard<'_, Stopping>;
}

/// The dnsmasq processes the steps so far told to stop, and the configurations they served.
#[derive(Debug, Default)]
pub struct Stopping {
    pub pids: Vec<i32>,
    /// The configurations whose dnsmasq was told to stop (whether one ran was settled then: by
    /// its pid file, else by a look through every process). A file of one of these is removed
    /// without looking again, since no other dnsmasq can have started on it while the store
    /// lock is held.
    pub confs: Vec<std::path::PathBuf>,
}

/// Carries out one step on `k`.
pub async fn run_step<K: Kernel>(k: &K, step: &Step) -> Result<Outcome, HostError> {
    match step {
        Step::CheckLink { name, want_bridge } => check_link(k, name, *want_bridge).await,
        Step::CreateBridge(b) => {
            let ifindex = k.create_bridge(b).await?;
            return Ok(Outcome::CreatedLink { ifindex });
        }
        Step::DeleteLink { name, ifindex } => delete_own_link(k, name, *ifindex).await,
        Step::SetSysctl { key, value, .. } => k.write_sysctl(key, value),
        Step::AddAddress { dev, addr } => k.add_addr(dev, *addr).await,
        Step::DelAddress { dev, addr } => gone_ok(k.del_addr(dev, *addr).await),
        Step::LinkUp { dev } => k.set_up(dev).await,
        Step::SetMtu { dev, mtu, .. } => k.set_mtu(dev, *mtu).await,
        Step::ShapeBridge { dev, shaping } => k.shape(dev, shaping),
        Step::UnshapeBridge { dev } => {
            k.unshape(dev);
            Ok(())
        }
        Step::LinkDown { dev } => gone_ok(k.set_down(dev).await),
        Step::AddRoute { dest, gateway, dev } => k.add_route(*dest, *gateway, dev).await,
        Step::DelRoute { dest, gateway, dev } => gone_ok(k.del_route(*dest, *gateway, dev).await),
        Step::AddFirewall {
            net, shared_ready, ..
        } => add_firewall(k, step, net, *shared_ready),
        Step::RemoveFirewall { net, delete_table } => k
            .nft_load(&firewall::remove_network(net, *delete_table))
            .map_err(|e| other(step, e)),
        Step::RemoveLegacyFirewall { network } => remove_legacy(k, step, network),
        Step::LoadFirewall { script, .. } => k.nft_load_script(script).map_err(|e| other(step, e)),
        Step::WriteFile {
            path,
            contents,
            access,
        } => store::write_atomic_as(path, contents.as_bytes(), *access).map_err(|e| other(step, e)),
        Step::RemoveFile { path } => remove_file(k, step, path),
        Step::StartDnsmasq {
            conf,
            pid_file,
            lease_file,
            ..
        } => {
            if let Some(leases) = lease_file {
                store::create_private(leases).map_err(|e| other(step, e))?;
            }
            k.dnsmasq_start(conf, pid_file).map_err(|e| other(step, e))
        }
        Step::RememberPorts { path, ports } => {
            let json = serde_json::to_string_pretty(ports).expect("ports serialize");
            store::write_atomic(path, json.as_bytes()).map_err(|e| other(step, e))
        }
        Step::AttachPorts { bridge, ports } => attach_ports(k, bridge, ports).await,
        Step::MovePort {
            port,
            from,
            from_index,
            to,
            to_index,
        } => move_port(k, step, port, (from, *from_index), (to, *to_index)).await,
        Step::ReplaceFirewall { old, new } => k
            .nft_load(&firewall::replace_network(old, new))
            .map_err(|e| other(step, e)),
        Step::UpdateDnsmasq {
            conf,
            pid_file,
            files,
            restart,
            ..
        } => update_dnsmasq(k, step, conf, pid_file, files, *restart),
        Step::StopDnsmasq { pid_file, .. } => {
            let conf = pid_file.with_extension("conf");
            let pid = k
                .dnsmasq_signal_stop(pid_file, &conf)
                .map_err(|e| other(step, e))?;
            let mut stopping = k.stopping();
            stopping.pids.extend(pid);
            stopping.confs.push(conf);
            Ok(())
        }
    }
    .map(|()| Outcome::Done)
}

/// Waits for the dnsmasq processes the steps so far told to stop.
pub fn settle<K: Kernel>(k: &K) {
    let Stopping { pids, .. } = std::mem::take(&mut *k.stopping());
    k.dnsmasq_wait_gone(&pids);
}

/// Whether an error says the thing to remove is already gone.
pub fn already_gone(e: &HostError) -> bool {
    matches!(e, HostError::NoSuchDevice { .. })
        || matches!(
            e.errno(),
            Some(libc::EADDRNOTAVAIL) | Some(libc::ESRCH) | Some(libc::ENOENT)
        )
}

fn gone_ok(r: Result<(), HostError>) -> Result<(), HostError> {
    match r {
        Err(e) if already_gone(&e) => Ok(()),
        other => other,
    }
}

/// A failure of a tool or a file operation, with the step as the operation.
fn other(step: &Step, e: impl std::fmt::Display) -> HostError {
    HostError::Other {
        op: step.to_string(),
        errno: None,
        message: e.to_string(),
    }
}

/// Loads a network's rules (leaving the shared base chains and maps alone when planning found
/// them ready); when that fails — a map key of it points somewhere else, or the table is not
/// what planning saw — the table is read and the repairing transaction loads everything.
fn add_firewall<K: Kernel>(
    k: &K,
    step: &Step,
    net: &FirewallNet,
    shared_ready: bool,
) -> Result<(), HostError> {
    let doc = if shared_ready {
        firewall::join_network(net)
    } else {
        firewall::add_network(net)
    };
    if k.nft_load(&doc).is_ok() {
        return Ok(());
    }
    let table = k.nft_list().map_err(|e| other(step, e))?;
    let doc = match &table {
        Some(t) => firewall::repair_network(net, t),
        None => firewall::add_network(net),
    };
    k.nft_load(&doc).map_err(|e| other(step, e))
}

/// Removes the first release's rules of `network`, and the table itself when nothing of ours
/// is left in it.
fn remove_legacy<K: Kernel>(k: &K, step: &Step, network: &str) -> Result<(), HostError> {
    let Some(table) = k.nft_list().map_err(|e| other(step, e))? else {
        return Ok(());
    };
    k.nft_load(&firewall::remove_legacy(&table, network))
        .map_err(|e| other(step, e))?;
    let Some(after) = k.nft_list().map_err(|e| other(step, e))? else {
        return Ok(());
    };
    let in_use = !after.chains.is_empty() || !after.legacy.is_empty();
    if in_use {
        return Ok(());
    }
    k.nft_load(&firewall::delete_table())
        .map_err(|e| other(step, e))
}

/// Puts each port back on `bridge` if it is still the very link that was there and on no
/// bridge; one that went away meanwhile is skipped.
async fn attach_ports<K: Kernel>(k: &K, bridge: &str, ports: &[PortRef]) -> Result<(), HostError> {
    for port in ports {
        let Some(link) = k.link_by_index(port.ifindex).await? else {
            continue;
        };
        let same = link.name == port.name && port.mac.is_none_or(|m| link.mac == Some(m.0));
        if !same || link.master.is_some() {
            continue;
        }
        match k.set_master(&port.name, bridge).await {
            Err(HostError::NoSuchDevice { .. }) | Ok(()) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Moves `port` from bridge `from` to bridge `to` (each a name and an interface index), after
/// checking that each is still what it was when the move was decided: the very port (index,
/// name, MAC) on `from`, and `to` a bridge of that name and index.
async fn move_port<K: Kernel>(
    k: &K,
    step: &Step,
    port: &PortRef,
    from: (&str, u32),
    to: (&str, u32),
) -> Result<(), HostError> {
    let changed = |why: String| HostError::invalid(step.to_string(), why);
    let link = k.link_by_index(port.ifindex).await?;
    let Some(link) = link.filter(|l| l.name == port.name) else {
        return Err(changed(format!("{} is gone (or was renamed)", port.name)));
    };
    if port.mac.is_some_and(|m| link.mac != Some(m.0)) {
        return Err(changed(format!("{} changed its MAC address", port.name)));
    }
    if link.master != Some(from.1) {
        return Err(changed(format!("{} is no longer on {}", port.name, from.0)));
    }
    let bridge = k.link_by_index(to.1).await?;
    if !bridge.is_some_and(|b| b.name == to.0 && b.kind == LinkKind::Bridge) {
        return Err(changed(format!(
            "bridge {} is gone (or was re-created)",
            to.0
        )));
    }
    k.set_master_index(port.ifindex, &port.name, to.1).await
}

/// Rewrites a running dnsmasq's files, then reloads it (SIGHUP: it re-reads its hosts files)
/// or restarts it (its configuration changed; leases stay in the lease file). One that is not
/// running is started.
fn update_dnsmasq<K: Kernel>(
    k: &K,
    step: &Step,
    conf: &Path,
    pid_file: &Path,
    files: &[FileChange],
    restart: bool,
) -> Result<(), HostError> {
    for f in files {
        store::write_atomic_as(&f.path, f.contents.as_bytes(), f.access)
            .map_err(|e| other(step, e))?;
    }
    match k.dnsmasq_running(pid_file, conf) {
        Some(pid) if !restart => k.dnsmasq_reload(pid).map_err(|e| other(step, e)),
        Some(_) => {
            let pid = k
                .dnsmasq_signal_stop(pid_file, conf)
                .map_err(|e| other(step, e))?;
            k.dnsmasq_wait_gone(&pid.into_iter().collect::<Vec<_>>());
            k.dnsmasq_start(conf, pid_file).map_err(|e| other(step, e))
        }
        None => k.dnsmasq_start(conf, pid_file).map_err(|e| other(step, e)),
    }
}

/// Removes a file, but never one a running dnsmasq of ours reads (a rollback of a start that
/// found its dnsmasq already running must not pull its files away); one this host has just
/// told to stop is going, and its files go with it.
fn remove_file<K: Kernel>(k: &K, step: &Step, path: &Path) -> Result<(), HostError> {
    let told_to_stop = k.stopping().confs.contains(&path.with_extension("conf"));
    let reader = if told_to_stop {
        None
    } else {
        k.dnsmasq_reader_of(path)
            .filter(|p| !k.stopping().pids.contains(p))
    };
    if let Some(pid) = reader {
        return Err(other(
            step,
            format!("dnsmasq pid {pid} is running with this file; it is left in place"),
        ));
    }
    store::remove_durable(path)
        .map(|_| ())
        .map_err(|e| other(step, e))
}

/// Deletes the link we created: by interface index when the record has it (and only if that
/// link is still a bridge), by name otherwise (records of earlier releases) and only a bridge.
async fn delete_own_link<K: Kernel>(
    k: &K,
    name: &str,
    ifindex: Option<u32>,
) -> Result<(), HostError> {
    let link = match ifindex {
        Some(i) => k.link_by_index(i).await?,
        None => k.link_by_name(name).await?,
    };
    match link {
        None => Ok(()),
        Some(l) if l.kind != LinkKind::Bridge => Err(HostError::invalid(
            format!("delete link {name}"),
            format!(
                "{} (index {}) is not the bridge switchyard created; it is left alone",
                l.name, l.ifindex
            ),
        )),
        Some(l) => gone_ok(k.delete_link_index(l.ifindex, &l.name).await),
    }
}

async fn check_link<K: Kernel>(k: &K, name: &str, want_bridge: bool) -> Result<(), HostError> {
    let op = || format!("interface {name} does not exist");
    match k.link_by_name(name).await? {
        None => Err(HostError::NoSuchDevice { op: op() }),
        Some(l) if want_bridge && l.kind != LinkKind::Bridge => Err(HostError::invalid(
            format!("check interface {name}"),
            "it exists but is not a bridge",
        )),
        Some(_) => Ok(()),
    }
}
