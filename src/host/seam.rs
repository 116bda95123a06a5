//! The one seam between switchyard and the machine: everything the backend (and the live
//! views) ask of the host goes through [`Host`]. [`RealHost`](super::real::RealHost) does it on
//! the kernel of the namespace it was opened in; [`FakeHost`](super::fake::FakeHost) keeps an
//! in-memory kernel (links, addresses, routes, the nftables table, dnsmasq processes) for the
//! demo and the tests, beneath the very same backend.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use futures::stream::BoxStream;

use super::error::HostError;
use super::netlink::MacvtapMode;
use crate::host::procscan::GuestIndex;
use crate::plan::firewall::ObservedTable;
use crate::plan::steps::Outcome;
use crate::plan::Step;
use crate::state::{ForwardingSysctls, HostState, HostSummary, LinkCounters, LinkInfo, Neighbour};

/// Who a network's dnsmasq runs as, and where its files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsmasqSetup {
    /// The account it drops its privileges to.
    pub user: String,
    /// That account's group: name and id (the hosts files belong to it).
    pub group: Option<(String, u32)>,
    /// The folder it reads its files from.
    pub dir: PathBuf,
}

/// A change the host reports on its own (the live views follow these instead of polling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostEvent {
    /// Links appeared, went or changed.
    Links,
    /// A neighbour entry appeared or changed (`false`) or went (`true`).
    Neighbour(Neighbour, bool),
    /// An nftables ruleset change was committed (ours or anyone's). A host that reports
    /// these sends one as soon as it is subscribed, so a reader knows it may rely on them.
    Firewall,
    /// Events were lost: what is known from events must be read again.
    Overrun,
}

/// The host's events as they come; the stream ends when the subscription does.
pub type Events = BoxStream<'static, HostEvent>;

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub modified: SystemTime,
    pub len: u64,
    pub inode: u64,
}

/// One look at the host.
#[derive(Debug, Clone)]
pub struct Look {
    pub host: HostState,
    /// Our table, or why it could not be read.
    pub firewall: Result<Option<ObservedTable>, String>,
    pub forwarding: ForwardingSysctls,
}

/// One interface of a running libvirt domain: `(domain, target device, source network, source
/// bridge)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestInterface {
    pub domain: String,
    pub target: Option<String>,
    pub network: Option<String>,
    pub bridge: Option<String>,
}

/// The machine, as switchyard uses it. Each method names what it does in the kernel's or a
/// tool's terms; errors keep their errno where there is one.
pub trait Host: Send + Sync + 'static {
    /// Links, addresses, main-table routes and forwarding sysctls, in one look.
    fn observe(&self) -> impl Future<Output = Result<HostState, HostError>> + Send;

    /// Everything [`Host::observe`] sees except the links, which a caller that follows link
    /// events already has (the live views take them from the collector): addresses, routes
    /// and forwarding sysctls, with `links` left empty.
    fn observe_without_links(&self) -> impl Future<Output = Result<HostState, HostError>> + Send {
        async move {
            let mut state = self.observe().await?;
            state.links = Vec::new();
            Ok(state)
        }
    }

    /// The forwarding sysctls alone.
    fn forwarding(&self) -> ForwardingSysctls;

    /// Our nftables table as nft lists it; `None` when it does not exist.
    fn firewall(&self) -> impl Future<Output = Result<Option<ObservedTable>, HostError>> + Send;

    /// [`Host::observe`] and [`Host::firewall`] together (a host may overlap them); the
    /// table's error, if any, is kept beside the links.
    fn look(&self) -> impl Future<Output = Result<Look, HostError>> + Send {
        async move {
            let host = self.observe().await?;
            let firewall = self.firewall().await.map_err(|e| e.to_string());
            Ok(Look {
                host,
                firewall,
                forwarding: self.forwarding(),
            })
        }
    }

    /// One link by interface index (one request, not a dump).
    fn link_by_index(
        &self,
        ifindex: u32,
    ) -> impl Future<Output = Result<Option<LinkInfo>, HostError>> + Send;

    /// One link by name (one request, not a dump); `None` when there is none.
    fn link_by_name(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<LinkInfo>, HostError>> + Send;

    /// Carries out one plan step (see [`crate::host::apply`] for the transaction around it).
    fn run(&self, step: &Step) -> impl Future<Output = Result<Outcome, HostError>> + Send;

    /// Waits until what the steps so far set winding down (stopped dnsmasq processes) is gone.
    fn settle(&self) -> impl Future<Output = ()> + Send;

    /// The pid of the running dnsmasq serving `conf` (by its pid file, else by its command
    /// line).
    fn dnsmasq_pid(&self, pid_file: &Path, conf: &Path) -> Option<i32>;

    /// Who dnsmasq runs as, and the folder it reads, for a store whose runtime folder is `run`.
    fn dnsmasq_setup(&self, run: &Path) -> DnsmasqSetup;

    /// The guest behind each interface of `links` that has one, by interface name.
    fn guest_names(&self, links: &[LinkInfo]) -> BTreeMap<String, String>;

    /// Every interface of every running libvirt domain.
    fn libvirt_interfaces(&self) -> Vec<GuestInterface>;

    /// Creates a macvtap on `parent` and returns its interface index.
    fn create_macvtap(
        &self,
        name: &str,
        parent: &str,
        mode: MacvtapMode,
        mac: [u8; 6],
    ) -> impl Future<Output = Result<u32, HostError>> + Send;

    /// Sets a link up.
    fn set_up(&self, name: &str) -> impl Future<Output = Result<(), HostError>> + Send;

    /// Deletes the link with this interface index (`name` for messages).
    fn delete_link(
        &self,
        ifindex: u32,
        name: &str,
    ) -> impl Future<Output = Result<(), HostError>> + Send;

    // What the live views watch.

    /// Every link (without counters: [`Host::dump_counters`] has them).
    fn dump_links(&self) -> impl Future<Output = Result<Vec<LinkInfo>, HostError>> + Send;

    /// The links a port list needs ([`crate::state::port_links`]): bridges, their ports,
    /// macvtaps and the macvtaps' lower devices. The real host asks the kernel for only
    /// those, so links that are no port (a veth's other end, a container's interfaces) cost
    /// nothing.
    fn dump_port_links(&self) -> impl Future<Output = Result<Vec<LinkInfo>, HostError>> + Send {
        async { self.dump_links().await.map(crate::state::port_links) }
    }

    /// The counters of every link, as `(ifindex, counters)`.
    fn dump_counters(&self) -> Result<Vec<(u32, LinkCounters)>, HostError>;

    /// The IP neighbours and the MACs the bridges learned.
    fn dump_neighbours(&self) -> impl Future<Output = Result<Vec<Neighbour>, HostError>> + Send;

    /// Link and neighbour changes from now on.
    fn events(&self) -> Result<Events, HostError>;

    /// The processes that hold taps and macvtaps.
    fn guest_processes(&self) -> GuestIndex;

    /// Tap devices of running libvirt domains: device name → domain name.
    fn libvirt_devices(&self) -> HashMap<String, String>;

    /// Identity of the network namespace this host reads its links in: the inode number of
    /// that namespace. A link is known by this and its ifindex
    /// ([`PortKey`](crate::telemetry::PortKey)).
    fn netns_id(&self) -> u64;

    /// Names of the network namespaces veth peers live in, by namespace id.
    fn netns_names(&self) -> Result<HashMap<i32, String>, HostError>;

    /// What identifies the present version of a file; `None` when it does not exist.
    fn file_stamp(&self, path: &Path) -> Result<Option<FileStamp>, HostError>;

    /// A file's text; `None` when it does not exist.
    fn read_text(&self, path: &Path) -> Result<Option<String>, HostError>;

    /// The wall-clock time.
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    /// A monotonic clock, for timestamps of counter samples.
    fn monotonic(&self) -> std::time::Duration {
        crate::telemetry::snapshot::monotonic_now()
    }

    /// Host name, kernel, uptime and load, for the header.
    fn summary(&self) -> HostSummary;

    /// The sockets listening (TCP) or bound (UDP) on `ports` of this host, with their
    /// processes.
    fn listeners(
        &self,
        proto: crate::model::Proto,
        ports: crate::model::PortRange,
    ) -> Vec<super::listen::Listener>;

    /// The named counters of our table: name → (packets, bytes); empty without a table.
    fn firewall_counters(
        &self,
    ) -> impl Future<Output = Result<BTreeMap<String, (u64, u64)>, HostError>> + Send;

    /// `why`: sends one probe packet from a throwaway port on a network's bridge, traced
    /// through every nftables table, and returns the kernel's trace of it; the port and the
    /// trace rule are gone again when it returns (also on error).
    fn trace_probe(
        &self,
        req: super::trace::TraceRequest,
    ) -> impl Future<Output = Result<super::trace::TraceCapture, HostError>> + Send;

    /// The whole nftables ruleset (every table of every family) as `nft -j list ruleset`
    /// prints it: read, never changed, to name another table that may drop a probe.
    fn nft_ruleset(&self) -> impl Future<Output = Result<serde_json::Value, HostError>> + Send;

    /// Runs a `why` fix the operator confirmed: each command an argument vector, spawned
    /// without a shell, in order, stopping at the first that fails (its stderr in the error).
    /// Refuses, before running anything, a list that
    /// [`check_fix`](crate::model::why::check_fix) refuses (a program other than iptables,
    /// ip6tables, ufw, firewall-cmd or nft).
    fn run_fix(
        &self,
        commands: &[Vec<String>],
    ) -> impl Future<Output = Result<(), HostError>> + Send;

    /// Sends one probe of a forward (see [`super::probe`]) and says what came back. Whatever
    /// the probe sets up (a throwaway namespace, a veth, a bridge port, an address, the
    /// neighbour entry of its address) is gone when this returns, also on error.
    fn probe(
        &self,
        probe: &super::probe::Probe,
    ) -> impl Future<Output = Result<super::probe::ProbeSeen, HostError>> + Send;
}
