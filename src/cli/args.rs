//! The command line: every TUI action also exists here as a verb, most with `--json`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::model::{Section, UpdateCommand};

/// Manage and watch a KVM host's virtual networks, without libvirtd.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about, long_about = None)]
pub struct Cli {
    /// Keep every file (definitions, state, runtime) under DIR.
    #[arg(long, global = true, env = "SWITCHYARD_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    #[command(flatten)]
    pub tui: TuiArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options of the TUI (what `switchyard` with no verb opens).
#[derive(Debug, Args, Clone, Default)]
pub struct TuiArgs {
    /// Refresh interval of the TUI in milliseconds (default 1000, or the config file's).
    #[arg(long, value_name = "MS")]
    pub interval_ms: Option<u64>,
    /// Show rates in bytes/s instead of bits/s.
    #[arg(long)]
    pub bytes: bool,
    /// Theme: dark, light, high-contrast, or a file name in the config dir's themes/.
    #[arg(long)]
    pub theme: Option<String>,
    /// Config file (default: switchyard/config.toml in the user's config dir).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Show a simulated host instead of this one (changes nothing).
    #[arg(long)]
    pub demo: bool,
    /// Name guests behind veths by their network namespace without this suffix (the
    /// sandbox passes its `-PID`).
    #[arg(long, value_name = "SUFFIX", hide = true, allow_hyphen_values = true)]
    pub netns_suffix: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List networks (active ones; --all for every defined one).
    List {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Define (or redefine) a network from a libvirt network XML file ('-' for stdin).
    Define { file: PathBuf },
    /// Print a network's definition as libvirt network XML.
    Dumpxml { name: String },
    /// Replace a network's definition from a file; a running network is restarted with it,
    /// and if that fails the old definition is restored and started again.
    Edit { name: String, file: PathBuf },
    /// Reserve an address for a host (a static DHCP host in the <ip> whose subnet holds IP);
    /// a running dnsmasq reloads it live.
    ///
    /// `pin NETWORK MAC IP [--hostname NAME]`, or `pin NETWORK IP --hostname NAME` for a host
    /// known by name alone (IPv6 hosts have no MAC).
    Pin(PinArgs),
    /// Release a host's reserved address, finding the host by its MAC, its address or its
    /// host name.
    Unpin {
        network: String,
        #[arg(value_name = "MAC|IP|HOSTNAME")]
        host: String,
    },
    /// Add, delete or modify one entry of a network's definition, as `virsh net-update`
    /// does: a static DHCP host or range, a DNS host, TXT or SRV record, a forward
    /// interface or a port group.
    ///
    /// With neither --live nor --config, libvirt's default applies: --live for a running
    /// network (its definition for the next start is left as it was), --config for a stopped
    /// one. Give both to change the running network and its definition.
    Update(UpdateArgs),
    /// Remove a network's definition (it must be stopped).
    Undefine { name: String },
    /// Mark a network to start at boot (with `autostart-all`), or not with --disable.
    Autostart {
        name: String,
        #[arg(long)]
        disable: bool,
    },
    /// Start every network marked autostart (for a boot unit). With --supervise it then keeps
    /// running and starts again any network's dnsmasq that dies (with a growing pause between
    /// tries), logging each restart on stderr: the boot unit runs it that way.
    AutostartAll {
        #[arg(long)]
        supervise: bool,
        /// How often --supervise looks at the networks.
        #[arg(long, value_name = "MS", default_value_t = 2000,
              value_parser = clap::value_parser!(u64).range(100..))]
        interval_ms: u64,
    },
    /// Define a network from options, with the same defaults and checks as the wizard.
    Create(CreateArgs),
    /// Start a network: bridge, addresses, firewall, dnsmasq.
    Start {
        name: String,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Stop a network, removing everything start added.
    Stop { name: String },
    /// Show a network's DHCP leases.
    Leases {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Create a macvtap link on a network's interface pool; prints the /dev/tapN for QEMU.
    Attach {
        network: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        mac: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove a macvtap link made by attach.
    Detach { ifname: String },
    /// Move a guest's port (tap or veth) from its network's bridge to the bridge of another
    /// running network, by its interface index. Only ports on bridges switchyard made.
    MovePort {
        /// The port's interface name (as `ports` lists it).
        ifname: String,
        /// The network to move it to.
        network: String,
        /// Print what was moved as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A private world of namespaces with networks, guests and traffic, and the TUI inside it.
    /// Nothing on this machine's own network changes; everything is removed on exit.
    Sandbox {
        /// Leave the sandbox running after the TUI quits, for exploring from another terminal.
        #[arg(long)]
        keep: bool,
    },
    /// Open the TUI (the default when no verb is given).
    Tui,
    /// Every guest port (bridge ports, macvtaps) with its guest, address and counters.
    Ports {
        /// Only the ports of this network.
        network: Option<String>,
        #[arg(long)]
        json: bool,
        /// Also measure rates (bit/s, packets/s) over this many milliseconds.
        #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
        sample_ms: Option<u64>,
    },
    /// Stream port traffic for scripts: a line per port per interval, or with --json an
    /// object per interval.
    ///
    /// Text columns: UTC time, network, bridge (or macvtap parent), port, kind, state, guest,
    /// IP, guest MAC, RX bit/s, TX bit/s, RX pkt/s, TX pkt/s; "-" where unknown.
    Watch {
        /// Only the ports of this network.
        network: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "MS", default_value_t = 1000,
              value_parser = clap::value_parser!(u64).range(10..))]
        interval_ms: u64,
        /// Stop after this many intervals.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
    /// Port forwards into NAT networks: add, remove, list, test.
    #[command(
        subcommand,
        after_help = "Examples:\n  \
            switchyard forward add lab --proto tcp --port 8080 --to 192.168.122.10:80\n  \
            switchyard forward add lab --proto udp --port 5000-5009 --to-guest web\n  \
            switchyard forward list --json\n  \
            switchyard forward test lab --proto tcp --port 8080\n  \
            switchyard forward remove lab --proto tcp --port 8080"
    )]
    Forward(ForwardCmd),
    /// Check the prerequisites and say how to fix what is missing; names other firewalls'
    /// chains that would drop a running network's forwarding, DHCP or DNS.
    Doctor {
        #[arg(long)]
        json: bool,
        /// Also trace a probe (DHCP, DNS, and forwarding out) from each running network
        /// through every firewall table, as `why` does.
        #[arg(long)]
        probe: bool,
    },
    /// Where a guest's traffic stops: traces one probe packet from a throwaway port on the
    /// network's bridge through every firewall table on the host (ours, Docker's, firewalld's,
    /// ufw's…) and names the table, chain and rule that decided, with the command that opens
    /// the path for this bridge only. Nothing is changed; the probe leaves nothing behind.
    Why(WhyArgs),
}

/// Arguments of `why`.
#[derive(Debug, Args, Clone)]
pub struct WhyArgs {
    pub network: String,
    /// Where the guest's packet goes: an IPv4 address, with a port for tcp and udp (with
    /// --inbound: the guest, GUEST[:PORT]).
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub to: String,
    /// tcp, udp or icmp.
    #[arg(long, default_value = "tcp")]
    pub proto: String,
    /// Probe as this guest (by MAC or IPv4 address): its address and MAC are used when it is
    /// not on the bridge now, else a free address of the network.
    #[arg(long, value_name = "MAC|IP")]
    pub from_guest: Option<String>,
    /// Toward a guest from outside instead: --to names the guest (IPv4 address or MAC, with
    /// a port), and the probe comes over a throwaway link into the host, through the
    /// network's forward to that guest and port when there is one.
    #[arg(long)]
    pub inbound: bool,
    /// The outside address an --inbound probe comes from (default: one of 198.18.0.0/15).
    #[arg(long, value_name = "ADDR", requires = "inbound")]
    pub from: Option<String>,
    #[arg(long)]
    pub json: bool,
}

/// `forward add|remove|list|test`.
#[derive(Debug, Subcommand)]
pub enum ForwardCmd {
    /// Forward a host port (or range) of a NAT network to an address of it, or to a guest.
    /// A running network applies it at once (only its rules change).
    Add {
        network: String,
        /// tcp or udp.
        #[arg(long)]
        proto: String,
        /// The host port, or a range P-Q.
        #[arg(long, value_name = "P[-Q]")]
        port: String,
        /// The target: an address of the network, with a port (or a range as long as
        /// --port's) when it differs.
        #[arg(
            long,
            value_name = "ADDR[:PORT[-PORT]]",
            required_unless_present = "to_guest",
            conflicts_with = "to_guest"
        )]
        to: Option<String>,
        /// The target: a guest by MAC or host name, followed through its reservation (a
        /// guest with a lease but no reservation gets one for its leased address).
        #[arg(long, value_name = "MAC|HOSTNAME[:PORT]")]
        to_guest: Option<String>,
        /// Listen only on this host address (default: every address but loopback).
        #[arg(long, value_name = "HOSTADDR")]
        address: Option<String>,
        #[arg(long)]
        comment: Option<String>,
        /// Take a port the host itself serves (sshd, this SSH session's port).
        #[arg(long)]
        force: bool,
        /// Skip the self-test that follows an add to a running network (`forward test`).
        #[arg(long)]
        no_test: bool,
    },
    /// Remove a forward.
    Remove {
        network: String,
        #[arg(long)]
        proto: String,
        #[arg(long, value_name = "P[-Q]")]
        port: String,
    },
    /// List forwards with their new-connection and byte counters.
    List {
        network: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Probe a forward of a running network three ways: from outside (a throwaway namespace
    /// on a probe link), from the host itself, and from the network's bridge (hairpin).
    /// Nothing stays behind. Exits 1 when a path did not reach the guest.
    Test {
        network: String,
        /// tcp or udp.
        #[arg(long)]
        proto: String,
        /// The forward's host port or range (a range is probed at its first port).
        #[arg(long, value_name = "P[-Q]")]
        port: String,
        /// The report as JSON: each path's outcome, with counter_hit.
        #[arg(long)]
        json: bool,
    },
}

/// Arguments of `pin`: `NETWORK MAC IP`, or `NETWORK IP --hostname NAME`.
#[derive(Debug, Args, Clone, Default)]
pub struct PinArgs {
    pub network: String,
    /// The host's MAC address, or the address to reserve when the host is given by
    /// --hostname alone.
    #[arg(value_name = "MAC|IP")]
    pub first: String,
    /// The address to reserve, after a MAC.
    #[arg(value_name = "IP", required_unless_present = "hostname")]
    pub second: Option<String>,
    /// The host name dnsmasq gives the host (and finds it by, without a MAC).
    #[arg(long)]
    pub hostname: Option<String>,
    /// Take the address or the name from the host that has it, or move this host's
    /// reservation from another address; what was replaced is reported.
    #[arg(long)]
    pub replace: bool,
}

impl PinArgs {
    /// The MAC, if one was given, and the address: `MAC IP`, or `IP` alone.
    pub fn mac_and_ip(&self) -> (Option<&str>, &str) {
        match &self.second {
            Some(ip) => (Some(self.first.as_str()), ip.as_str()),
            None => (None, self.first.as_str()),
        }
    }
}

/// Arguments of `update`, in `virsh net-update`'s order: NETWORK COMMAND SECTION XML.
#[derive(Debug, Args, Clone)]
pub struct UpdateArgs {
    pub network: String,
    /// add-first, add-last (or add, the same), delete or modify.
    #[arg(value_name = "COMMAND")]
    pub command: UpdateCommand,
    /// ip-dhcp-host, ip-dhcp-range, dns-host, dns-txt, dns-srv, forward-interface or
    /// portgroup.
    #[arg(value_name = "SECTION")]
    pub section: Section,
    /// The element itself when it starts with '<' (e.g. "<host mac='…' ip='…'/>"), else a
    /// file holding it ('-' for stdin).
    #[arg(value_name = "XML")]
    pub xml: XmlSource,
    /// Which <ip> ip-dhcp-host and ip-dhcp-range change, counting every <ip> from 0.
    /// Default: the first <ip> with DHCP ranges or hosts, else the first IPv4 one, else
    /// the first IPv6 one (libvirt's choice).
    #[arg(long, value_name = "N")]
    pub parent_index: Option<usize>,
    /// Change the running network (dnsmasq and firewall follow).
    #[arg(long)]
    pub live: bool,
    /// Change the definition the network starts with next time.
    #[arg(long)]
    pub config: bool,
}

/// Where an update's XML fragment comes from: given inline (it starts with '<', as virsh
/// decides), or a file to read ('-': stdin).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XmlSource {
    /// The fragment text itself.
    Inline(String),
    /// A file holding the fragment.
    File(PathBuf),
}

impl std::str::FromStr for XmlSource {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(if s.starts_with('<') {
            XmlSource::Inline(s.to_string())
        } else {
            XmlSource::File(PathBuf::from(s))
        })
    }
}

/// Options of `create`; see the creation wizard for their meaning.
#[derive(Debug, Args, Clone, Default)]
pub struct CreateArgs {
    #[arg(long)]
    pub name: String,
    /// nat, route, isolated, open, bridge, or macvtap-bridge, private, vepa, passthrough.
    #[arg(long, default_value = "nat")]
    pub mode: String,
    /// Bridge name (default: a free sybrN).
    #[arg(long)]
    pub bridge: Option<String>,
    /// Gateway address and prefix, e.g. 192.168.100.1/24 (default: a free private /24).
    #[arg(long)]
    pub ipv4: Option<String>,
    /// DHCP range START-END, or "off".
    #[arg(long)]
    pub dhcp: Option<String>,
    /// IPv6 gateway address and prefix, or "auto" for a generated ULA /64.
    #[arg(long)]
    pub ipv6: Option<String>,
    /// Forward device for nat and route (default: any).
    #[arg(long)]
    pub forward_dev: Option<String>,
    /// Host bridge (mode bridge) or pool interface (macvtap modes); repeat for a pool.
    #[arg(long = "dev")]
    pub devs: Vec<String>,
    /// DNS domain for the guests.
    #[arg(long)]
    pub domain: Option<String>,
    /// Spanning tree on the bridge (default off, for fast first leases).
    #[arg(long)]
    pub stp: Option<bool>,
    #[arg(long)]
    pub mtu: Option<u32>,
    /// Also mark autostart.
    #[arg(long)]
    pub autostart: bool,
    /// Also start it.
    #[arg(long)]
    pub start: bool,
}
