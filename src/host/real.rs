//! The real host: netlink, nft, dnsmasq, tc, sysctls, /proc and files, on the kernel of the
//! network namespace it was opened in. Every error keeps its kind (errno where there is one)
//! and names the step's operation.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use futures::StreamExt;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::AsyncSocket;
use rtnetlink::MulticastGroup;

use super::apply::Outcome;
use super::error::HostError;
use super::netlink::dump::{Counters, Dumper};
use super::netlink::{neigh, MacvtapMode, Netlink};
use super::seam::{DnsmasqSetup, Events, FileStamp, GuestInterface, Host, HostEvent};
use super::{dnsmasq, nft, sysctl};
use crate::plan::firewall::ObservedTable;
use crate::plan::{firewall, Step};
use crate::state::{ForwardingSysctls, HostState, LinkCounters, LinkInfo, LinkKind, Neighbour};
use crate::store;
use crate::telemetry::netns::NetnsResolver;
use crate::telemetry::procscan::{
    scan_libvirt_interfaces, scan_libvirt_runtime, scan_processes, GuestIndex, LIBVIRT_QEMU_RUN_DIR,
};
use crate::telemetry::stats::StatsSocket;

/// The real host: one rtnetlink connection, the sockets the live views read counters and
/// namespace ids from, and the dnsmasq processes its steps stopped. Every socket belongs to
/// the network namespace of the thread that connected.
pub struct RealHost {
    nl: Netlink,
    /// dnsmasq processes told to stop; [`Host::settle`] waits for them, so their exit overlaps
    /// the steps after.
    stopping: Mutex<Vec<i32>>,
    stats: Mutex<StatsSocket>,
    netns: Mutex<NetnsResolver>,
    /// Link and neighbour dumps, decoded lean (the connection's decoder costs ~30× more).
    dumper: Mutex<Dumper>,
}

/// Receive buffer asked for the event socket, so a burst of link changes (hundreds of links
/// created at once) does not overrun it; an overrun is survived anyway, by a full re-dump.
const EVENT_RCVBUF_BYTES: usize = 4 << 20;

fn io_error(op: &str) -> impl FnOnce(std::io::Error) -> HostError + '_ {
    move |e| HostError::from_io(op, &e)
}

impl RealHost {
    /// Opens the rtnetlink connection in the calling thread's namespace (its task runs on the
    /// current tokio runtime).
    pub async fn connect() -> Result<RealHost, HostError> {
        RealHost::new(Netlink::connect().await?)
    }

    /// The host over an open rtnetlink connection (its other sockets are opened now, in the
    /// calling thread's namespace).
    pub fn new(nl: Netlink) -> Result<RealHost, HostError> {
        Ok(RealHost {
            nl,
            stopping: Mutex::new(Vec::new()),
            stats: Mutex::new(StatsSocket::open().map_err(io_error("open counter socket"))?),
            netns: Mutex::new(NetnsResolver::open().map_err(io_error("open namespace-id socket"))?),
            dumper: Mutex::new(Dumper::open().map_err(io_error("open link dump socket"))?),
        })
    }

    /// Every link (without counters), by the lean dump.
    fn links(&self) -> Result<Vec<LinkInfo>, HostError> {
        let mut dumper = self.dumper.lock().unwrap_or_else(|e| e.into_inner());
        dumper
            .links(Counters::Without)
            .map_err(io_error("dump links"))
    }

    /// Links (lean dump), addresses, main-table routes and the forwarding sysctls.
    async fn observe_host(&self) -> Result<HostState, HostError> {
        let links = self.links()?;
        let addrs = self.nl.dump_addrs().await?;
        let routes = self.nl.dump_routes().await?;
        Ok(HostState {
            links,
            addrs,
            routes,
            sysctls: self.nl.forwarding_sysctls(),
        })
    }

    /// The rtnetlink connection (for the sandbox and tests that build links).
    pub fn netlink(&self) -> &Netlink {
        &self.nl
    }

    fn stopping(&self) -> std::sync::MutexGuard<'_, Vec<i32>> {
        self.stopping.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether an error says the thing to remove is already gone.
fn already_gone(e: &HostError) -> bool {
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

impl Host for RealHost {
    async fn observe(&self) -> Result<HostState, HostError> {
        self.observe_host().await
    }

    async fn look(&self) -> Result<super::seam::Look, HostError> {
        // nft runs as a process: start it first so it works while netlink answers.
        let pending = nft::PendingObserve::start();
        let host = self.observe_host().await?;
        let firewall = pending.and_then(|p| p.finish()).map_err(|e| e.to_string());
        Ok(super::seam::Look {
            host,
            firewall,
            forwarding: sysctl::read_forwarding(),
        })
    }

    fn forwarding(&self) -> ForwardingSysctls {
        sysctl::read_forwarding()
    }

    async fn firewall(&self) -> Result<Option<ObservedTable>, HostError> {
        nft::observe().map_err(|e| HostError::Other {
            op: "list nftables table inet switchyard".into(),
            errno: None,
            message: e.to_string(),
        })
    }

    async fn link_by_index(&self, ifindex: u32) -> Result<Option<LinkInfo>, HostError> {
        self.nl.link_by_index(ifindex).await
    }

    async fn run(&self, step: &Step) -> Result<Outcome, HostError> {
        self.run_step(step).await
    }

    async fn settle(&self) {
        let pids = std::mem::take(&mut *self.stopping());
        dnsmasq::wait_gone(&pids);
    }

    fn dnsmasq_pid(&self, pid_file: &Path, conf: &Path) -> Option<i32> {
        dnsmasq::running(pid_file, conf)
    }

    fn dnsmasq_setup(&self, run: &Path) -> DnsmasqSetup {
        let account = dnsmasq::account();
        DnsmasqSetup {
            user: account.user,
            group: account.group,
            dir: dnsmasq::runtime_dir(run),
        }
    }

    fn guest_names(&self, links: &[LinkInfo]) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .libvirt_interfaces()
            .into_iter()
            .filter_map(|i| Some((i.target?, i.domain)))
            .collect();
        let index = scan_processes();
        for link in links {
            if let Some(g) = index.guest_of(&link.name, link.ifindex) {
                out.entry(link.name.clone())
                    .or_insert_with(|| g.name.clone());
            }
        }
        out
    }

    fn libvirt_interfaces(&self) -> Vec<GuestInterface> {
        scan_libvirt_interfaces(Path::new(LIBVIRT_QEMU_RUN_DIR))
            .into_iter()
            .map(|(domain, i)| GuestInterface {
                domain,
                target: i.target,
                network: i.network,
                bridge: i.bridge,
            })
            .collect()
    }

    async fn create_macvtap(
        &self,
        name: &str,
        parent: &str,
        mode: MacvtapMode,
        mac: [u8; 6],
    ) -> Result<u32, HostError> {
        self.nl.create_macvtap(name, parent, mode, Some(mac)).await
    }

    async fn set_up(&self, name: &str) -> Result<(), HostError> {
        self.nl.set_up(name).await
    }

    async fn delete_link(&self, ifindex: u32, name: &str) -> Result<(), HostError> {
        self.nl.delete_link_index(ifindex, name).await
    }

    async fn dump_links(&self) -> Result<Vec<LinkInfo>, HostError> {
        self.links()
    }

    fn dump_counters(&self) -> Result<Vec<(u32, LinkCounters)>, HostError> {
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        stats.dump().map_err(io_error("dump link counters"))
    }

    async fn dump_neighbours(&self) -> Result<Vec<Neighbour>, HostError> {
        let mut dumper = self.dumper.lock().unwrap_or_else(|e| e.into_inner());
        dumper.neighbours().map_err(io_error("dump neighbours"))
    }

    fn events(&self) -> Result<Events, HostError> {
        let groups = [MulticastGroup::Link, MulticastGroup::Neigh];
        let (mut conn, _, messages) = rtnetlink::new_multicast_connection(&groups)
            .map_err(io_error("subscribe to link events"))?;
        // Best effort: without privileges the kernel caps the size, and overruns are handled.
        let _ = conn
            .socket_mut()
            .socket_mut()
            .set_rx_buf_sz(EVENT_RCVBUF_BYTES);
        tokio::spawn(conn);
        Ok(messages
            .filter_map(|(msg, _)| async move { event(msg) })
            .boxed())
    }

    fn guest_processes(&self) -> GuestIndex {
        scan_processes()
    }

    fn libvirt_devices(&self) -> HashMap<String, String> {
        scan_libvirt_runtime(Path::new(LIBVIRT_QEMU_RUN_DIR))
    }

    fn netns_names(&self) -> Result<HashMap<i32, String>, HostError> {
        let mut netns = self.netns.lock().unwrap_or_else(|e| e.into_inner());
        netns.names().map_err(io_error("name network namespaces"))
    }

    fn file_stamp(&self, path: &Path) -> Result<Option<FileStamp>, HostError> {
        file_stamp(path)
    }

    fn read_text(&self, path: &Path) -> Result<Option<String>, HostError> {
        read_text(path)
    }

    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
}

/// What identifies the present version of a file; `None` when it does not exist.
pub fn file_stamp(path: &Path) -> Result<Option<FileStamp>, HostError> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(m) => Ok(Some(FileStamp {
            modified: m.modified().map_err(io_error("stat a file"))?,
            len: m.len(),
            inode: m.ino(),
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(HostError::from_io(format!("stat {}", path.display()), &e)),
    }
}

/// A file's text; `None` when it does not exist.
pub fn read_text(path: &Path) -> Result<Option<String>, HostError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(HostError::from_io(format!("read {}", path.display()), &e)),
    }
}

/// The event a link or neighbour message means.
fn event(msg: NetlinkMessage<RouteNetlinkMessage>) -> Option<HostEvent> {
    match msg.payload {
        NetlinkPayload::InnerMessage(inner) => match inner {
            RouteNetlinkMessage::NewLink(_) | RouteNetlinkMessage::DelLink(_) => {
                Some(HostEvent::Links)
            }
            RouteNetlinkMessage::NewNeighbour(n) => {
                Some(HostEvent::Neighbour(neigh::neighbour(&n)?, false))
            }
            RouteNetlinkMessage::DelNeighbour(n) => {
                Some(HostEvent::Neighbour(neigh::neighbour(&n)?, true))
            }
            _ => None,
        },
        // The kernel dropped events: nothing known from events can be trusted any more.
        NetlinkPayload::Overrun(_) => Some(HostEvent::Overrun),
        _ => None,
    }
}

impl RealHost {
    async fn run_step(&self, step: &Step) -> Result<Outcome, HostError> {
        let nl = &self.nl;
        match step {
            Step::CheckLink { name, want_bridge } => check_link(nl, name, *want_bridge).await,
            Step::CreateBridge(b) => {
                nl.create_bridge(b).await?;
                let ifindex = nl.link_index(&b.name).await?;
                return Ok(Outcome::CreatedLink { ifindex });
            }
            Step::DeleteLink { name, ifindex } => delete_own_link(nl, name, *ifindex).await,
            Step::SetSysctl { key, value, .. } => sysctl::write_sysctl(key, value),
            Step::AddAddress { dev, addr } => nl.add_addr(dev, *addr).await,
            Step::DelAddress { dev, addr } => gone_ok(nl.del_addr(dev, *addr).await),
            Step::LinkUp { dev } => nl.set_up(dev).await,
            Step::SetMtu { dev, mtu, .. } => nl.set_mtu(dev, *mtu).await,
            Step::ShapeBridge { dev, shaping } => super::tc::shape(dev, shaping),
            Step::UnshapeBridge { dev } => {
                super::tc::unshape(dev);
                Ok(())
            }
            Step::LinkDown { dev } => gone_ok(nl.set_down(dev).await),
            Step::AddRoute { dest, gateway, dev } => {
                nl.add_route(*dest, Some(*gateway), Some(dev)).await
            }
            Step::DelRoute { dest, gateway, dev } => {
                gone_ok(nl.del_route(*dest, Some(*gateway), Some(dev)).await)
            }
            Step::AddFirewall { net, .. } => add_firewall(step, net),
            Step::RemoveFirewall { net, delete_table } => {
                nft::load_json(&firewall::remove_network(net, *delete_table))
                    .map_err(|e| other(step, e))
            }
            Step::RemoveLegacyFirewall { network } => remove_legacy(step, network),
            Step::LoadFirewall { script, .. } => nft::load(script).map_err(|e| other(step, e)),
            Step::WriteFile {
                path,
                contents,
                access,
            } => store::write_atomic_as(path, contents.as_bytes(), *access)
                .map_err(|e| other(step, e)),
            Step::RemoveFile { path } => remove_file(step, path, &self.stopping()),
            Step::StartDnsmasq {
                conf,
                pid_file,
                lease_file,
                ..
            } => {
                if let Some(leases) = lease_file {
                    store::create_private(leases).map_err(|e| other(step, e))?;
                }
                dnsmasq::start(conf, pid_file)
                    .map(|_| ())
                    .map_err(|e| other(step, e))
            }
            Step::RememberPorts { path, ports } => {
                let json = serde_json::to_string_pretty(ports).expect("ports serialize");
                store::write_atomic(path, json.as_bytes()).map_err(|e| other(step, e))
            }
            Step::AttachPorts { bridge, ports } => attach_ports(nl, bridge, ports).await,
            Step::ReplaceFirewall { old, new } => {
                nft::load_json(&firewall::replace_network(old, new)).map_err(|e| other(step, e))
            }
            Step::UpdateDnsmasq {
                conf,
                pid_file,
                files,
                restart,
                ..
            } => update_dnsmasq(step, conf, pid_file, files, *restart),
            Step::StopDnsmasq { pid_file, .. } => {
                let conf = pid_file.with_extension("conf");
                let pid = dnsmasq::signal_stop(pid_file, &conf).map_err(|e| other(step, e))?;
                self.stopping().extend(pid);
                Ok(())
            }
        }
        .map(|()| Outcome::Done)
    }
}

/// Loads a network's rules; when a map key of it points somewhere else (someone changed our
/// table), the table is read and the repairing transaction deletes those elements first.
fn add_firewall(step: &Step, net: &firewall::FirewallNet) -> Result<(), HostError> {
    if nft::load_json(&firewall::add_network(net)).is_ok() {
        return Ok(());
    }
    let table = nft::observe().map_err(|e| other(step, e))?;
    let doc = match &table {
        Some(t) => firewall::repair_network(net, t),
        None => firewall::add_network(net),
    };
    nft::load_json(&doc).map_err(|e| other(step, e))
}

/// Removes the first release's rules of `network`, and the table itself when nothing of ours
/// is left in it.
fn remove_legacy(step: &Step, network: &str) -> Result<(), HostError> {
    let Some(table) = nft::observe().map_err(|e| other(step, e))? else {
        return Ok(());
    };
    nft::load_json(&firewall::remove_legacy(&table, network)).map_err(|e| other(step, e))?;
    let Some(after) = nft::observe().map_err(|e| other(step, e))? else {
        return Ok(());
    };
    let in_use = !after.chains.is_empty() || !after.legacy.is_empty();
    if in_use {
        return Ok(());
    }
    nft::load_json(&firewall::delete_table()).map_err(|e| other(step, e))
}

/// Puts each port back on `bridge` if it is still the very link that was there and on no
/// bridge; one that went away meanwhile is skipped.
async fn attach_ports(
    nl: &Netlink,
    bridge: &str,
    ports: &[crate::plan::ports::PortRef],
) -> Result<(), HostError> {
    for port in ports {
        let Some(link) = nl.link_by_index(port.ifindex).await? else {
            continue;
        };
        let same = link.name == port.name && port.mac.is_none_or(|m| link.mac == Some(m.0));
        if !same || link.master.is_some() {
            continue;
        }
        match nl.set_master(&port.name, bridge).await {
            Err(HostError::NoSuchDevice { .. }) | Ok(()) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Rewrites a running dnsmasq's files, then reloads it (SIGHUP: it re-reads its hosts files)
/// or restarts it (its configuration changed; leases stay in the lease file). One that is not
/// running is started.
fn update_dnsmasq(
    step: &Step,
    conf: &std::path::Path,
    pid_file: &std::path::Path,
    files: &[crate::plan::change::FileChange],
    restart: bool,
) -> Result<(), HostError> {
    for f in files {
        store::write_atomic_as(&f.path, f.contents.as_bytes(), f.access)
            .map_err(|e| other(step, e))?;
    }
    match dnsmasq::running(pid_file, conf) {
        Some(pid) if !restart => dnsmasq::reload(pid).map_err(|e| other(step, e)),
        Some(_) => {
            dnsmasq::stop(pid_file, conf).map_err(|e| other(step, e))?;
            dnsmasq::start(conf, pid_file)
                .map(|_| ())
                .map_err(|e| other(step, e))
        }
        None => dnsmasq::start(conf, pid_file)
            .map(|_| ())
            .map_err(|e| other(step, e)),
    }
}

/// Removes a file, but never one a running dnsmasq of ours reads (a rollback of a start that
/// found its dnsmasq already running must not pull its files away); one this host has just
/// told to stop is going, and its files go with it.
fn remove_file(step: &Step, path: &std::path::Path, stopping: &[i32]) -> Result<(), HostError> {
    if let Some(pid) = dnsmasq::reader_of(path).filter(|p| !stopping.contains(p)) {
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
async fn delete_own_link(nl: &Netlink, name: &str, ifindex: Option<u32>) -> Result<(), HostError> {
    let link = match ifindex {
        Some(i) => nl.link_by_index(i).await?,
        None => nl.link_by_name(name).await?,
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
        Some(l) => gone_ok(nl.delete_link_index(l.ifindex, &l.name).await),
    }
}

async fn check_link(nl: &Netlink, name: &str, want_bridge: bool) -> Result<(), HostError> {
    let op = || format!("interface {name} does not exist");
    match nl.link_by_name(name).await? {
        None => Err(HostError::NoSuchDevice { op: op() }),
        Some(l) if want_bridge && l.kind != LinkKind::Bridge => Err(HostError::invalid(
            format!("check interface {name}"),
            "it exists but is not a bridge",
        )),
        Some(_) => Ok(()),
    }
}
