//! `build_definition`: turn a create request (CLI `create` verb, TUI wizard) into a complete,
//! validated definition. Pure: host facts and randomness are passed in.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::def::{BridgeDef, DomainDef, ForwardDef, ForwardMode, NetworkDef};
use super::defaults::{default_dhcp_range, fill_defaults, free_ipv4_subnet, ula_prefix};
use super::ip::{DhcpDef, DhcpRange, IpDef};
use super::validate::{check_ifnames, dubious, ifname_problem, validate, Problem, Problems};

/// What the user asked for. Strings are as typed; `build_definition` parses them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateRequest {
    /// Network name.
    pub name: String,
    /// nat, route, isolated, open, bridge (existing host bridge), macvtap-bridge, private,
    /// vepa or passthrough.
    pub mode: String,
    /// Own bridge name (nat/route/isolated/open); for mode bridge, the host bridge (same as
    /// a single `devs` entry).
    pub bridge: Option<String>,
    /// `ADDR/PREFIX` of the gateway, e.g. `192.168.100.1/24`; `none` for no IPv4. When
    /// absent, own-bridge modes get a free private /24.
    pub ipv4: Option<String>,
    /// `START-END` or `off`; when absent, own-bridge modes with IPv4 get `.2 … .254`-style.
    pub dhcp: Option<String>,
    /// `ADDR/PREFIX`, `auto` (random ULA /64) or `none`.
    pub ipv6: Option<String>,
    /// Outgoing device for nat/route.
    pub forward_dev: Option<String>,
    /// macvtap device pool, or the host bridge for mode bridge.
    pub devs: Vec<String>,
    /// DNS domain served to guests.
    pub domain: Option<String>,
    /// STP on our own bridge.
    pub stp: Option<bool>,
    /// MTU in bytes.
    pub mtu: Option<u32>,
    /// Start at boot. Not part of the definition: the caller records it.
    pub autostart: bool,
}

/// What the host looks like, as observed by the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// Interface names present now. Empty means unknown: existence checks are skipped.
    pub ifnames: Vec<String>,
    /// Subnets in use on the host (addresses, routes), not to be picked or overlapped.
    pub taken_subnets: Vec<IpNet>,
}

/// The modes `create` accepts, for messages and completion.
pub const CREATE_MODES: [&str; 9] = [
    "nat",
    "route",
    "isolated",
    "open",
    "bridge",
    "macvtap-bridge",
    "private",
    "vepa",
    "passthrough",
];

/// How a request's mode maps onto the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// nat/route/open (`Some`) or isolated (`None`): our own bridge.
    Own(Option<ForwardMode>),
    /// mode bridge onto an existing host bridge.
    HostBridge,
    /// macvtap pool in this mode.
    Macvtap(ForwardMode),
}

fn parse_kind(mode: &str) -> Option<Kind> {
    Some(match mode {
        "nat" => Kind::Own(Some(ForwardMode::Nat)),
        "route" => Kind::Own(Some(ForwardMode::Route)),
        "open" => Kind::Own(Some(ForwardMode::Open)),
        "isolated" => Kind::Own(None),
        "bridge" => Kind::HostBridge,
        "macvtap-bridge" => Kind::Macvtap(ForwardMode::Bridge),
        "private" => Kind::Macvtap(ForwardMode::Private),
        "vepa" => Kind::Macvtap(ForwardMode::Vepa),
        "passthrough" => Kind::Macvtap(ForwardMode::Passthrough),
        _ => return None,
    })
}

/// Build a complete definition (defaults filled, validated against `others` and the host).
/// Every problem is returned, each naming the definition field it concerns (`--ipv4` →
/// `ip[0].address`, `--dhcp` → `ip[0].dhcp.range[0]`, `--dev` → `forward.interface[0]`, …).
/// A new network is held to more than an imported one: what [`dubious`] reports (a gateway
/// on the network address, …) is refused here.
pub fn build_definition(
    req: &CreateRequest,
    others: &[NetworkDef],
    host: &HostFacts,
    rand: &mut dyn FnMut() -> u64,
) -> Result<NetworkDef, Vec<Problem>> {
    let mut out = Problems::default();
    let Some(kind) = parse_kind(req.mode.trim()) else {
        let msg = format!(
            "unknown mode '{}' (expected one of: {})",
            req.mode,
            CREATE_MODES.join(", ")
        );
        return Err(vec![Problem::new("forward.mode", msg)]);
    };
    let mut def = NetworkDef {
        name: req.name.clone(),
        mtu: req.mtu,
        ..NetworkDef::default()
    };
    def.domain = req.domain.clone().map(|name| DomainDef {
        name,
        ..DomainDef::default()
    });
    if others.iter().any(|o| o.name == req.name) {
        let shown = req.name.escape_debug();
        out.add(
            "name",
            format!("a network named '{shown}' is already defined"),
        );
    }
    shape(&mut def, kind, req, &mut out);
    check_ifnames(&def, &mut out);
    addresses(&mut def, kind, req, others, host, rand, &mut out);
    check_host(&def, kind, host, &mut out);
    if !out.0.is_empty() {
        return Err(out.0);
    }
    fill_defaults(&mut def, others, &host.ifnames, rand);
    let mut problems = validate(&def, others);
    problems.extend(dubious(&def));
    if problems.is_empty() {
        Ok(def)
    } else {
        Err(problems)
    }
}

/// Forward element, bridge and device pool for the mode.
fn shape(def: &mut NetworkDef, kind: Kind, req: &CreateRequest, out: &mut Problems) {
    let mode = req.mode.trim();
    match kind {
        Kind::Own(fwd) => shape_own(def, fwd, req, out),
        Kind::HostBridge => {
            def.forward = Some(ForwardDef::new(ForwardMode::Bridge));
            let name = host_bridge(req, out);
            def.bridge = name.map(|name| BridgeDef {
                name: Some(name),
                ..BridgeDef::default()
            });
        }
        Kind::Macvtap(m) => {
            def.forward = Some(ForwardDef {
                interfaces: req.devs.clone(),
                ..ForwardDef::new(m)
            });
            if req.devs.is_empty() {
                let msg = format!("mode '{mode}' needs --dev with one or more host interfaces");
                out.add("forward.interface", msg);
            }
            if req.bridge.is_some() {
                let msg = format!("mode '{mode}' uses host interfaces (--dev), not a bridge");
                out.add("bridge.name", msg);
            }
        }
    }
    if !matches!(kind, Kind::Own(_)) {
        not_for_attached(req, mode, out);
    }
}

/// nat/route/open/isolated: our bridge, and for nat/route an optional outgoing device.
fn shape_own(
    def: &mut NetworkDef,
    fwd: Option<ForwardMode>,
    req: &CreateRequest,
    out: &mut Problems,
) {
    let mode = req.mode.trim();
    let mut forward = fwd.map(ForwardDef::new);
    match (&mut forward, &req.forward_dev) {
        (Some(f), Some(dev)) if f.mode != ForwardMode::Open => f.interfaces = vec![dev.clone()],
        (_, Some(_)) => {
            let msg = format!("mode '{mode}' has no outgoing device; drop --forward-dev");
            out.add("forward.dev", msg);
        }
        _ => {}
    }
    def.forward = forward;
    def.bridge = Some(BridgeDef {
        name: req.bridge.clone(),
        // Off unless asked: with STP a new port waits before it forwards.
        stp: Some(req.stp.unwrap_or(false)),
        ..BridgeDef::default()
    });
    if !req.devs.is_empty() {
        let msg =
            format!("--dev is for bridge and macvtap modes; mode '{mode}' uses --forward-dev");
        out.add("forward.interface[0]", msg);
    }
}

/// The host bridge for mode bridge: `--dev BR` or `--bridge BR` (the same if both).
fn host_bridge(req: &CreateRequest, out: &mut Problems) -> Option<String> {
    if req.devs.len() > 1 {
        out.add("forward.interface[1]", "mode 'bridge' attaches to one host bridge; for a pool of interfaces use macvtap-bridge");
    }
    match (req.devs.first(), &req.bridge) {
        (Some(dev), Some(br)) if dev != br => {
            out.add(
                "bridge.name",
                format!("--dev {dev} and --bridge {br} disagree; give the host bridge once"),
            );
            None
        }
        (Some(name), _) | (None, Some(name)) => Some(name.clone()),
        (None, None) => {
            out.add(
                "bridge.name",
                "mode 'bridge' needs --dev with the name of an existing host bridge, e.g. br0",
            );
            None
        }
    }
}

fn not_for_attached(req: &CreateRequest, mode: &str, out: &mut Problems) {
    if req.forward_dev.is_some() {
        out.add(
            "forward.dev",
            format!("mode '{mode}' takes its devices from --dev, not --forward-dev"),
        );
    }
    if req.stp.is_some() {
        out.add(
            "bridge.stp",
            format!("STP is only for nat, route, open and isolated networks, not '{mode}'"),
        );
    }
}

/// `<ip>` blocks: requested, or (own-bridge modes, IPv4) a free private /24 with DHCP.
fn addresses(
    def: &mut NetworkDef,
    kind: Kind,
    req: &CreateRequest,
    others: &[NetworkDef],
    host: &HostFacts,
    rand: &mut dyn FnMut() -> u64,
    out: &mut Problems,
) {
    let own = matches!(kind, Kind::Own(_));
    let v4 = match req.ipv4.as_deref().map(str::trim) {
        Some(s) if is_none(s) => None,
        Some(s) => parse_ipv4(s, out),
        None if own => auto_ipv4(others, host, out),
        None => None,
    };
    if let Some(net) = v4 {
        let mut ip = IpDef::with_prefix(IpAddr::V4(net.addr()), net.prefix_len());
        ip.dhcp = dhcp_for(net, req.dhcp.as_deref(), own, out);
        def.ips.push(ip);
    } else if req.dhcp.as_deref().is_some_and(|d| !is_none(d.trim())) {
        out.add("ip[0].dhcp.range[0]", "DHCP needs an IPv4 address (--ipv4)");
    }
    let v6_path = format!("ip[{}]", def.ips.len());
    let v6 = match req.ipv6.as_deref().map(str::trim) {
        None => None,
        Some(s) if is_none(s) => None,
        Some("auto") => Some(ula_prefix(rand)),
        Some(s) => parse_ipv6(s, &v6_path, out),
    };
    if let Some(net) = v6 {
        def.ips
            .push(IpDef::with_prefix(IpAddr::V6(net.addr()), net.prefix_len()));
    }
}

fn is_none(s: &str) -> bool {
    matches!(s, "none" | "off" | "no")
}

/// Taken: the host's subnets plus every other network's.
fn auto_ipv4(others: &[NetworkDef], host: &HostFacts, out: &mut Problems) -> Option<Ipv4Net> {
    let mut taken = host.taken_subnets.clone();
    taken.extend(
        others
            .iter()
            .flat_map(|o| o.ips.iter().filter_map(IpDef::net)),
    );
    let Some(subnet) = free_ipv4_subnet(&taken) else {
        out.add(
            "ip[0].address",
            "no free private /24 found in 192.168.100-254.0 or 10.100.x.0; give one with --ipv4",
        );
        return None;
    };
    let gateway = Ipv4Addr::from(u32::from(subnet.network()) + 1);
    Some(Ipv4Net::new_assert(gateway, subnet.prefix_len()))
}

fn split_prefix<'a>(
    s: &'a str,
    path: &str,
    example: &str,
    out: &mut Problems,
) -> Option<(&'a str, u8)> {
    let Some((addr, prefix)) = s.split_once('/') else {
        out.add(
            format!("{path}.prefix"),
            format!("'{s}' has no prefix length; write ADDR/PREFIX, e.g. {example}"),
        );
        return None;
    };
    match prefix.parse::<u8>() {
        Ok(p) => Some((addr, p)),
        Err(_) => {
            out.add(
                format!("{path}.prefix"),
                format!("'{prefix}' is not a prefix length"),
            );
            None
        }
    }
}

fn parse_ipv4(s: &str, out: &mut Problems) -> Option<Ipv4Net> {
    let (addr, prefix) = split_prefix(s, "ip[0]", "192.168.100.1/24", out)?;
    let Ok(addr) = addr.parse::<Ipv4Addr>() else {
        out.add(
            "ip[0].address",
            format!("'{addr}' is not an IPv4 address (write ADDR/PREFIX, e.g. 192.168.100.1/24)"),
        );
        return None;
    };
    let net = Ipv4Net::new(addr, prefix).ok();
    if net.is_none() {
        out.add(
            "ip[0].prefix",
            format!("{prefix} is out of range for IPv4 (1-32)"),
        );
    }
    net
}

fn parse_ipv6(s: &str, path: &str, out: &mut Problems) -> Option<Ipv6Net> {
    let (addr, prefix) = split_prefix(s, path, "fd00:1:2::1/64", out)?;
    let Ok(addr) = addr.parse::<Ipv6Addr>() else {
        out.add(
            format!("{path}.address"),
            format!("'{addr}' is not an IPv6 address (write ADDR/PREFIX, 'auto' or 'none')"),
        );
        return None;
    };
    let net = Ipv6Net::new(addr, prefix).ok();
    if net.is_none() {
        out.add(
            format!("{path}.prefix"),
            format!("{prefix} is out of range for IPv6 (1-128)"),
        );
    }
    net
}

/// `--dhcp START-END` / `off`; by default own-bridge networks with room get the usual range.
fn dhcp_for(net: Ipv4Net, dhcp: Option<&str>, own: bool, out: &mut Problems) -> Option<DhcpDef> {
    let range = match dhcp.map(str::trim) {
        Some(s) if is_none(s) => return None,
        Some(s) => parse_range(s, out)?,
        None if own && net.prefix_len() <= 30 => default_dhcp_range(net),
        None => return None,
    };
    let range = DhcpRange::new(IpAddr::V4(range.0), IpAddr::V4(range.1));
    Some(DhcpDef {
        ranges: vec![range],
        ..DhcpDef::default()
    })
}

fn parse_range(s: &str, out: &mut Problems) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let parsed = s
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
    if parsed.is_none() {
        out.add("ip[0].dhcp.range[0]", format!("'{s}' is not a range (write START-END, e.g. 192.168.100.2-192.168.100.254, or off)"));
    }
    parsed
}

/// Checks against the host: our subnets must not overlap the host's, our bridge must not
/// already exist, the devices we attach to must exist (when interface names are known).
fn check_host(def: &NetworkDef, kind: Kind, host: &HostFacts, out: &mut Problems) {
    for (i, ip) in def.ips.iter().enumerate() {
        let Some(net) = ip.net() else { continue };
        let taken = host.taken_subnets.iter().filter(|t| t.prefix_len() > 0);
        if let Some(t) = taken.into_iter().find(|t| overlaps(net, **t)) {
            let msg = format!(
                "{} overlaps {}, which is in use on this host",
                net.trunc(),
                t.trunc()
            );
            out.add(format!("ip[{i}].address"), msg);
        }
    }
    if !host.ifnames.is_empty() {
        check_host_devices(def, kind, &host.ifnames, out);
    }
}

/// Names that are not valid interface names are already refused; asking whether the host
/// has them would only repeat the problem.
fn check_host_devices(def: &NetworkDef, kind: Kind, ifnames: &[String], out: &mut Problems) {
    let exists = |name: &str| ifnames.iter().any(|n| n == name);
    let missing = |name: &str| ifname_problem(name).is_none() && !exists(name);
    let own = matches!(kind, Kind::Own(_));
    match def.bridge_name() {
        // `lo` has its own problem (the loopback interface, from validation).
        Some(br) if own && exists(br) && br != "lo" => {
            out.add(
                "bridge.name",
                format!("an interface named '{br}' already exists on this host"),
            );
        }
        Some(br) if kind == Kind::HostBridge && missing(br) => {
            out.add(
                "bridge.name",
                format!("there is no interface '{br}' on this host"),
            );
        }
        _ => {}
    }
    let devs = def
        .forward
        .iter()
        .flat_map(|f| f.interfaces.iter().enumerate());
    for (i, dev) in devs.filter(|(_, d)| missing(d)) {
        let path = if own {
            "forward.dev".to_string()
        } else {
            format!("forward.interface[{i}]")
        };
        out.add(path, format!("there is no interface '{dev}' on this host"));
    }
}

fn overlaps(a: IpNet, b: IpNet) -> bool {
    let (a, b) = (a.trunc(), b.trunc());
    a.contains(&b.network()) || b.contains(&a.network())
}

#[cfg(test)]
#[path = "create_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "create_schema_tests.rs"]
mod schema_tests;
