//! `why`: where a running network's guest traffic stops, traced in the kernel (see
//! [`crate::host::trace`]) and read by [`crate::model::why`].

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ipnet::{IpNet, Ipv4Net};

use super::{Backend, BackendError};
use crate::host::error::HostError;
use crate::host::trace::{Attach, TraceRequest};
use crate::host::Host;
use crate::model::why::{self, Context, Direction, Need, Probe, Ruleset, WhyProto, WhyReport};
use crate::model::{self, MacAddr, NetworkDef, Problem};
use crate::state::Neighbour;

/// What `why` is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhyRequest {
    pub network: String,
    /// Outbound: where the guest's packet goes. Inbound: the guest's address, unless
    /// `guest` names it.
    pub to: Ipv4Addr,
    pub port: Option<u16>,
    pub proto: WhyProto,
    /// A guest by MAC or IPv4 address: outbound, its address (and MAC) are the probe's when
    /// it is absent from the bridge; inbound, the guest the probe goes to.
    pub from_guest: Option<String>,
    /// Toward a guest from outside the host (through a forward when one leads to it).
    pub inbound: bool,
    /// Inbound: the outside address the probe comes from.
    pub from: Option<Ipv4Addr>,
}

impl WhyRequest {
    /// What is traced, in words: "tcp to 203.0.113.1:443" (inbound: "tcp inbound to …"; an
    /// icmp probe has no port).
    pub fn target(&self) -> String {
        let dir = if self.inbound { " inbound" } else { "" };
        match self.port {
            Some(p) if self.proto != WhyProto::Icmp => {
                format!("{}{dir} to {}:{p}", self.proto.as_str(), self.to)
            }
            _ => format!("{}{dir} to {}", self.proto.as_str(), self.to),
        }
    }
}

/// The outside probe link's subnet: in 198.18.0.0/15, set aside for benchmarks (RFC 2544),
/// so it is nobody's real address.
fn outside_link() -> Ipv4Net {
    let n = (crate::host::random_u64() % 16_384) as u32;
    let base = u32::from(Ipv4Addr::new(198, 18, 0, 0)) + n * 4;
    Ipv4Net::new(Ipv4Addr::from(base + 1), 30).expect("a /30")
}

/// `why`'s answer, and what the probe was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhyOutcome {
    pub report: WhyReport,
    /// The probe's source address on the network.
    pub from: Ipv4Addr,
    /// Said beside the report (the guest was present, so a free address stood in).
    pub notes: Vec<String>,
}

/// How long the probe's trace is waited for.
pub const TRACE_TIMEOUT: Duration = Duration::from_millis(2000);

fn invalid(field: &str, text: String) -> BackendError {
    BackendError::Invalid(vec![Problem::new(field, text)])
}

impl<H: Host> Backend<H> {
    /// Traces one packet of `req` from a throwaway port on the network's bridge and says
    /// where it stopped and what opens the path. Holds the store lock meanwhile (the tracer's
    /// chains live in our table, which start and stop change).
    pub async fn why(&self, req: &WhyRequest) -> Result<WhyOutcome, BackendError> {
        self.load_def(&req.network)?;
        let _lock = self.store.lock()?;
        let rec = self
            .record(&req.network)?
            .ok_or_else(|| BackendError::NotActive(req.network.clone()))?;
        let def = model::parse_network_xml(&rec.def_xml)?;
        let (bridge, gateway, subnet) = bridge_and_subnet(&def)?;
        let neighbours = self.host().dump_neighbours().await.unwrap_or_default();
        let leases = self.leases_of(&req.network);
        let mut notes = Vec::new();
        if req.inbound {
            return self
                .why_inbound(req, &def, bridge, subnet, &leases, notes)
                .await;
        }
        let guest = match &req.from_guest {
            Some(g) => Some(resolve_guest(g, &def, &leases)?),
            None => None,
        };
        let taken = taken_addresses(&def, &leases, &neighbours);
        let (src, mac) = match guest {
            Some((ip, mac)) if !taken_by_neighbour(ip, &neighbours) => (ip, mac),
            Some((ip, _)) => {
                notes.push(format!(
                    "guest {ip} is on the bridge now: the probe came from a free address \
                     instead"
                ));
                (
                    free_address(subnet, gateway, &taken).ok_or_else(no_room)?,
                    None,
                )
            }
            None => (
                free_address(subnet, gateway, &taken).ok_or_else(no_room)?,
                None,
            ),
        };
        let probe = Probe {
            direction: Direction::Outbound,
            proto: req.proto,
            src,
            dst: req.to,
            dport: req.port,
            bridge,
            subnet,
            guest_port: None,
        };
        let attach = Attach::Bridge { gateway, mac };
        // Another guest on the bridge: switched below the IP hooks unless br_netfilter
        // sends it through them, and then its trace comes as fast as any.
        let timeout = if subnet.contains(&req.to) && req.to != gateway {
            Duration::from_millis(500)
        } else {
            TRACE_TIMEOUT
        };
        self.trace_and_read(probe, attach, timeout, notes).await
    }

    /// Runs a fix the operator confirmed (the commands of a [`why::Fix`], as they were
    /// shown), then traces `req` again and returns the new answer. Nothing runs unless the
    /// network is running and every command passes [`why::check_fix`]; a command that fails
    /// stops the rest, and its error (with the program's stderr) is returned without a
    /// second trace.
    pub async fn apply_why_fix(
        &self,
        commands: &[Vec<String>],
        req: &WhyRequest,
    ) -> Result<WhyOutcome, BackendError> {
        self.load_def(&req.network)?;
        if self.record(&req.network)?.is_none() {
            return Err(BackendError::NotActive(req.network.clone()));
        }
        why::check_fix(commands).map_err(|e| invalid("fix", e))?;
        self.host().run_fix(commands).await?;
        self.why(req).await
    }

    /// `why --inbound`: a probe from a link of its own into the host (as from outside) to
    /// the guest, through the forward that leads to it when there is one.
    async fn why_inbound(
        &self,
        req: &WhyRequest,
        def: &NetworkDef,
        bridge: String,
        subnet: Ipv4Net,
        leases: &[crate::telemetry::Lease],
        mut notes: Vec<String>,
    ) -> Result<WhyOutcome, BackendError> {
        let guest = match &req.from_guest {
            Some(g) => resolve_guest(g, def, leases)?.0,
            None => req.to,
        };
        let link = outside_link();
        let src = req
            .from
            .unwrap_or_else(|| Ipv4Addr::from(u32::from(link.addr()) + 1));
        if subnet.contains(&src) {
            return Err(invalid(
                "from",
                format!("{src} is on the network itself: give an outside address"),
            ));
        }
        let port = req.port;
        // A forward of this protocol whose target is the guest (and port): the probe goes to
        // its host port on the host's address on the probe link.
        let proto = match req.proto {
            WhyProto::Tcp => Some(model::Proto::Tcp),
            WhyProto::Udp => Some(model::Proto::Udp),
            WhyProto::Icmp => None,
        };
        let forward = model::forward::forwards(def)
            .unwrap_or_default()
            .into_iter()
            .find(|f| {
                Some(f.proto) == proto
                    && model::forward::target_address(def, f) == Some(guest)
                    && port.is_some_and(|p| {
                        let to = f.to_port.unwrap_or(f.port);
                        to.first <= p && p <= to.last
                    })
            });
        let guest_port = forward.as_ref().and(port);
        let (dst, dport) = match &forward {
            Some(f) => {
                let to = f.to_port.unwrap_or(f.port);
                let host_port = f.port.first + (port.unwrap_or(to.first) - to.first);
                let at = f.address.unwrap_or(link.addr());
                notes.push(format!(
                    "through the forward of {} port {host_port} on {at}",
                    f.proto.as_str()
                ));
                (at, Some(host_port))
            }
            None => (guest, port),
        };
        let probe = Probe {
            direction: Direction::Inbound,
            proto: req.proto,
            src,
            dst,
            dport,
            bridge,
            subnet,
            guest_port,
        };
        if req.from.is_some() {
            notes.push(format!(
                "for the probe's moment the host routed {src} to the probe link"
            ));
        }
        let mut out = self
            .trace_and_read(probe, Attach::Outside { host: link }, TRACE_TIMEOUT, notes)
            .await?;
        if let (None, Some(fix)) = (&forward, out.report.fix.as_mut()) {
            if matches!(
                def.forward.as_ref().map(|f| f.mode),
                Some(model::ForwardMode::Nat)
            ) {
                fix.push_note(&format!(
                    "; a NAT network's guest is reached from outside through a port forward: \
                     switchyard forward add {} --proto {} --port {} --to {guest}",
                    why::shell_quote(&req.network),
                    req.proto.as_str(),
                    port.unwrap_or(9)
                ));
            }
        }
        Ok(out)
    }

    /// Runs the traced probe and reads the trace.
    async fn trace_and_read(
        &self,
        probe: Probe,
        attach: Attach,
        timeout: Duration,
        mut notes: Vec<String>,
    ) -> Result<WhyOutcome, BackendError> {
        let src = probe.src;
        let subnet = probe.subnet;
        let capture = self
            .host()
            .trace_probe(TraceRequest {
                probe: probe.clone(),
                attach: attach.clone(),
                timeout,
                hold_before_send: false,
            })
            .await?;
        let ruleset = Ruleset::parse(&capture.ruleset_json).map_err(|e| HostError::Other {
            op: "read nft's listing".into(),
            errno: None,
            message: e,
        })?;
        let events: Vec<_> = capture
            .lines
            .iter()
            .filter_map(|l| why::parse_trace_line(l, &ruleset))
            .collect();
        let events = why::probe_events(&events);
        let outbound = matches!(attach, Attach::Bridge { .. });
        if events.is_empty() && outbound && subnet.contains(&probe.dst) && !capture.br_netfilter {
            // Guest to guest on the bridge, without br_netfilter: switched at layer 2, past
            // every IP hook (only bridge-family tables could stop it, and they are not traced).
            notes.push(format!(
                "{} is on the network itself: the bridge switches the packet without passing \
                 the IP firewall hooks (br_netfilter is off); bridge-family tables were not \
                 traced; whether a guest answers at that address was not checked",
                probe.dst
            ));
            return Ok(WhyOutcome {
                report: WhyReport {
                    verdict: why::Verdict::Delivered,
                    by: None,
                    path: Vec::new(),
                    fix: None,
                },
                from: src,
                notes,
            });
        }
        if events.is_empty() {
            return Err(HostError::Other {
                op: "trace".into(),
                errno: None,
                message: format!(
                    "the probe from {src} never reached the host's IP layer within {} ms (a \
                     bridge port still learning under STP, or a bridge/netdev table dropping \
                     it before the trace starts)",
                    timeout.as_millis()
                ),
            }
            .into());
        }
        let ctx = Context {
            ruleset,
            legacy: capture.legacy,
            br_netfilter: capture.br_netfilter,
            ip_forward: capture.ip_forward,
        };
        Ok(WhyOutcome {
            report: why::report(&events, &probe, &ctx),
            from: src,
            notes,
        })
    }

    /// Foreign chains that would drop each running network's forwarding, DHCP or DNS, read
    /// from the ruleset (`doctor`): `(network, bridge, blockers)`.
    pub async fn blocking_chains(
        &self,
    ) -> Result<Vec<(String, String, Vec<why::Blocker>)>, BackendError> {
        let json = self.host().nft_ruleset().await?.to_string();
        let ruleset = Ruleset::parse(&json).map_err(|e| HostError::Other {
            op: "read nft's listing".into(),
            errno: None,
            message: e,
        })?;
        let mut out = Vec::new();
        for name in self.store.names()? {
            let Some(rec) = self.record(&name).ok().flatten() else {
                continue;
            };
            let Ok(def) = model::parse_network_xml(&rec.def_xml) else {
                continue;
            };
            let Some(bridge) = def.bridge.as_ref().and_then(|b| b.name.clone()) else {
                continue;
            };
            let mut needs = Vec::new();
            if def.forward.is_some() {
                needs.push(Need::Forward);
            }
            if def
                .ips
                .iter()
                .any(|ip| ip.address.is_ipv4() && !ip.ranges().is_empty())
            {
                needs.push(Need::Dhcp);
            }
            needs.push(Need::Dns);
            let found = why::blockers(&ruleset, &bridge, &needs);
            out.push((name, bridge, found));
        }
        Ok(out)
    }

    /// The definition a running network runs with.
    pub fn live_def(&self, name: &str) -> Result<NetworkDef, BackendError> {
        let rec = self
            .record(name)?
            .ok_or_else(|| BackendError::NotActive(name.to_owned()))?;
        Ok(model::parse_network_xml(&rec.def_xml)?)
    }

    /// The network's current leases (empty when they cannot be read).
    fn leases_of(&self, network: &str) -> Vec<crate::telemetry::Lease> {
        let path = self.live_dnsmasq_paths(network).lease_file;
        self.host()
            .read_text(&path)
            .ok()
            .flatten()
            .map(|t| crate::telemetry::leases::parse_leases(&t).leases)
            .unwrap_or_default()
    }
}

fn no_room() -> BackendError {
    invalid(
        "from",
        "no free address is left on the network for the probe".into(),
    )
}

/// The network's bridge, gateway address and IPv4 subnet.
fn bridge_and_subnet(def: &NetworkDef) -> Result<(String, Ipv4Addr, Ipv4Net), BackendError> {
    let bridge = def
        .bridge
        .as_ref()
        .and_then(|b| b.name.clone())
        .ok_or_else(|| invalid("bridge", "the network has no bridge of its own".into()))?;
    let ip = def
        .ips
        .iter()
        .find(|ip| ip.address.is_ipv4())
        .ok_or_else(|| invalid("ip", "the network has no IPv4 address".into()))?;
    let (IpAddr::V4(gw), Some(prefix)) = (ip.address, ip.prefix_len()) else {
        return Err(invalid("ip", "the network has no IPv4 prefix".into()));
    };
    let subnet = Ipv4Net::new(gw, prefix)
        .map_err(|e| invalid("ip", e.to_string()))?
        .trunc();
    Ok((bridge, gw, subnet))
}

/// A guest given as an IPv4 address or a MAC: its address (from a reservation or a lease)
/// and MAC, when known.
fn resolve_guest(
    text: &str,
    def: &NetworkDef,
    leases: &[crate::telemetry::Lease],
) -> Result<(Ipv4Addr, Option<[u8; 6]>), BackendError> {
    if let Ok(ip) = text.parse::<Ipv4Addr>() {
        let mac = def
            .ips
            .iter()
            .flat_map(|i| i.hosts())
            .find(|h| h.ip == Some(IpAddr::V4(ip)))
            .and_then(|h| h.mac)
            .map(|m| m.0)
            .or_else(|| {
                leases
                    .iter()
                    .find(|l| l.ip == IpAddr::V4(ip))
                    .and_then(|l| l.mac.as_deref()?.parse::<MacAddr>().ok())
                    .map(|m| m.0)
            });
        return Ok((ip, mac));
    }
    let mac: MacAddr = text.parse().map_err(|_| {
        invalid(
            "from-guest",
            format!(
                "'{}' is neither a MAC nor an IPv4 address",
                text.escape_debug()
            ),
        )
    })?;
    let reserved = def
        .ips
        .iter()
        .flat_map(|i| i.hosts())
        .find(|h| h.mac == Some(mac))
        .and_then(|h| h.ip);
    let leased = leases
        .iter()
        .find(|l| l.mac.as_deref().and_then(|m| m.parse::<MacAddr>().ok()) == Some(mac))
        .map(|l| l.ip);
    match reserved.or(leased) {
        Some(IpAddr::V4(ip)) => Ok((ip, Some(mac.0))),
        _ => Err(invalid(
            "from-guest",
            format!("guest {mac} has no IPv4 reservation or lease on this network"),
        )),
    }
}

/// Addresses the probe must not take: reserved, leased, or seen on the wire.
fn taken_addresses(
    def: &NetworkDef,
    leases: &[crate::telemetry::Lease],
    neighbours: &[Neighbour],
) -> BTreeSet<Ipv4Addr> {
    let mut taken = BTreeSet::new();
    for ip in def.ips.iter().flat_map(|i| i.hosts()).filter_map(|h| h.ip) {
        if let IpAddr::V4(v4) = ip {
            taken.insert(v4);
        }
    }
    for l in leases {
        if let IpAddr::V4(v4) = l.ip {
            taken.insert(v4);
        }
    }
    for n in neighbours {
        if let Neighbour::Ip {
            ip: IpAddr::V4(v4), ..
        } = n
        {
            taken.insert(*v4);
        }
    }
    taken
}

fn taken_by_neighbour(ip: Ipv4Addr, neighbours: &[Neighbour]) -> bool {
    neighbours
        .iter()
        .any(|n| matches!(n, Neighbour::Ip { ip: IpAddr::V4(v4), mac: Some(_), .. } if *v4 == ip))
}

/// The highest address of the subnet that is neither the gateway, nor taken, nor the
/// broadcast (the DHCP range usually starts low, so the top is the least likely in use).
pub fn free_address(
    subnet: Ipv4Net,
    gateway: Ipv4Addr,
    taken: &BTreeSet<Ipv4Addr>,
) -> Option<Ipv4Addr> {
    let net = IpNet::V4(subnet);
    let first = u32::from(subnet.network());
    let last = u32::from(subnet.broadcast());
    (first.saturating_add(1)..last)
        .rev()
        .take(4096)
        .map(Ipv4Addr::from)
        .find(|a| *a != gateway && !taken.contains(a) && net.contains(&IpAddr::V4(*a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_address_skips_gateway_taken_and_broadcast() {
        let net: Ipv4Net = "192.0.2.0/29".parse().expect("net");
        let gw: Ipv4Addr = "192.0.2.1".parse().expect("gw");
        let mut taken = BTreeSet::new();
        assert_eq!(
            free_address(net, gw, &taken),
            Some("192.0.2.6".parse().expect("ip"))
        );
        taken.insert("192.0.2.6".parse().expect("ip"));
        assert_eq!(
            free_address(net, gw, &taken),
            Some("192.0.2.5".parse().expect("ip"))
        );
        let tiny: Ipv4Net = "192.0.2.0/30".parse().expect("net");
        let mut all = BTreeSet::new();
        all.insert("192.0.2.2".parse().expect("ip"));
        assert_eq!(free_address(tiny, gw, &all), None);
    }
}
