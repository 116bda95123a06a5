//! Planning `start` and `stop` of one network (pure): the desired definition and what was
//! observed on the host give the ordered steps. Steps already satisfied on the host are left
//! out, so planning a start of a half-started network repairs exactly what is missing.

use std::collections::BTreeSet;

use ipnet::IpNet;

use super::dnsmasq::{self, DnsmasqPaths};
use super::drift::Drift;
use super::firewall::{
    legacy_networks, network_drift, shared_drift, table_drift, FirewallDrift, FirewallMode,
    FirewallNet, ObservedTable,
};
use super::steps::{BridgeSpec, Plan, Step};
use crate::model::{ForwardMode, NetworkDef};
use crate::state::{HostState, LinkKind};

/// Everything observed that planning needs, besides the netlink view.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub host: &'a HostState,
    /// Our nftables table as listed now; `None` when it does not exist.
    pub firewall: Option<&'a ObservedTable>,
    /// Firewall entries of other active networks. Planning a start or a stop only asks whether
    /// there is any (whether the table is shared), so the backend passes at most one there;
    /// drift of the whole table ([`detect_drift`]) needs them all.
    pub other_firewall: &'a [FirewallNet],
    /// Whether this network's dnsmasq is running.
    pub dnsmasq_running: bool,
    /// Current `net.ipv4.ip_forward` and `net.ipv6.conf.all.forwarding`, if readable.
    pub ipv4_forward: Option<bool>,
    pub ipv6_forward: Option<bool>,
    /// The interface index of the bridge this network's recorded start created: a bridge of
    /// that name with another index is not ours.
    pub own_bridge: Option<u32>,
}

impl Observed<'_> {
    /// The observed value of one of the forwarding sysctls of [`forwarding_keys`].
    pub fn forwarding(&self, key: &str) -> Option<bool> {
        if key == IPV4_FORWARD {
            self.ipv4_forward
        } else {
            self.ipv6_forward
        }
    }
}

/// Why a network cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("network {0} has no bridge name; define it again to get one")]
    NoBridgeName(String),
    #[error("interface {0} exists and is not a bridge")]
    NotABridge(String),
    #[error("network {network} is of mode {mode}, which switchyard cannot start")]
    Unsupported { network: String, mode: String },
    #[error("network {network} cannot start: {}", .conflicts.join("; "))]
    HostConflict {
        network: String,
        conflicts: Vec<String>,
    },
    #[error("the dnsmasq configuration cannot be written: {0}")]
    Dnsmasq(#[from] dnsmasq::RenderError),
}

/// What on the host keeps `def` from starting without taking over something that is not its
/// own (pure): a bridge of its name that this network did not create (`own_bridge` is the
/// interface index its record holds), and a subnet of it that overlaps an address or a route
/// of another interface. Mode `bridge` uses an existing host bridge on purpose and adds no
/// address to it; macvtap networks add none either: neither has conflicts.
pub fn host_conflicts(def: &NetworkDef, host: &HostState, own_bridge: Option<u32>) -> Vec<String> {
    if !def.uses_own_bridge() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let bridge = def.bridge_name().and_then(|b| host.link_by_name(b));
    let ours = bridge.filter(|l| Some(l.ifindex) == own_bridge);
    if let (Some(link), None) = (bridge, ours) {
        out.push(format!(
            "interface {} already exists and was not created by this network; switchyard \
             does not take over interfaces it did not make (choose another <bridge name>)",
            link.name
        ));
    }
    let ours_index = ours.map(|l| l.ifindex);
    for net in def.ips.iter().filter_map(|ip| ip.net()).map(|n| n.trunc()) {
        out.extend(subnet_conflicts(net, host, ours_index));
    }
    out
}

fn subnet_conflicts(net: IpNet, host: &HostState, ours: Option<u32>) -> Vec<String> {
    let name = |i: u32| {
        host.link_by_index(i)
            .map_or_else(|| format!("interface {i}"), |l| l.name.clone())
    };
    let overlaps = |other: IpNet| other.contains(&net.network()) || net.contains(&other.network());
    let mut out = Vec::new();
    for a in host.addrs.iter().filter(|a| Some(a.ifindex) != ours) {
        if overlaps(a.net.trunc()) {
            out.push(format!(
                "subnet {net} overlaps address {} on {}",
                a.net,
                name(a.ifindex)
            ));
        }
    }
    // The kernel's route for an address's own subnet was reported with the address.
    let connected = |i: Option<u32>, dest: IpNet| {
        host.addrs
            .iter()
            .any(|a| Some(a.ifindex) == i && a.net.trunc() == dest)
    };
    for r in &host.routes {
        let on_ours = r.oif.is_some() && r.oif == ours;
        if r.dest.prefix_len() == 0 || on_ours || connected(r.oif, r.dest) || !overlaps(r.dest) {
            continue;
        }
        let via = r.oif.map_or_else(|| "no interface".to_owned(), name);
        out.push(format!("subnet {net} overlaps route {} on {via}", r.dest));
    }
    out
}

/// The firewall entry of `def` on bridge `bridge`, or `None` for modes without rules.
pub fn firewall_net(def: &NetworkDef, bridge: &str) -> Option<FirewallNet> {
    let mode = match def.mode() {
        None => FirewallMode::Isolated,
        Some(ForwardMode::Nat) => FirewallMode::Nat,
        Some(ForwardMode::Route) => FirewallMode::Route,
        Some(ForwardMode::Open) => return None,
        Some(_) => return None,
    };
    let nat = def.forward.as_ref().and_then(|f| f.nat.as_ref());
    let nets = def.ips.iter().filter_map(|ip| ip.net());
    Some(FirewallNet {
        name: def.name.clone(),
        bridge: bridge.to_owned(),
        mode,
        ipv4: nets
            .clone()
            .filter_map(|n| match n {
                IpNet::V4(v) => Some(v),
                _ => None,
            })
            .collect(),
        ipv6: nets
            .filter_map(|n| match n {
                IpNet::V6(v) => Some(v),
                _ => None,
            })
            .collect(),
        forward_dev: def
            .forward
            .as_ref()
            .and_then(|f| f.dev())
            .map(str::to_owned),
        nat_ipv6: nat.and_then(|n| n.ipv6) == Some(true),
        nat_addresses: nat.and_then(|n| n.addresses),
        nat_ports: nat.and_then(|n| n.ports).unwrap_or((1024, 65535)),
        serves_dhcp_dns: dnsmasq::needs_dnsmasq(def),
        forwards: crate::model::forward::resolved(def),
    })
}

/// Plans `start` for `def`.
pub fn plan_start(
    def: &NetworkDef,
    obs: &Observed,
    paths: &DnsmasqPaths,
) -> Result<Plan, PlanError> {
    let mut steps = Vec::new();
    if def.uses_own_bridge() {
        own_bridge_steps(def, obs, paths, &mut steps)?;
    } else if def.is_host_bridge() {
        let name = def
            .bridge_name()
            .expect("is_host_bridge checked the name")
            .to_owned();
        steps.push(Step::CheckLink {
            name,
            want_bridge: true,
        });
    } else if def.is_macvtap() {
        for dev in def.forward.iter().flat_map(|f| f.interfaces.iter()) {
            steps.push(Step::CheckLink {
                name: dev.clone(),
                want_bridge: false,
            });
        }
    } else {
        return Err(PlanError::Unsupported {
            network: def.name.clone(),
            mode: def.mode_name().to_owned(),
        });
    }
    let notes = def
        .taints()
        .into_iter()
        .map(|t| {
            format!(
                "network {} is tainted ({t}): its <dnsmasq:options> go to dnsmasq unchecked",
                def.name
            )
        })
        .collect();
    Ok(Plan {
        network: def.name.clone(),
        steps,
        notes,
    })
}

fn own_bridge_steps(
    def: &NetworkDef,
    obs: &Observed,
    paths: &DnsmasqPaths,
    steps: &mut Vec<Step>,
) -> Result<(), PlanError> {
    let bridge = def
        .bridge_name()
        .ok_or_else(|| PlanError::NoBridgeName(def.name.clone()))?;
    let existing = obs.host.link_by_name(bridge);
    if existing.is_some_and(|l| l.kind != LinkKind::Bridge) {
        return Err(PlanError::NotABridge(bridge.to_owned()));
    }
    let conflicts = host_conflicts(def, obs.host, obs.own_bridge);
    if !conflicts.is_empty() {
        return Err(PlanError::HostConflict {
            network: def.name.clone(),
            conflicts,
        });
    }
    if existing.is_none() {
        steps.push(Step::CreateBridge(BridgeSpec {
            name: bridge.to_owned(),
            mac: def.mac,
            mtu: def.mtu,
            stp: def.stp(),
            forward_delay_cs: u32::try_from(def.delay_secs().saturating_mul(100))
                .unwrap_or(u32::MAX),
            ifindex: None,
        }));
        bridge_ipv6_sysctls(def, obs, bridge, steps);
    }
    if let (Some(link), Some(mtu)) = (existing, def.mtu) {
        if link.mtu != mtu {
            steps.push(Step::SetMtu {
                dev: bridge.to_owned(),
                mtu,
                previous: link.mtu,
            });
        }
    }
    if existing.is_none() {
        let shaping = def.bandwidth.as_ref().and_then(super::bandwidth::shaping);
        if let Some(shaping) = shaping {
            steps.push(Step::ShapeBridge {
                dev: bridge.to_owned(),
                shaping,
            });
        }
    }
    // Up before its addresses: an IPv4 address on an up link brings its local and prefix
    // routes at once, so every dnsmasq on the host (each subscribes to address and route
    // changes) wakes once, not once for the address and again for the link coming up. With 99 networks
    // running that is about 4 ms of other processes' work on the way of each start.
    if !existing.is_some_and(|l| l.admin_up) {
        steps.push(Step::LinkUp {
            dev: bridge.to_owned(),
        });
    }
    address_steps(def, obs, bridge, steps);
    route_steps(def, obs, bridge, steps);
    forwarding_steps(def, obs, steps);
    firewall_steps(def, obs, bridge, steps);
    dnsmasq_steps(def, obs, bridge, paths, steps)
}

/// libvirt turns IPv6 off on a bridge without IPv6 addresses, and off autoconf/RA otherwise.
fn bridge_ipv6_sysctls(def: &NetworkDef, obs: &Observed, bridge: &str, steps: &mut Vec<Step>) {
    if obs.ipv6_forward.is_none() {
        return; // IPv6 is off in this namespace: there are no per-link IPv6 sysctls.
    }
    let key = |k: &str| format!("net.ipv6.conf.{bridge}.{k}");
    let set = |k: &str, value: &str, previous: &str| Step::SetSysctl {
        key: key(k),
        value: value.into(),
        previous: previous.into(),
    };
    let has_v6 = def.ips.iter().any(|ip| ip.address.is_ipv6());
    if has_v6 || def.ipv6_no_gateway {
        steps.push(set("accept_ra", "0", "1"));
        steps.push(set("autoconf", "0", "1"));
    } else {
        steps.push(set("disable_ipv6", "1", "0"));
    }
}

fn address_steps(def: &NetworkDef, obs: &Observed, bridge: &str, steps: &mut Vec<Step>) {
    let present: Vec<IpNet> = obs
        .host
        .link_by_name(bridge)
        .map(|l| obs.host.addrs_of(l.ifindex).copied().collect())
        .unwrap_or_default();
    for net in def.ips.iter().filter_map(|ip| ip.net()) {
        if !present.contains(&net) {
            steps.push(Step::AddAddress {
                dev: bridge.to_owned(),
                addr: net,
            });
        }
    }
}

fn route_steps(def: &NetworkDef, obs: &Observed, bridge: &str, steps: &mut Vec<Step>) {
    for route in &def.routes {
        let Some(dest) = route.net().map(|n| n.trunc()) else {
            continue;
        };
        let exists = obs
            .host
            .routes
            .iter()
            .any(|r| r.dest == dest && r.gateway == Some(route.gateway));
        if !exists {
            steps.push(Step::AddRoute {
                dest,
                gateway: route.gateway,
                dev: bridge.to_owned(),
            });
        }
    }
}

/// Whether a network of this definition forwards traffic off its bridge.
pub fn forwards(def: &NetworkDef) -> bool {
    matches!(
        def.mode(),
        Some(ForwardMode::Nat | ForwardMode::Route | ForwardMode::Open)
    )
}

/// The forwarding sysctls this network needs: IPv4 always, IPv6 when it has IPv6 addresses.
pub fn forwarding_keys(def: &NetworkDef) -> Vec<&'static str> {
    if !forwards(def) {
        return Vec::new();
    }
    let mut keys = vec![IPV4_FORWARD];
    if def.ips.iter().any(|ip| ip.address.is_ipv6()) {
        keys.push(IPV6_FORWARD);
    }
    keys
}

/// The per-user limit of inotify instances, machine-wide: every dnsmasq holds one (the
/// kernel's default, 128, stopped the 79th network of a host).
pub const INOTIFY_INSTANCES: &str = "fs.inotify.max_user_instances";

/// Instances left to the rest of the machine's processes of the user the dnsmasqs are charged
/// to (possibly root, with systemd, udev and the like: on the host where the 79th network
/// failed, about 50 were in other hands). Not measured at each start, which would mean looking
/// into every process; `doctor` shows the real figures. The limit is raised once our dnsmasqs
/// would leave fewer than this.
pub const INOTIFY_RESERVE: u64 = 64;

/// The step that raises [`INOTIFY_INSTANCES`] before a dnsmasq starts, when `ours` (switchyard's
/// dnsmasqs once this one runs) plus [`INOTIFY_RESERVE`] exceeds `limit`: to twice that need, so
/// that it is raised once per doubling, not at every start. Never lowered (a stop leaves it:
/// other programs may use the room by then). `None` when it need not change, or `limit` is
/// unknown (not ours to change: see [`crate::host::sysctl::read_inotify_limit`]).
pub fn inotify_step(limit: Option<u64>, ours: u64) -> Option<Step> {
    let limit = limit?;
    let needed = ours.saturating_add(INOTIFY_RESERVE);
    (limit < needed).then(|| Step::SetSysctl {
        key: INOTIFY_INSTANCES.into(),
        value: needed.saturating_mul(2).max(limit).to_string(),
        previous: limit.to_string(),
    })
}

pub const IPV4_FORWARD: &str = "net.ipv4.ip_forward";
pub const IPV6_FORWARD: &str = "net.ipv6.conf.all.forwarding";

fn forwarding_steps(def: &NetworkDef, obs: &Observed, steps: &mut Vec<Step>) {
    for key in forwarding_keys(def) {
        let on = obs.forwarding(key);
        if on == Some(false) {
            steps.push(Step::SetSysctl {
                key: key.into(),
                value: "1".into(),
                previous: "0".into(),
            });
        }
    }
}

/// The network's rules: loaded when anything of them (or of the table's shared chains and
/// maps) differs from what they should be. Rules the first release left for this network are
/// removed first, so the old reject rules cannot outlive the move to the new layout.
fn firewall_steps(def: &NetworkDef, obs: &Observed, bridge: &str, steps: &mut Vec<Step>) {
    let Some(entry) = firewall_net(def, bridge) else {
        return;
    };
    let legacy = obs.firewall.map(legacy_networks).unwrap_or_default();
    if legacy.contains(&def.name) {
        steps.push(Step::RemoveLegacyFirewall {
            network: def.name.clone(),
        });
    }
    // Only what [`add_network`](super::firewall::add_network) repairs is judged: this
    // network's chains and elements, and the shared base chains and maps. Other networks' parts
    // (and stray chains) are `status`'s concern, so planning reads no other network.
    let mut drift = network_drift(&entry, obs.firewall);
    let shared = obs.firewall.map(shared_drift);
    // Unread (a network that is not running is planned without listing the table, whose
    // listing grows with every network): ready when another network of ours is active. If the
    // table is not as that implies, the load fails and the step falls back to repairing it.
    let shared_ready = match &shared {
        Some(drift) => drift.is_empty(),
        None => !obs.other_firewall.is_empty(),
    };
    drift.extend(shared.unwrap_or_default());
    if drift.is_empty() && !legacy.contains(&def.name) {
        return;
    }
    let others_legacy = legacy.iter().any(|n| *n != def.name);
    steps.push(Step::AddFirewall {
        net: entry,
        first: obs.other_firewall.is_empty() && !others_legacy,
        shared_ready: shared_ready && legacy.is_empty(),
    });
}

/// The steps that write a network's dnsmasq files and start it (none when it needs no dnsmasq
/// or its dnsmasq runs).
pub fn dnsmasq_steps(
    def: &NetworkDef,
    obs: &Observed,
    bridge: &str,
    paths: &DnsmasqPaths,
    steps: &mut Vec<Step>,
) -> Result<(), PlanError> {
    if !dnsmasq::needs_dnsmasq(def) || obs.dnsmasq_running {
        return Ok(());
    }
    let files = dnsmasq::render(def, bridge, paths)?;
    let hosts = paths.hosts_access();
    for (path, contents, access) in [
        (&paths.hosts_file, files.hosts, hosts),
        (&paths.addn_hosts, files.addn_hosts, hosts),
        (&paths.conf, files.conf, crate::plan::Access::Private),
    ] {
        steps.push(Step::WriteFile {
            path: path.clone(),
            contents,
            access,
        });
    }
    let serves_dhcp = def
        .ips
        .iter()
        .any(|ip| !ip.ranges().is_empty() || !ip.hosts().is_empty());
    steps.push(Step::StartDnsmasq {
        lease_file: serves_dhcp.then(|| paths.lease_file.clone()),
        network: def.name.clone(),
        conf: paths.conf.clone(),
        pid_file: paths.pid_file.clone(),
    });
    Ok(())
}

/// Plans `stop`: the undo of every step `started` recorded, newest first, skipping what the
/// bridge's removal takes with it and what another active network still needs.
///
/// `still_needed` holds the forwarding sysctl keys other active networks of ours need.
pub fn plan_stop(started: &Plan, obs: &Observed, still_needed: &BTreeSet<&str>) -> Plan {
    let deleted_bridge: Option<&str> = started.steps.iter().find_map(|s| match s {
        Step::CreateBridge(b) => Some(b.name.as_str()),
        _ => None,
    });
    let on_deleted_bridge = |dev: &str| deleted_bridge == Some(dev);
    let mut steps = Vec::new();
    for step in started.steps.iter().rev() {
        let undo = match step {
            Step::AddAddress { dev, .. }
            | Step::LinkUp { dev }
            | Step::AddRoute { dev, .. }
            | Step::SetMtu { dev, .. }
            | Step::ShapeBridge { dev, .. }
                if on_deleted_bridge(dev) =>
            {
                continue
            }
            Step::SetSysctl { key, .. }
                if deleted_bridge.is_some_and(|b| key.contains(&format!(".{b}."))) =>
            {
                continue
            }
            Step::SetSysctl { key, .. } if still_needed.contains(key.as_str()) => continue,
            // A raised limit stays (see `inotify_step`).
            Step::SetSysctl { key, .. } if key == INOTIFY_INSTANCES => continue,
            Step::AddFirewall { net, .. } => Some(Step::RemoveFirewall {
                net: net.clone(),
                delete_table: last_firewall(obs, &started.network),
            }),
            Step::LoadFirewall { .. } => Some(Step::RemoveLegacyFirewall {
                network: started.network.clone(),
            }),
            Step::CreateBridge(b) if obs.host.link_by_name(&b.name).is_none() => continue,
            other => other.undo(),
        };
        steps.extend(undo);
    }
    Plan {
        network: started.network.clone(),
        steps,
        notes: Vec::new(),
    }
}

/// Whether no network of ours but `network` has rules in the table (then stopping it removes
/// the table).
fn last_firewall(obs: &Observed, network: &str) -> bool {
    let legacy = obs.firewall.map(legacy_networks).unwrap_or_default();
    obs.other_firewall.is_empty() && legacy.iter().all(|n| n == network)
}

/// What differs between a network recorded active and the host (pure): one line per problem.
pub fn detect_drift(def: &NetworkDef, obs: &Observed) -> Vec<Drift> {
    let mut drift = Vec::new();
    if !def.uses_own_bridge() {
        if def.is_host_bridge() {
            let name = def.bridge_name().unwrap_or_default();
            if obs.host.link_by_name(name).is_none() {
                drift.push(Drift::HostBridgeMissing(name.to_owned()));
            }
        }
        return drift;
    }
    let Some(bridge) = def.bridge_name() else {
        return drift;
    };
    match obs.host.link_by_name(bridge) {
        None => drift.push(Drift::BridgeMissing(bridge.to_owned())),
        Some(link) => {
            if !link.admin_up {
                drift.push(Drift::BridgeDown(bridge.to_owned()));
            }
            if let Some(mtu) = def.mtu.filter(|m| *m != link.mtu) {
                drift.push(Drift::BridgeMtu {
                    bridge: bridge.to_owned(),
                    actual: link.mtu,
                    wanted: mtu,
                });
            }
            let present: Vec<&IpNet> = obs.host.addrs_of(link.ifindex).collect();
            for net in def.ips.iter().filter_map(|ip| ip.net()) {
                if !present.contains(&&net) {
                    drift.push(Drift::AddressMissing {
                        net,
                        bridge: bridge.to_owned(),
                    });
                }
            }
        }
    }
    drift.extend(
        firewall_drift(def, bridge, obs)
            .into_iter()
            .map(Drift::Firewall),
    );
    if dnsmasq::needs_dnsmasq(def) && !obs.dnsmasq_running {
        drift.push(Drift::DnsmasqDown);
    }
    for key in forwarding_keys(def) {
        let on = obs.forwarding(key);
        if on == Some(false) {
            drift.push(Drift::ForwardingOff(key));
        }
    }
    drift
}

#[cfg(test)]
mod tests;

/// Firewall drift of a network: its rules (the first release's, found by comment, for a
/// network started before an upgrade), and the table's shared chains and maps.
fn firewall_drift(def: &NetworkDef, bridge: &str, obs: &Observed) -> Vec<FirewallDrift> {
    let Some(entry) = firewall_net(def, bridge) else {
        return Vec::new();
    };
    let legacy = obs.firewall.map(legacy_networks).unwrap_or_default();
    if legacy.contains(&def.name) {
        return Vec::new();
    }
    let mut drift = network_drift(&entry, obs.firewall);
    if let Some(table) = obs.firewall {
        let mut active = obs.other_firewall.to_vec();
        active.push(entry);
        drift.extend(table_drift(table, &active));
    }
    drift
}
