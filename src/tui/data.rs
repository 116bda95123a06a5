//! The data contract between the TUI and whatever observes and changes the host.
//!
//! Pure data: a shared [`Snapshot`] per refresh flows in through a `watch` channel (latest
//! value wins), a [`Command`] flows out tagged with a request id, and a [`CommandResult`] comes
//! back carrying the same id. The UI never calls the system itself. Values are typed (a parsed
//! definition, addresses, MACs, kinds, drift): views format them, nothing parses them back.
//!
//! While a command runs, the source may report the step it is on through a
//! [`ProgressSender`]; each report reaches the UI as `Event::Progress { id, step }`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use ipnet::IpNet;
use tokio::sync::{mpsc, watch};

use crate::backend::{ForwardTest, WhyOutcome, WhyRequest};
use crate::model::forward::{Forward, PortRange, Proto, Target};
use crate::model::{ForwardMode, MacAddr, NetworkDef};
use crate::state::LinkKind;
use crate::telemetry::{LinkCounters, PortKey, Rates};

pub use crate::plan::Drift;

pub use crate::state::HostSummary;

/// How a network forwards, as the screens name it: the forward mode, `isolated` without
/// one, and a macvtap network with its macvtap mode (`macvtap (vepa)`), so it is not taken
/// for a host bridge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NetMode {
    /// No `<forward>`: guests talk to each other and the host only.
    Isolated,
    /// A forward mode switchyard runs on a bridge: nat, route, open; or a host bridge.
    Forward(ForwardMode),
    /// Guests on macvtaps of the network's pool devices, in this macvtap mode.
    Macvtap(ForwardMode),
    /// The definition could not be read.
    #[default]
    Unknown,
}

impl NetMode {
    /// The mode of `def`.
    pub fn of(def: &NetworkDef) -> Self {
        match def.mode() {
            None => NetMode::Isolated,
            Some(m) if def.is_macvtap() => NetMode::Macvtap(m),
            Some(m) => NetMode::Forward(m),
        }
    }

    /// The short form for a table column: `macvtap` without its mode.
    pub fn short(&self) -> String {
        match self {
            NetMode::Macvtap(_) => "macvtap".to_owned(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for NetMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetMode::Isolated => f.write_str("isolated"),
            NetMode::Forward(m) => f.write_str(m.as_str()),
            NetMode::Macvtap(m) => write!(f, "macvtap ({})", m.as_str()),
            NetMode::Unknown => f.write_str("?"),
        }
    }
}

/// A DHCP range: first and last address handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpSpan {
    /// First address.
    pub start: IpAddr,
    /// Last address.
    pub end: IpAddr,
}

impl fmt::Display for DhcpSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", self.start, self.end)
    }
}

/// One virtual network: its definition and what was observed of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkRow {
    /// Network name.
    pub name: String,
    /// Whether it is running.
    pub active: bool,
    /// Whether it starts at boot.
    pub autostart: bool,
    /// The parsed definition; `None` when it cannot be read (see `error`). Shared with the
    /// source: a snapshot does not copy it. Formatted as XML only where it is shown.
    pub def: Option<Arc<NetworkDef>>,
    /// Forward mode, from the definition.
    pub mode: NetMode,
    /// Bridge device name.
    pub bridge: Option<String>,
    /// IPv4 address with prefix, e.g. `192.168.122.1/24`.
    pub ipv4: Option<IpNet>,
    /// IPv6 address with prefix.
    pub ipv6: Option<IpNet>,
    /// The first DHCP range.
    pub dhcp: Option<DhcpSpan>,
    /// Differences between the definition and the host; empty when in sync.
    pub drift: Vec<Drift>,
    /// Pid of the network's dnsmasq, if one runs.
    pub dnsmasq_pid: Option<i32>,
    /// Number of firewall rules present for this network.
    pub firewall_rules: usize,
    /// Macvtaps made by `attach` on this (macvtap) network, started or not.
    pub attachments: usize,
    /// An error observing or loading this network.
    pub error: Option<String>,
    /// libvirt-style taints: settings passed on unchecked (`custom-dnsmasq-options`).
    pub taints: Vec<String>,
    /// What is dubious in the definition although libvirt accepts it ("field: why").
    pub warnings: Vec<String>,
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

    /// The definition as libvirt network XML, for the XML pane and exports; empty when the
    /// definition could not be read.
    pub fn xml(&self) -> String {
        self.def
            .as_deref()
            .map(crate::model::format_network_xml)
            .unwrap_or_default()
    }
}

/// One port: a guest interface or another link attached to a network's bridge.
#[derive(Debug, Clone, PartialEq)]
pub struct PortRow {
    /// Identity of the network namespace it was read in (see [`PortKey`]).
    pub netns: u64,
    /// Kernel interface index.
    pub ifindex: u32,
    /// Interface name.
    pub ifname: String,
    /// tap, veth, macvtap, physical, ... (shown by [`LinkKind::name`]).
    pub kind: LinkKind,
    /// Bridge it is attached to.
    pub bridge: Option<String>,
    /// Network that bridge belongs to.
    pub network: Option<String>,
    /// Guest-side MAC address.
    pub mac: Option<MacAddr>,
    /// MTU in bytes.
    pub mtu: u32,
    /// Whether the link is up.
    pub up: bool,
    /// Guest (VM or container) that owns the port.
    pub guest: Option<String>,
    /// Guest address, from the leases.
    pub ip: Option<IpAddr>,
    /// Cumulative counters; `None` when the collector has none for it.
    pub counters: Option<LinkCounters>,
    /// Rates as the collector measured them; `None` before a second sample or on a reset.
    pub rate: Option<Rates>,
}

impl Default for PortRow {
    fn default() -> Self {
        PortRow {
            netns: 0,
            ifindex: 0,
            ifname: String::new(),
            kind: LinkKind::Tun,
            bridge: None,
            network: None,
            mac: None,
            mtu: 0,
            up: false,
            guest: None,
            ip: None,
            counters: None,
            rate: None,
        }
    }
}

impl PortRow {
    /// The key the rate tracker knows this port by.
    pub fn key(&self) -> PortKey {
        PortKey::new(self.netns, self.ifindex)
    }

    /// Whether `key` is this port's key: the same link, whatever it is called now.
    pub fn is(&self, key: &PortKey) -> bool {
        self.key() == *key
    }
}

/// One DHCP lease.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseRow {
    /// Network whose dnsmasq handed it out.
    pub network: String,
    /// Client MAC address (absent for some IPv6 leases).
    pub mac: Option<MacAddr>,
    /// Leased address.
    pub ip: IpAddr,
    /// Client host name.
    pub hostname: Option<String>,
    /// Expiry in unix seconds; `None` means infinite (or, for a reservation, no lease).
    pub expiry: Option<u64>,
    /// A DHCP reservation (`<host>` entry) no client holds a lease of: listed so every
    /// pinned address shows, marked pinned, with no expiry.
    pub reserved: bool,
}

/// One port forward of a network, with its counters.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardRow {
    /// The network it belongs to.
    pub network: String,
    /// Whether the network runs (its rules are loaded).
    pub active: bool,
    /// The forward as defined.
    pub forward: Forward,
    /// The target address now (a guest's reservation resolved).
    pub to: Option<Ipv4Addr>,
    /// The guest the target is known as: the name it was given, or the host name of the pin,
    /// lease or port holding the target's MAC or address.
    pub guest: Option<String>,
    /// New connections DNAT'ed since the rules were loaded; `None` when the network is not
    /// running or the counters could not be read.
    pub hits: Option<u64>,
    /// Bytes forwarded since the rules were loaded; `None` as for `hits`.
    pub bytes: Option<u64>,
    /// New connections per second between the last two counter readings; `None` before a
    /// second reading, after a reset, or when inactive.
    pub hit_rate: Option<f64>,
}

impl ForwardRow {
    /// What identifies the forward: its network, protocol and host port(s).
    pub fn key(&self) -> ForwardKey {
        ForwardKey {
            network: self.network.clone(),
            proto: self.forward.proto,
            port: self.forward.port,
        }
    }

    /// The target as defined: a guest (MAC or name) or an address.
    pub fn target_text(&self) -> String {
        match &self.forward.target {
            Target::Guest(g) => g.to_string(),
            Target::Addr(a) => a.to_string(),
        }
    }
}

/// A forward's identity across snapshots (a network has one forward per protocol and port).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ForwardKey {
    /// Network.
    pub network: String,
    /// Protocol.
    pub proto: Proto,
    /// Host port(s).
    pub port: PortRange,
}

impl fmt::Display for ForwardKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} of {}", self.proto, self.port, self.network)
    }
}

/// One host interface: NIC, bridge, bond, VLAN, ...
#[derive(Debug, Clone, PartialEq)]
pub struct IfaceRow {
    /// Identity of the network namespace it was read in (see [`PortKey`]).
    pub netns: u64,
    /// Kernel interface index.
    pub ifindex: u32,
    /// Interface name.
    pub ifname: String,
    /// physical, bridge, bond, vlan, ... (shown by [`LinkKind::name`]).
    pub kind: LinkKind,
    /// MAC address.
    pub mac: Option<MacAddr>,
    /// MTU in bytes.
    pub mtu: u32,
    /// Whether the link is up.
    pub up: bool,
    /// What the kernel says of the link's operation (carrier and lower layers).
    pub oper: OperState,
    /// Whether a default route (IPv4 or IPv6, main table) leaves through it.
    pub default_route: bool,
    /// Addresses with prefix.
    pub addrs: Vec<IpNet>,
    /// Bridge or bond this interface is enslaved to.
    pub master: Option<String>,
    /// Cumulative counters; `None` when the collector has none for it.
    pub counters: Option<LinkCounters>,
    /// Rates as the collector measured them; `None` before a second sample or on a reset.
    pub rate: Option<Rates>,
}

/// A link's operational state, as the kernel reports it (`IFLA_OPERSTATE`, RFC 2863).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OperState {
    /// Carrier and lower layers up.
    Up,
    /// Down (no carrier when the link is administratively up).
    Down,
    /// A lower layer (the bond's or VLAN's device) is down.
    LowerLayerDown,
    /// Waiting for an external event (802.1X, …).
    Dormant,
    /// The driver does not say (many virtual links: tun, veth's peer side, dummy).
    #[default]
    Unknown,
}

impl OperState {
    /// From the kernel's word (`ip link`'s `state`), any case.
    pub fn from_kernel(word: &str) -> OperState {
        match word.to_ascii_lowercase().as_str() {
            "up" => OperState::Up,
            "down" | "notpresent" => OperState::Down,
            "lowerlayerdown" => OperState::LowerLayerDown,
            "dormant" | "testing" => OperState::Dormant,
            _ => OperState::Unknown,
        }
    }
}

impl IfaceRow {
    /// What an operator reads in the Link column: `down` when administratively down,
    /// `no link` when up without carrier (or its lower device down), else `up`.
    pub fn link_text(&self) -> &'static str {
        match (self.up, self.oper) {
            (false, _) => "down",
            (true, OperState::Down | OperState::LowerLayerDown) => "no link",
            (true, OperState::Dormant) => "dormant",
            (true, _) => "up",
        }
    }
    /// The key the rate tracker knows this interface by.
    pub fn key(&self) -> PortKey {
        PortKey::new(self.netns, self.ifindex)
    }
}

/// Everything observed in one refresh. The source publishes it as an `Arc<Snapshot>`: the
/// UI shares it, never copies it.
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
    /// Port forwards of every network, with their counters and hit rates.
    pub forwards: Vec<ForwardRow>,
    /// Wall-clock time of the sample, unix seconds.
    pub now_unix: u64,
    /// Subnets in use on the host, each once: its addresses (with their prefix) and the
    /// destinations of its routes. Forms pick free subnets around these and flag overlaps;
    /// default routes (prefix 0) claim nothing.
    pub taken_subnets: Vec<IpNet>,
    /// What the source did on its own (a dnsmasq started again by the supervisor), newest
    /// last, numbered so the App logs each once.
    pub notices: Vec<Notice>,
}

/// Something the source did by itself, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Increases by one for each notice of the source.
    pub seq: u64,
    /// Whether it went well.
    pub ok: bool,
    /// What happened.
    pub text: String,
}

/// What the UI asks the backend to do.
///
/// The wizard commands carry the definition as libvirt network XML, exactly as the review
/// step showed it. Their results' `message` is shown to the operator verbatim, so it should
/// say what happened in plain words (see each variant).
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
    /// Stop an active network, then delete its definition (one confirmation for both).
    StopAndUndefine(String),
    /// Remove a macvtap made by `attach` (by interface name).
    Detach(String),
    /// Move a guest port (by interface name) to the bridge of running network `network`; the
    /// backend refuses a port or bridge switchyard may not touch, saying why.
    MovePort {
        /// The port.
        ifname: String,
        /// The network to move it to.
        network: String,
    },
    /// Bring a network back in line with its definition (the backend starts it again).
    RepairNetwork(String),
    /// Plan the start of this definition without changing anything: a new network, or for an
    /// edit the start that follows the stop. `ok` with `message` = the exact plan text: the
    /// numbered steps, then the dnsmasq configuration and the nftables transaction as they would
    /// be loaded; or `!ok` with why no plan can be made. Never logged by the UI.
    PreviewStart {
        /// The definition.
        xml: String,
    },
    /// Define a new network, set its autostart, and start it if `start`. On failure the
    /// message names the failed step, quotes the kernel's (or tool's) words, and says what
    /// was rolled back; nothing of a failed create stays defined.
    CreateNetwork {
        /// The definition.
        xml: String,
        /// Start at boot.
        autostart: bool,
        /// Start it now.
        start: bool,
    },
    /// Replace the definition of `name`. An active network goes stop → redefine → start; if
    /// the new definition fails to start, the old one is restored and started again, and the
    /// message says so. An inactive network is only redefined.
    EditNetwork {
        /// The network being edited (the XML keeps this name).
        name: String,
        /// The new definition.
        xml: String,
    },
    /// Create a macvtap on one of a macvtap network's pool devices (the backend picks it).
    /// `ok` with a message whose lines include the `/dev/tapN` device and a ready QEMU
    /// `-netdev` line.
    Attach {
        /// The macvtap network.
        network: String,
        /// Interface name; `None` lets the backend pick `macvtapN`.
        name: Option<String>,
        /// Guest MAC; `None` lets the backend generate a `52:54:00` one.
        mac: Option<String>,
    },
    /// Add a `<host mac ip [name]>` to the network's IPv4 DHCP and reload its dnsmasq
    /// (SIGHUP; no restart, guests keep their connectivity).
    PinLease {
        /// The network.
        network: String,
        /// Client MAC.
        mac: String,
        /// Address to reserve.
        ip: String,
        /// Host name to record with it.
        hostname: Option<String>,
    },
    /// Add a port forward to a NAT network: stored, and loaded live when the network runs
    /// (only its firewall chains change). Refused, naming the field, when the port is served
    /// by the host (sshd, this SSH session) or the forward is invalid.
    AddForward {
        /// The network.
        network: String,
        /// The forward.
        forward: Forward,
    },
    /// Remove the forward of `proto` on host port(s) `port` from the network.
    RemoveForward {
        /// The network.
        network: String,
        /// Protocol.
        proto: Proto,
        /// Host port(s).
        port: PortRange,
    },
    /// Probe a forward three ways (outside, the host, hairpin); `ok` carries the report in
    /// [`CommandResult::forward_test`].
    TestForward {
        /// The network.
        network: String,
        /// Protocol.
        proto: Proto,
        /// Host port(s).
        port: PortRange,
    },
    /// Trace where one packet of a network's guest stops (`why`); `ok` carries the answer in
    /// [`CommandResult::why`].
    Why {
        /// What is traced.
        request: WhyRequest,
    },
    /// Run a fix `why` showed, as confirmed (each command an argument vector, run without a
    /// shell), then trace `request` again; `ok` carries the new answer in
    /// [`CommandResult::why`].
    ApplyWhyFix {
        /// What is traced again afterwards.
        request: WhyRequest,
        /// The fix's commands, exactly as shown.
        commands: Vec<Vec<String>>,
    },
}

/// The `<name>` of a network XML document, if it parses.
fn xml_name(xml: &str) -> Option<String> {
    crate::model::parse_network_xml(xml).ok().map(|d| d.name)
}

impl Command {
    /// The network the command changes, if any. Two commands on one network never run
    /// together; a preview changes nothing and has none.
    pub fn network(&self) -> Option<String> {
        match self {
            Command::StartNetwork(n)
            | Command::StopNetwork(n)
            | Command::SetAutostart(n, _)
            | Command::Undefine(n)
            | Command::StopAndUndefine(n)
            | Command::RepairNetwork(n)
            | Command::EditNetwork { name: n, .. }
            | Command::Attach { network: n, .. }
            | Command::MovePort { network: n, .. }
            | Command::PinLease { network: n, .. }
            | Command::AddForward { network: n, .. }
            | Command::RemoveForward { network: n, .. }
            | Command::TestForward { network: n, .. } => Some(n.clone()),
            Command::Why { request } | Command::ApplyWhyFix { request, .. } => {
                Some(request.network.clone())
            }
            Command::CreateNetwork { xml, .. } => xml_name(xml),
            Command::PreviewStart { .. } | Command::Detach(_) => None,
        }
    }

    fn subject(&self) -> String {
        self.network()
            .or_else(|| match self {
                Command::PreviewStart { xml } => xml_name(xml),
                _ => None,
            })
            .unwrap_or_else(|| "the new network".into())
    }

    /// A short description in the present progressive, for the spinner: "starting nat".
    pub fn doing(&self) -> String {
        let n = self.subject();
        match self {
            Command::StartNetwork(_) => format!("starting {n}"),
            Command::StopNetwork(_) => format!("stopping {n}"),
            Command::SetAutostart(_, true) => format!("enabling autostart of {n}"),
            Command::SetAutostart(_, false) => format!("disabling autostart of {n}"),
            Command::Undefine(_) => format!("undefining {n}"),
            Command::StopAndUndefine(_) => format!("stopping and undefining {n}"),
            Command::Detach(i) => format!("detaching {i}"),
            Command::MovePort { ifname, .. } => format!("moving {ifname} to {n}"),
            Command::RepairNetwork(_) => format!("repairing {n}"),
            Command::PreviewStart { .. } => format!("planning {n}"),
            Command::CreateNetwork { .. } => format!("creating {n}"),
            Command::EditNetwork { .. } => format!("applying changes to {n}"),
            Command::Attach { .. } => format!("attaching a macvtap to {n}"),
            Command::PinLease { ip, .. } => format!("pinning {ip} in {n}"),
            Command::AddForward { forward, .. } => {
                format!("adding forward {} to {n}", forward.key())
            }
            Command::RemoveForward { proto, port, .. } => {
                format!("removing forward {proto}/{port} from {n}")
            }
            Command::TestForward { proto, port, .. } => {
                format!("testing forward {proto}/{port} of {n}")
            }
            Command::Why { request } => format!("tracing {} from {n}", request.target()),
            Command::ApplyWhyFix { .. } => format!("running the fix for {n}"),
        }
    }

    /// A short imperative description, for the log: "start nat".
    pub fn describe(&self) -> String {
        let n = self.subject();
        match self {
            Command::StartNetwork(_) => format!("start {n}"),
            Command::StopNetwork(_) => format!("stop {n}"),
            Command::SetAutostart(_, true) => format!("autostart {n} on"),
            Command::SetAutostart(_, false) => format!("autostart {n} off"),
            Command::Undefine(_) => format!("undefine {n}"),
            Command::StopAndUndefine(_) => format!("stop and undefine {n}"),
            Command::Detach(i) => format!("detach {i}"),
            Command::MovePort { ifname, .. } => format!("move {ifname} to {n}"),
            Command::RepairNetwork(_) => format!("repair {n}"),
            Command::PreviewStart { .. } => format!("plan {n}"),
            Command::CreateNetwork { start: true, .. } => format!("create and start {n}"),
            Command::CreateNetwork { .. } => format!("create {n}"),
            Command::EditNetwork { .. } => format!("edit {n}"),
            Command::Attach { .. } => format!("attach a macvtap to {n}"),
            Command::PinLease { mac, ip, .. } => format!("pin {ip} to {mac} in {n}"),
            Command::AddForward { forward, .. } => format!("add forward {} to {n}", forward.key()),
            Command::RemoveForward { proto, port, .. } => {
                format!("remove forward {proto}/{port} from {n}")
            }
            Command::TestForward { proto, port, .. } => {
                format!("test forward {proto}/{port} of {n}")
            }
            Command::Why { request } => format!("why {n}: {}", request.target()),
            Command::ApplyWhyFix { commands, .. } => {
                let cmds: Vec<String> = commands
                    .iter()
                    // Quotes kept, so the log shows the words as they were run.
                    .map(|c| {
                        crate::model::why::escape_controls(&crate::model::why::Fix::command_text(c))
                    })
                    .collect();
                format!("fix for {n}: {}", cmds.join(" && "))
            }
        }
    }
}

/// The outcome of one [`Command`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandResult {
    /// The request id the command was sent with.
    pub id: u64,
    /// Whether it succeeded.
    pub ok: bool,
    /// What happened, or why it failed.
    pub message: String,
    /// The kernel's errno, when a system call failed.
    pub errno: Option<i32>,
    /// What the operator can do about a failure, for the common ones.
    pub fix: Option<String>,
    /// A forward self-test's report ([`Command::TestForward`] that succeeded).
    pub forward_test: Option<Box<ForwardTest>>,
    /// `why`'s answer ([`Command::Why`] and [`Command::ApplyWhyFix`] that succeeded).
    pub why: Option<Box<WhyOutcome>>,
}

/// Why a command failed: the message, and the errno and fix-it when there are some.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Failure {
    /// What failed and why, in plain words.
    pub message: String,
    /// The kernel's errno, when a system call failed.
    pub errno: Option<i32>,
    /// What to do about it.
    pub fix: Option<String>,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure {
            message,
            ..Failure::default()
        }
    }
}

impl From<crate::backend::BackendError> for Failure {
    fn from(e: crate::backend::BackendError) -> Self {
        Failure {
            message: e.to_string(),
            errno: e.errno(),
            fix: e.fix(),
        }
    }
}

impl CommandResult {
    /// A command that did what it was asked.
    pub fn done(id: u64, message: String) -> Self {
        CommandResult {
            id,
            ok: true,
            message,
            ..CommandResult::default()
        }
    }

    /// A command that failed.
    pub fn failed(id: u64, failure: Failure) -> Self {
        CommandResult {
            id,
            ok: false,
            message: failure.message,
            errno: failure.errno,
            fix: failure.fix,
            forward_test: None,
            why: None,
        }
    }

    /// Done or failed, from what the backend answered.
    pub fn from_outcome(id: u64, outcome: Result<String, Failure>) -> Self {
        match outcome {
            Ok(message) => Self::done(id, message),
            Err(failure) => Self::failed(id, failure),
        }
    }
}

/// Where snapshots come from and where commands go.
///
/// Every method returns at once: snapshots arrive through the `watch` channel, and a command's
/// work happens inside the returned future, which the UI runs on its own task, so a backend call
/// that takes seconds never stalls input.
pub trait DataSource: Send + Sync + 'static {
    /// The channel carrying the latest snapshot.
    fn snapshots(&self) -> watch::Receiver<Arc<Snapshot>>;
    /// Run a command; the future resolves to its result, tagged with `id`.
    fn execute(&self, id: u64, cmd: Command) -> BoxFuture<'static, CommandResult>;
    /// Run a command, reporting each step as it begins through `progress` (the UI shows the
    /// latest under its spinner and lists them in the wizard). Sources that cannot report
    /// steps keep this default, which runs [`DataSource::execute`] and reports nothing.
    fn execute_with_progress(
        &self,
        id: u64,
        cmd: Command,
        progress: ProgressSender,
    ) -> BoxFuture<'static, CommandResult> {
        let _ = progress;
        self.execute(id, cmd)
    }
    /// Change how often snapshots are taken.
    fn refresh_interval(&self, ms: u64);
}

/// One progress report: the request id and the step that just began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The request id of the running command.
    pub id: u64,
    /// The step in words, as the plan prints it: "add address 192.168.100.1/24 to sybr0".
    pub step: String,
}

/// Where a running command reports its steps. Cheap to clone; reports after the UI has gone
/// are dropped silently.
#[derive(Debug, Clone)]
pub struct ProgressSender {
    id: u64,
    tx: mpsc::UnboundedSender<Progress>,
}

impl ProgressSender {
    /// A sender for request `id` into `tx`.
    pub fn new(id: u64, tx: mpsc::UnboundedSender<Progress>) -> Self {
        Self { id, tx }
    }

    /// A sender nobody listens to (for callers without a UI).
    pub fn discard(id: u64) -> Self {
        let (tx, _) = mpsc::unbounded_channel();
        Self { id, tx }
    }

    /// Report that `step` begins.
    pub fn step(&self, step: impl Into<String>) {
        let _ = self.tx.send(Progress {
            id: self.id,
            step: step.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_tell_macvtap_networks_from_host_bridges() {
        let mode = |xml: &str| {
            let def = crate::model::parse_network_xml(xml).expect("parses");
            NetMode::of(&def).to_string()
        };
        let net = |inner: &str| format!("<network><name>n</name>{inner}</network>");
        assert_eq!(mode(&net("")), "isolated");
        assert_eq!(mode(&net("<forward mode='nat'/>")), "nat");
        assert_eq!(
            mode(&net("<forward mode='bridge'/><bridge name='br0'/>")),
            "bridge"
        );
        assert_eq!(
            mode(&net(
                "<forward mode='bridge'><interface dev='eth1'/></forward>"
            )),
            "macvtap (bridge)"
        );
        assert_eq!(
            mode(&net(
                "<forward mode='vepa'><interface dev='eth1'/></forward>"
            )),
            "macvtap (vepa)"
        );
        assert_eq!(NetMode::Unknown.to_string(), "?");
        assert_eq!(
            NetMode::Macvtap(ForwardMode::Passthrough).short(),
            "macvtap"
        );
        let span = DhcpSpan {
            start: "10.0.0.2".parse().expect("ip"),
            end: "10.0.0.9".parse().expect("ip"),
        };
        assert_eq!(span.to_string(), "10.0.0.2–10.0.0.9");
    }
}
