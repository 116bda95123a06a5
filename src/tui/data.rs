//! The data contract between the TUI and whatever observes and changes the host.
//!
//! Pure data: a [`Snapshot`] per refresh flows in through a `watch` channel (latest value wins),
//! a [`Command`] flows out tagged with a request id, and a [`CommandResult`] comes back carrying
//! the same id. The UI never calls the system itself.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::watch;

use crate::telemetry::{LinkCounters, PortKey};

/// The host itself, for the header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostSummary {
    /// Host name.
    pub hostname: String,
    /// Kernel release, as `uname -r` prints it.
    pub kernel: String,
    /// Seconds since boot.
    pub uptime_secs: u64,
    /// Load averages over 1, 5 and 15 minutes.
    pub load: [f64; 3],
}

/// One virtual network: its definition summary and what was observed of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkRow {
    /// Network name.
    pub name: String,
    /// Whether it is running.
    pub active: bool,
    /// Whether it starts at boot.
    pub autostart: bool,
    /// Forward mode: nat, route, open, isolated, bridge, ...
    pub mode: String,
    /// Bridge device name.
    pub bridge: Option<String>,
    /// IPv4 address with prefix, e.g. `192.168.122.1/24`.
    pub ipv4: Option<String>,
    /// IPv6 address with prefix.
    pub ipv6: Option<String>,
    /// DHCP range, e.g. `192.168.122.2–192.168.122.254`.
    pub dhcp: Option<String>,
    /// Differences between the definition and the host, one line each; empty when in sync.
    pub drift: Vec<String>,
    /// Pid of the network's dnsmasq, if one runs.
    pub dnsmasq_pid: Option<i32>,
    /// Number of firewall rules present for this network.
    pub firewall_rules: usize,
    /// The definition as libvirt network XML.
    pub xml: String,
    /// An error observing or loading this network.
    pub error: Option<String>,
}

impl NetworkRow {
    /// Whether the network is active but its dnsmasq is missing while it serves DHCP.
    pub fn dnsmasq_dead(&self) -> bool {
        self.active && self.dhcp.is_some() && self.dnsmasq_pid.is_none()
    }

    /// Whether anything about this network deserves a warning badge.
    pub fn needs_attention(&self) -> bool {
        !self.drift.is_empty() || self.dnsmasq_dead() || self.error.is_some()
    }
}

/// One port: a guest interface or another link attached to a network's bridge.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PortRow {
    /// Kernel interface index.
    pub ifindex: u32,
    /// Interface name.
    pub ifname: String,
    /// `tap`, `veth`, `macvtap`, `physical`, ...
    pub kind: String,
    /// Bridge it is attached to.
    pub bridge: Option<String>,
    /// Network that bridge belongs to.
    pub network: Option<String>,
    /// Guest-side MAC address.
    pub mac: Option<String>,
    /// MTU in bytes.
    pub mtu: u32,
    /// Whether the link is up.
    pub up: bool,
    /// Guest (VM or container) that owns the port.
    pub guest: Option<String>,
    /// Guest address, from the leases.
    pub ip: Option<String>,
    /// Cumulative counters.
    pub counters: LinkCounters,
}

impl PortRow {
    /// The key the rate tracker knows this port by.
    pub fn key(&self) -> PortKey {
        PortKey::new(self.ifindex, self.ifname.clone())
    }
}

/// One DHCP lease.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeaseRow {
    /// Network whose dnsmasq handed it out.
    pub network: String,
    /// Client MAC address (absent for some IPv6 leases).
    pub mac: Option<String>,
    /// Leased address.
    pub ip: String,
    /// Client host name.
    pub hostname: Option<String>,
    /// Expiry in unix seconds; `None` means infinite.
    pub expiry: Option<u64>,
}

/// One host interface: NIC, bridge, bond, VLAN, ...
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IfaceRow {
    /// Kernel interface index.
    pub ifindex: u32,
    /// Interface name.
    pub ifname: String,
    /// `physical`, `bridge`, `bond`, `vlan`, ...
    pub kind: String,
    /// MAC address.
    pub mac: Option<String>,
    /// MTU in bytes.
    pub mtu: u32,
    /// Whether the link is up.
    pub up: bool,
    /// Addresses with prefix.
    pub addrs: Vec<String>,
    /// Bridge or bond this interface is enslaved to.
    pub master: Option<String>,
    /// Cumulative counters.
    pub counters: LinkCounters,
}

impl IfaceRow {
    /// The key the rate tracker knows this interface by.
    pub fn key(&self) -> PortKey {
        PortKey::new(self.ifindex, self.ifname.clone())
    }
}

/// Everything observed in one refresh.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The host.
    pub host: HostSummary,
    /// Monotonic sample time, since a fixed origin of the source.
    pub at: Duration,
    /// Virtual networks.
    pub networks: Vec<NetworkRow>,
    /// Guest ports and other bridge ports.
    pub ports: Vec<PortRow>,
    /// DHCP leases of every network.
    pub leases: Vec<LeaseRow>,
    /// Host interfaces.
    pub ifaces: Vec<IfaceRow>,
    /// Wall-clock time of the sample, unix seconds.
    pub now_unix: u64,
}

/// What the UI asks the backend to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start a defined network.
    StartNetwork(String),
    /// Stop a running network.
    StopNetwork(String),
    /// Turn autostart on or off.
    SetAutostart(String, bool),
    /// Delete a network's definition.
    Undefine(String),
    /// Bring a network back in line with its definition (the backend starts it again).
    RepairNetwork(String),
}

impl Command {
    /// The network the command is about.
    pub fn network(&self) -> &str {
        match self {
            Command::StartNetwork(n)
            | Command::StopNetwork(n)
            | Command::SetAutostart(n, _)
            | Command::Undefine(n)
            | Command::RepairNetwork(n) => n,
        }
    }

    /// A short description in the present progressive, for the spinner: "starting nat".
    pub fn doing(&self) -> String {
        let n = self.network();
        match self {
            Command::StartNetwork(_) => format!("starting {n}"),
            Command::StopNetwork(_) => format!("stopping {n}"),
            Command::SetAutostart(_, true) => format!("enabling autostart of {n}"),
            Command::SetAutostart(_, false) => format!("disabling autostart of {n}"),
            Command::Undefine(_) => format!("undefining {n}"),
            Command::RepairNetwork(_) => format!("repairing {n}"),
        }
    }

    /// A short imperative description, for the log: "start nat".
    pub fn describe(&self) -> String {
        let n = self.network();
        match self {
            Command::StartNetwork(_) => format!("start {n}"),
            Command::StopNetwork(_) => format!("stop {n}"),
            Command::SetAutostart(_, true) => format!("autostart {n} on"),
            Command::SetAutostart(_, false) => format!("autostart {n} off"),
            Command::Undefine(_) => format!("undefine {n}"),
            Command::RepairNetwork(_) => format!("repair {n}"),
        }
    }
}

/// The outcome of one [`Command`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandResult {
    /// The request id the command was sent with.
    pub id: u64,
    /// Whether it succeeded.
    pub ok: bool,
    /// What happened, or why it failed.
    pub message: String,
}

/// Where snapshots come from and where commands go.
///
/// Every method returns at once: snapshots arrive through the `watch` channel, and a command's
/// work happens inside the returned future, which the UI runs on its own task, so a backend call
/// that takes seconds never stalls input.
pub trait DataSource: Send + Sync + 'static {
    /// The channel carrying the latest snapshot.
    fn snapshots(&self) -> watch::Receiver<Snapshot>;
    /// Run a command; the future resolves to its result, tagged with `id`.
    fn execute(&self, id: u64, cmd: Command) -> BoxFuture<'static, CommandResult>;
    /// Change how often snapshots are taken.
    fn refresh_interval(&self, ms: u64);
}
