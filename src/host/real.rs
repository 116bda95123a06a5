//! The real host: netlink, nft, dnsmasq, tc, sysctls, /proc and files, on the kernel of the
//! network namespace it was opened in. Every error keeps its kind (errno where there is one)
//! and names the step's operation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use ipnet::IpNet;

use futures::StreamExt;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::link::InfoKind;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::AsyncSocket;
use rtnetlink::MulticastGroup;

use super::apply::Outcome;
use super::error::HostError;
use super::netlink::dump::{Counters, Dumper, LinkFilter};
use super::netlink::nsid::NetnsResolver;
use super::netlink::stats::StatsSocket;
use super::netlink::{neigh, BridgeSpec, MacvtapMode, Netlink};
use super::seam::{DnsmasqSetup, Events, FileStamp, GuestInterface, Host, HostEvent};
use super::steps::{self, Kernel, Stopping};
use super::{dnsmasq, nft, sysctl};
use crate::host::procscan::{
    scan_libvirt_interfaces, scan_libvirt_runtime, scan_processes, GuestIndex, LIBVIRT_QEMU_RUN_DIR,
};
use crate::plan::bandwidth::Shaping;
use crate::plan::firewall::ObservedTable;
use crate::plan::Step;
use crate::state::{
    ForwardingSysctls, HostState, HostSummary, LinkCounters, LinkInfo, LinkKind, Neighbour,
};

/// The real host: one rtnetlink connection, the sockets the live views read counters and
/// namespace ids from, and the dnsmasq processes its steps stopped. Every socket belongs to
/// the network namespace of the thread that connected.
pub struct RealHost {
    nl: Netlink,
    /// dnsmasq processes told to stop; [`Host::settle`] waits for them, so their exit overlaps
    /// the steps after.
    stopping: Mutex<Stopping>,
    stats: Mutex<StatsSocket>,
    netns: Mutex<NetnsResolver>,
    /// Link and neighbour dumps, decoded lean (the connection's decoder costs ~30× more).
    dumper: Mutex<Dumper>,
    /// Inode number of the network namespace the sockets were opened in.
    netns_id: u64,
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
            stopping: Mutex::new(Stopping::default()),
            stats: Mutex::new(StatsSocket::open().map_err(io_error("open counter socket"))?),
            netns: Mutex::new(NetnsResolver::open().map_err(io_error("open namespace-id socket"))?),
            dumper: Mutex::new(Dumper::open().map_err(io_error("open link dump socket"))?),
            // The calling thread's namespace, where the sockets above were opened (not the
            // process's: a test or the sandbox opens a host from a thread that entered another
            // namespace). Unreadable without /proc: 0 then, which still tells this host's
            // links apart, all being in the one namespace.
            netns_id: super::netns::current_netns_id().map_or(0, |id| id.inode()),
        })
    }

    /// Every link (without counters), by the lean dump.
    fn links(&self) -> Result<Vec<LinkInfo>, HostError> {
        let mut dumper = self.dumper.lock().unwrap_or_else(|e| e.into_inner());
        dumper
            .links(Counters::Without)
            .map_err(io_error("dump links"))
    }

    /// Links, addresses, main-table routes (each a lean dump: only the attributes the records
    /// hold are decoded, so a look at a host with many networks stays cheap) and the
    /// forwarding sysctls.
    async fn observe_host(&self) -> Result<HostState, HostError> {
        let links = self.links()?;
        Ok(HostState {
            links,
            ..self.addrs_and_routes()?
        })
    }

    /// Addresses, main-table routes (lean dumps) and the forwarding sysctls; no links.
    fn addrs_and_routes(&self) -> Result<HostState, HostError> {
        let mut dumper = self.dumper.lock().unwrap_or_else(|e| e.into_inner());
        Ok(HostState {
            links: Vec::new(),
            addrs: dumper.addrs().map_err(io_error("dump addresses"))?,
            routes: dumper.main_routes().map_err(io_error("dump routes"))?,
            sysctls: self.nl.forwarding_sysctls(),
        })
    }

    /// The rtnetlink connection (for the sandbox and tests that build links).
    pub fn netlink(&self) -> &Netlink {
        &self.nl
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

    async fn observe_without_links(&self) -> Result<HostState, HostError> {
        self.addrs_and_routes()
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

    async fn link_by_name(&self, name: &str) -> Result<Option<LinkInfo>, HostError> {
        self.nl.link_by_name(name).await
    }

    async fn run(&self, step: &Step) -> Result<Outcome, HostError> {
        steps::run_step(self, step).await
    }

    async fn settle(&self) {
        steps::settle(self);
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

    async fn dump_port_links(&self) -> Result<Vec<LinkInfo>, HostError> {
        let mut links = {
            let mut dumper = self.dumper.lock().unwrap_or_else(|e| e.into_inner());
            let dump = |d: &mut Dumper, filter| {
                d.links_where(Counters::Without, filter)
                    .map_err(io_error("dump links"))
            };
            // A kernel may answer a kind it does not know (macvtap's module not loaded) with
            // every link, as any kernel before 4.20 answers any filter: then that one dump
            // is the whole answer (the cost of the full dump this replaces), and more dumps
            // would only repeat it.
            let mut links = Vec::new();
            for (kind, want) in [
                (InfoKind::MacVtap, LinkKind::Macvtap),
                (InfoKind::Bridge, LinkKind::Bridge),
            ] {
                let got = dump(&mut dumper, LinkFilter::Kind(kind))?;
                if got.iter().any(|l| l.kind != want) {
                    return Ok(crate::state::port_links(got));
                }
                links.extend(got);
            }
            let bridges: Vec<u32> = links
                .iter()
                .filter(|l| l.kind == LinkKind::Bridge)
                .map(|l| l.ifindex)
                .collect();
            for bridge in bridges {
                links.extend(dump(&mut dumper, LinkFilter::PortsOf(bridge))?);
            }
            links
        };
        // A macvtap's lower device: one request each (a handful; most share one).
        let parents: BTreeSet<u32> = links
            .iter()
            .filter(|l| l.kind == LinkKind::Macvtap)
            .filter_map(|l| l.parent)
            .filter(|p| !links.iter().any(|l| l.ifindex == *p))
            .collect();
        for parent in parents {
            // Counters come from `RTM_GETSTATS`, as for the dumped links.
            let parent = self.nl.link_by_index(parent).await?;
            links.extend(parent.map(|l| LinkInfo { stats: None, ..l }));
        }
        Ok(crate::state::port_links(links))
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
        let links = messages.filter_map(|(msg, _)| async move { event(msg) });
        // Best effort too: without nftables notifications the live views poll the table.
        let Ok(firewall) = super::netlink::nft_events::subscribe() else {
            return Ok(links.boxed());
        };
        let subscribed = futures::stream::once(async { HostEvent::Firewall });
        let firewall = subscribed.chain(futures::stream::unfold(firewall, |mut rx| async move {
            rx.changed().await.ok()?;
            Some((HostEvent::Firewall, rx))
        }));
        Ok(futures::stream::select(links, firewall).boxed())
    }

    fn guest_processes(&self) -> GuestIndex {
        scan_processes()
    }

    fn libvirt_devices(&self) -> HashMap<String, String> {
        scan_libvirt_runtime(Path::new(LIBVIRT_QEMU_RUN_DIR))
    }

    fn netns_id(&self) -> u64 {
        self.netns_id
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

    fn summary(&self) -> HostSummary {
        use sysinfo::System;
        let load = System::load_average()
            .map(|l| [l.one, l.five, l.fifteen])
            .unwrap_or_default();
        HostSummary {
            hostname: System::host_name().unwrap_or_default(),
            kernel: System::kernel_version().unwrap_or_default(),
            uptime_secs: System::uptime().unwrap_or_default(),
            load,
            simulated: false,
        }
    }

    fn listeners(
        &self,
        proto: crate::model::Proto,
        ports: crate::model::PortRange,
    ) -> Vec<super::listen::Listener> {
        super::listen::listeners(proto, ports)
    }

    async fn firewall_counters(&self) -> Result<BTreeMap<String, (u64, u64)>, HostError> {
        nft::counters().map_err(|e| HostError::Other {
            op: "list the counters of nftables table inet switchyard".into(),
            errno: None,
            message: e.to_string(),
        })
    }

    async fn trace_probe(
        &self,
        req: super::trace::TraceRequest,
    ) -> Result<super::trace::TraceCapture, HostError> {
        super::trace::trace(req).await
    }

    async fn nft_ruleset(&self) -> Result<serde_json::Value, HostError> {
        nft::ruleset().map_err(|e| HostError::Other {
            op: "list the nftables ruleset".into(),
            errno: None,
            message: e.to_string(),
        })
    }

    async fn run_fix(&self, commands: &[Vec<String>]) -> Result<(), HostError> {
        super::fix::run(commands).await
    }

    async fn probe(
        &self,
        probe: &super::probe::Probe,
    ) -> Result<super::probe::ProbeSeen, HostError> {
        super::probe::run(probe.clone()).await
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

impl Kernel for RealHost {
    async fn link_by_name(&self, name: &str) -> Result<Option<LinkInfo>, HostError> {
        self.nl.link_by_name(name).await
    }

    async fn link_by_index(&self, ifindex: u32) -> Result<Option<LinkInfo>, HostError> {
        self.nl.link_by_index(ifindex).await
    }

    async fn create_bridge(&self, spec: &BridgeSpec) -> Result<u32, HostError> {
        self.nl.create_bridge(spec).await?;
        self.nl.link_index(&spec.name).await
    }

    async fn delete_link_index(&self, ifindex: u32, name: &str) -> Result<(), HostError> {
        self.nl.delete_link_index(ifindex, name).await
    }

    async fn add_addr(&self, dev: &str, addr: IpNet) -> Result<(), HostError> {
        self.nl.add_addr(dev, addr).await
    }

    async fn del_addr(&self, dev: &str, addr: IpNet) -> Result<(), HostError> {
        self.nl.del_addr(dev, addr).await
    }

    async fn set_up(&self, dev: &str) -> Result<(), HostError> {
        self.nl.set_up(dev).await
    }

    async fn set_down(&self, dev: &str) -> Result<(), HostError> {
        self.nl.set_down(dev).await
    }

    async fn set_mtu(&self, dev: &str, mtu: u32) -> Result<(), HostError> {
        self.nl.set_mtu(dev, mtu).await
    }

    async fn set_master(&self, port: &str, bridge: &str) -> Result<(), HostError> {
        self.nl.set_master(port, bridge).await
    }

    async fn set_master_index(
        &self,
        ifindex: u32,
        name: &str,
        master: u32,
    ) -> Result<(), HostError> {
        self.nl.set_master_index(ifindex, name, master).await
    }

    async fn add_route(&self, dest: IpNet, gateway: IpAddr, dev: &str) -> Result<(), HostError> {
        self.nl.add_route(dest, Some(gateway), Some(dev)).await
    }

    async fn del_route(&self, dest: IpNet, gateway: IpAddr, dev: &str) -> Result<(), HostError> {
        self.nl.del_route(dest, Some(gateway), Some(dev)).await
    }

    fn write_sysctl(&self, key: &str, value: &str) -> Result<(), HostError> {
        sysctl::write_sysctl(key, value)
    }

    fn shape(&self, dev: &str, shaping: &Shaping) -> Result<(), HostError> {
        super::tc::shape(dev, shaping)
    }

    fn unshape(&self, dev: &str) {
        super::tc::unshape(dev);
    }

    fn nft_load(&self, doc: &serde_json::Value) -> Result<(), String> {
        nft::load_json(doc).map_err(|e| e.to_string())
    }

    fn nft_load_script(&self, script: &str) -> Result<(), String> {
        nft::load(script).map_err(|e| e.to_string())
    }

    fn nft_list(&self) -> Result<Option<ObservedTable>, String> {
        nft::observe().map_err(|e| e.to_string())
    }

    fn dnsmasq_start(&self, conf: &Path, pid_file: &Path) -> Result<(), String> {
        dnsmasq::start(conf, pid_file)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn dnsmasq_running(&self, pid_file: &Path, conf: &Path) -> Option<i32> {
        dnsmasq::running(pid_file, conf)
    }

    fn dnsmasq_reload(&self, pid: i32) -> Result<(), String> {
        dnsmasq::reload(pid).map_err(|e| e.to_string())
    }

    fn dnsmasq_signal_stop(&self, pid_file: &Path, conf: &Path) -> Result<Option<i32>, String> {
        dnsmasq::signal_stop(pid_file, conf).map_err(|e| e.to_string())
    }

    fn dnsmasq_wait_gone(&self, pids: &[i32]) {
        dnsmasq::wait_gone(pids);
    }

    fn dnsmasq_reader_of(&self, path: &Path) -> Option<i32> {
        dnsmasq::reader_of(path)
    }

    fn stopping(&self) -> MutexGuard<'_, Stopping> {
        self.stopping.lock().unwrap_or_else(|e| e.into_inner())
    }
}
