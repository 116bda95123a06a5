//! Plan steps: each one a single change to the host, with the step that undoes it.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::bandwidth::Shaping;
use super::change::FileChange;
use super::firewall::{rule_count, FirewallNet, TABLE};
use super::ports::{port_list, PortRef};

/// A bridge to create, with what the definition asks of it (made in one RTM_NEWLINK).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeSpec {
    pub name: String,
    pub mac: Option<crate::model::MacAddr>,
    pub mtu: Option<u32>,
    pub stp: bool,
    /// Forwarding delay in centiseconds (libvirt's `delay` is in seconds).
    pub forward_delay_cs: u32,
    /// The interface index the kernel gave the bridge, once created: its removal matches
    /// this index, never the name alone. (Absent in records of earlier releases.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ifindex: Option<u32>,
}

/// Who may read a file a step writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Owner only (0600): definitions, records, configs read by root.
    #[default]
    Private,
    /// Owner and this group (0640): files an unprivileged dnsmasq re-reads.
    Group(u32),
    /// Everyone may read (0644): files for tools outside switchyard.
    Public,
}

/// What carrying out a step produced, beyond success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// A link was created with this interface index (recorded, so that its removal later
    /// matches this very link and never another that took the name).
    CreatedLink {
        ifindex: u32,
    },
}

/// One change to the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Check that a link exists (host-bridge and macvtap networks); changes nothing.
    CheckLink {
        name: String,
        want_bridge: bool,
    },
    CreateBridge(BridgeSpec),
    /// Deletes a link switchyard created: the one with `ifindex` when known (a link that
    /// merely took the name is left alone), else the bridge called `name`.
    DeleteLink {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ifindex: Option<u32>,
    },
    /// Writes `value` to a sysctl; `previous` is what the undo writes back.
    SetSysctl {
        key: String,
        value: String,
        previous: String,
    },
    AddAddress {
        dev: String,
        addr: IpNet,
    },
    DelAddress {
        dev: String,
        addr: IpNet,
    },
    LinkUp {
        dev: String,
    },
    /// Shapes the bridge's traffic as `<bandwidth>` asks (tc, as libvirt does); the undo
    /// removes the shaping.
    ShapeBridge {
        dev: String,
        shaping: Shaping,
    },
    /// Removes any shaping of the bridge.
    UnshapeBridge {
        dev: String,
    },
    /// Sets a link's MTU (a repair of a bridge whose MTU moved); the undo sets `previous`.
    SetMtu {
        dev: String,
        mtu: u32,
        previous: u32,
    },
    LinkDown {
        dev: String,
    },
    AddRoute {
        dest: IpNet,
        gateway: IpAddr,
        dev: String,
    },
    DelRoute {
        dest: IpNet,
        gateway: IpAddr,
        dev: String,
    },
    /// Makes this network's chains and verdict-map elements in our nftables table exactly
    /// what they should be: one JSON transaction, idempotent, that touches nothing of the other
    /// networks. `first`: no other network of ours had rules when it was planned, so its undo
    /// removes the whole table. `shared_ready`: the table's base chains and maps were what
    /// they should be when it was planned, so the transaction leaves them alone
    /// ([`join_network`](crate::plan::firewall::join_network)).
    AddFirewall {
        net: FirewallNet,
        #[serde(default)]
        first: bool,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        shared_ready: bool,
    },
    /// Removes this network's chains and elements; with `delete_table` (no other network of
    /// ours has rules left), the whole table.
    RemoveFirewall {
        net: FirewallNet,
        delete_table: bool,
    },
    /// Removes the rules the first release's one-script table held for `network` (found by
    /// their comment), and that table's chains once they are empty.
    RemoveLegacyFirewall {
        network: String,
    },
    /// Records of the first release: it replaced the whole table with `script`. Never planned
    /// any more; a stop turns it into [`Step::RemoveLegacyFirewall`].
    LoadFirewall {
        script: String,
        previous: String,
    },
    WriteFile {
        path: PathBuf,
        contents: String,
        #[serde(default)]
        access: Access,
    },
    RemoveFile {
        path: PathBuf,
    },
    /// Starts the network's dnsmasq; its lease file, if new, is made first, readable by root
    /// only (it holds the guests' MACs and names).
    StartDnsmasq {
        network: String,
        conf: PathBuf,
        pid_file: PathBuf,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lease_file: Option<PathBuf>,
    },
    StopDnsmasq {
        network: String,
        pid_file: PathBuf,
    },
    /// Writes the guest ports now on the bridge to `path`, so the next start puts them back.
    RememberPorts {
        path: PathBuf,
        ports: Vec<PortRef>,
    },
    /// Puts these guest ports (each the very link that was there) on `bridge`.
    AttachPorts {
        bridge: String,
        ports: Vec<PortRef>,
    },
    /// Moves one guest port (the very link: index, name and MAC) from bridge `from` to bridge
    /// `to`, each named and known by its interface index; a port no longer on `from`, or a
    /// `to` that is not that bridge any more, is refused, never guessed at.
    MovePort {
        port: PortRef,
        from: String,
        from_index: u32,
        to: String,
        to_index: u32,
    },
    /// A running network's rules from `old` to `new`, in one transaction (a live change).
    ReplaceFirewall {
        old: FirewallNet,
        new: FirewallNet,
    },
    /// Rewrites a running dnsmasq's files, then makes it re-read them: SIGHUP for the hosts
    /// files, a restart (its leases kept in the lease file) when its configuration changed.
    UpdateDnsmasq {
        network: String,
        conf: PathBuf,
        pid_file: PathBuf,
        files: Vec<FileChange>,
        restart: bool,
    },
}

impl Step {
    /// The step that reverses this one, if it changes anything.
    pub fn undo(&self) -> Option<Step> {
        use Step::*;
        Some(match self {
            CheckLink { .. } => return None,
            CreateBridge(spec) => DeleteLink {
                name: spec.name.clone(),
                ifindex: spec.ifindex,
            },
            DeleteLink { .. } => return None,
            SetSysctl {
                key,
                value,
                previous,
            } => SetSysctl {
                key: key.clone(),
                value: previous.clone(),
                previous: value.clone(),
            },
            AddAddress { dev, addr } => DelAddress {
                dev: dev.clone(),
                addr: *addr,
            },
            DelAddress { dev, addr } => AddAddress {
                dev: dev.clone(),
                addr: *addr,
            },
            LinkUp { dev } => LinkDown { dev: dev.clone() },
            ShapeBridge { dev, .. } => UnshapeBridge { dev: dev.clone() },
            UnshapeBridge { .. } => return None,
            SetMtu { dev, mtu, previous } => SetMtu {
                dev: dev.clone(),
                mtu: *previous,
                previous: *mtu,
            },
            LinkDown { dev } => LinkUp { dev: dev.clone() },
            AddRoute { dest, gateway, dev } => DelRoute {
                dest: *dest,
                gateway: *gateway,
                dev: dev.clone(),
            },
            DelRoute { dest, gateway, dev } => AddRoute {
                dest: *dest,
                gateway: *gateway,
                dev: dev.clone(),
            },
            AddFirewall { net, first, .. } => RemoveFirewall {
                net: net.clone(),
                delete_table: *first,
            },
            RemoveFirewall { .. } | RemoveLegacyFirewall { .. } => return None,
            LoadFirewall { script, previous } => LoadFirewall {
                script: previous.clone(),
                previous: script.clone(),
            },
            WriteFile { path, .. } => RemoveFile { path: path.clone() },
            RemoveFile { .. } => return None,
            StartDnsmasq {
                network, pid_file, ..
            } => StopDnsmasq {
                network: network.clone(),
                pid_file: pid_file.clone(),
            },
            StopDnsmasq { .. } | RememberPorts { .. } | AttachPorts { .. } => return None,
            MovePort {
                port,
                from,
                from_index,
                to,
                to_index,
            } => MovePort {
                port: port.clone(),
                from: to.clone(),
                from_index: *to_index,
                to: from.clone(),
                to_index: *from_index,
            },
            ReplaceFirewall { old, new } => ReplaceFirewall {
                old: new.clone(),
                new: old.clone(),
            },
            UpdateDnsmasq {
                network,
                conf,
                pid_file,
                files,
                restart,
            } => UpdateDnsmasq {
                network: network.clone(),
                conf: conf.clone(),
                pid_file: pid_file.clone(),
                files: files.iter().map(FileChange::reversed).collect(),
                restart: *restart,
            },
        })
    }

    /// This step as carried out: a created bridge learns its interface index.
    pub fn with_outcome(self, outcome: Outcome) -> Step {
        match (self, outcome) {
            (Step::CreateBridge(mut spec), Outcome::CreatedLink { ifindex }) => {
                spec.ifindex = Some(ifindex);
                Step::CreateBridge(spec)
            }
            (step, _) => step,
        }
    }

    /// A short name for the kind of step, used by fault injection and progress display.
    pub fn kind(&self) -> &'static str {
        use Step::*;
        match self {
            CheckLink { .. } => "check-link",
            CreateBridge(_) => "create-bridge",
            DeleteLink { .. } => "delete-link",
            SetSysctl { .. } => "set-sysctl",
            AddAddress { .. } => "add-address",
            DelAddress { .. } => "del-address",
            LinkUp { .. } => "link-up",
            SetMtu { .. } => "set-mtu",
            ShapeBridge { .. } => "shape-bridge",
            UnshapeBridge { .. } => "unshape-bridge",
            LinkDown { .. } => "link-down",
            AddRoute { .. } => "add-route",
            DelRoute { .. } => "del-route",
            AddFirewall { .. } => "add-firewall",
            RemoveFirewall { .. } => "remove-firewall",
            RemoveLegacyFirewall { .. } => "remove-legacy-firewall",
            LoadFirewall { .. } => "load-firewall",
            WriteFile { .. } => "write-file",
            RemoveFile { .. } => "remove-file",
            StartDnsmasq { .. } => "start-dnsmasq",
            StopDnsmasq { .. } => "stop-dnsmasq",
            RememberPorts { .. } => "remember-ports",
            ReplaceFirewall { .. } => "replace-firewall",
            UpdateDnsmasq { .. } => "update-dnsmasq",
            AttachPorts { .. } => "attach-ports",
            MovePort { .. } => "move-port",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Step::*;
        match self {
            CheckLink {
                name,
                want_bridge: true,
            } => write!(f, "check that bridge {name} exists"),
            CheckLink { name, .. } => write!(f, "check that interface {name} exists"),
            CreateBridge(b) => {
                write!(f, "create bridge {}", b.name)?;
                if let Some(mac) = &b.mac {
                    write!(f, " mac {}", mac)?;
                }
                if let Some(mtu) = b.mtu {
                    write!(f, " mtu {mtu}")?;
                }
                let stp = if b.stp { "on" } else { "off" };
                write!(f, " stp {stp} forward-delay {}cs", b.forward_delay_cs)
            }
            DeleteLink { name, ifindex } => match ifindex {
                Some(i) => write!(f, "delete link {name} (index {i})"),
                None => write!(f, "delete link {name}"),
            },
            SetSysctl {
                key,
                value,
                previous,
            } => {
                write!(f, "sysctl {key}={value} (was {previous})")
            }
            AddAddress { dev, addr } => write!(f, "add address {addr} to {dev}"),
            DelAddress { dev, addr } => write!(f, "remove address {addr} from {dev}"),
            LinkUp { dev } => write!(f, "set {dev} up"),
            ShapeBridge { dev, shaping } => {
                write!(f, "shape the traffic of {dev} with tc:")?;
                if let Some(r) = shaping.inbound {
                    write!(f, " to the guests at {} kB/s", r.average)?;
                }
                if let Some(r) = shaping.outbound {
                    write!(f, " from the guests at {} kB/s", r.average)?;
                }
                Ok(())
            }
            UnshapeBridge { dev } => write!(f, "remove the traffic shaping of {dev}"),
            SetMtu { dev, mtu, previous } => {
                write!(f, "set the MTU of {dev} to {mtu} (was {previous})")
            }
            LinkDown { dev } => write!(f, "set {dev} down"),
            AddRoute { dest, gateway, dev } => {
                write!(f, "add route {dest} via {gateway} dev {dev}")
            }
            DelRoute { dest, gateway, dev } => {
                write!(f, "remove route {dest} via {gateway} dev {dev}")
            }
            AddFirewall { net, .. } => write!(
                f,
                "load the nftables chains of network {} ({} rules)",
                net.name,
                rule_count(net)
            ),
            RemoveFirewall {
                net,
                delete_table: true,
            } => write!(
                f,
                "remove the nftables chains of network {} and the table {TABLE}",
                net.name
            ),
            RemoveFirewall { net, .. } => {
                write!(f, "remove the nftables chains of network {}", net.name)
            }
            RemoveLegacyFirewall { network } => write!(
                f,
                "remove the previous release's nftables rules of network {network}"
            ),
            LoadFirewall { script, .. } => {
                let rules = script.lines().filter(|l| l.contains("comment")).count();
                write!(f, "load nftables table {TABLE} ({rules} rules)")
            }
            WriteFile { path, .. } => write!(f, "write {}", path.display()),
            RemoveFile { path } => write!(f, "remove {}", path.display()),
            StartDnsmasq { network, conf, .. } => {
                write!(f, "start dnsmasq for {network} with {}", conf.display())
            }
            StopDnsmasq { network, .. } => write!(f, "stop dnsmasq of {network}"),
            RememberPorts { ports, .. } => write!(
                f,
                "remember {} guest port{} to put back at the next start: {}",
                ports.len(),
                if ports.len() == 1 { "" } else { "s" },
                port_list(ports)
            ),
            AttachPorts { bridge, ports } => {
                write!(f, "put guest ports back on {bridge}: {}", port_list(ports))
            }
            MovePort { port, from, to, .. } => write!(f, "move {port} from {from} to {to}"),
            ReplaceFirewall { new, .. } => write!(
                f,
                "replace the nftables chains of network {} ({} rules)",
                new.name,
                rule_count(new)
            ),
            UpdateDnsmasq {
                network,
                files,
                restart,
                ..
            } => {
                let changed = files.iter().filter(|c| c.contents != c.previous).count();
                let how = if *restart {
                    "restart it (leases are kept)"
                } else {
                    "reload it (SIGHUP)"
                };
                write!(
                    f,
                    "rewrite {changed} dnsmasq file(s) of {network} and {how}"
                )
            }
        }
    }
}

/// An ordered list of steps for one network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub network: String,
    pub steps: Vec<Step>,
    /// What the operator should know before applying it (a tainted definition, …), shown above
    /// the steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for note in &self.notes {
            writeln!(f, "  ! {note}")?;
        }
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>2}. {step}", i + 1)?;
        }
        Ok(())
    }
}
