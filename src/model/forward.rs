//! Port forwards of a NAT network (pure): a host port (or range) DNAT'ed to an address of the
//! network, or to a pinned guest so the forward follows the guest's reservation.
//!
//! Forwards are stored inside the definition, in `<metadata>` under switchyard's own XML
//! namespace ([`FORWARDS_NS`]), which libvirt's schema allows (any namespaced element) and
//! keeps: `dumpxml` stays valid, and forwards persist, restart and autostart with the network.
//!
//! ```xml
//! <metadata>
//!   <switchyard:forwards xmlns:switchyard="https://switchyard.dev/xmlns/forwards/1">
//!     <switchyard:forward proto="tcp" port="8080" to="192.168.100.10" to-port="80"/>
//!     <switchyard:forward proto="udp" port="5000-5009" guest="52:54:00:12:34:56"/>
//!   </switchyard:forwards>
//! </metadata>
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net};
use serde::{Deserialize, Serialize};

use super::def::{ForwardMode, NetworkDef};
use super::extra::{XmlElement, XmlNode};
use super::mac::MacAddr;
use super::validate::{Problem, Problems};

/// switchyard's XML namespace for forwards in `<metadata>`.
pub const FORWARDS_NS: &str = "https://switchyard.dev/xmlns/forwards/1";
/// The prefix written for [`FORWARDS_NS`].
const PREFIX: &str = "switchyard";
/// The most ports a forward that shifts ports (`8000-8009` to `9000-9009`) may cover: each port
/// becomes an element of the rule's port map.
pub const MAX_SHIFTED_PORTS: u32 = 256;
/// The longest comment.
pub const MAX_COMMENT: usize = 200;

/// A transport protocol a forward carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub const ALL: [Proto; 2] = [Proto::Tcp, Proto::Udp];

    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Proto {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            _ => Err(format!("unknown protocol {s:?}: use tcp or udp")),
        }
    }
}

/// A port or an inclusive range of ports, 1–65535.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn single(port: u16) -> PortRange {
        PortRange {
            first: port,
            last: port,
        }
    }

    /// How many ports it covers.
    pub fn count(self) -> u32 {
        u32::from(self.last) - u32::from(self.first) + 1
    }

    pub fn is_single(self) -> bool {
        self.first == self.last
    }

    pub fn overlaps(self, other: PortRange) -> bool {
        self.first <= other.last && other.first <= self.last
    }

    pub fn contains(self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_single() {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl FromStr for PortRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let port = |p: &str| -> Result<u16, String> {
            match p.trim().parse::<u32>() {
                Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
                Ok(n) => Err(format!("port {n} is out of range 1-65535")),
                Err(_) => Err(format!("{:?} is not a port number", p.trim())),
            }
        };
        let range = match s.split_once('-') {
            Some((a, b)) => PortRange {
                first: port(a)?,
                last: port(b)?,
            },
            None => PortRange::single(port(s)?),
        };
        if range.first > range.last {
            return Err(format!("range {s} ends before it starts"));
        }
        Ok(range)
    }
}

/// A guest a forward follows: a reservation (`pin`) of the network found by MAC or name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuestRef {
    Mac(MacAddr),
    Name(String),
}

impl fmt::Display for GuestRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuestRef::Mac(m) => write!(f, "{m}"),
            GuestRef::Name(n) => f.write_str(n),
        }
    }
}

impl FromStr for GuestRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.contains(':') {
            return s
                .parse::<MacAddr>()
                .map(GuestRef::Mac)
                .map_err(|e| format!("{s:?} is not a MAC address: {e}"));
        }
        if s.is_empty() || super::validate::dns_name_problem(s).is_some() {
            return Err(format!("{s:?} is neither a MAC address nor a host name"));
        }
        Ok(GuestRef::Name(s.to_owned()))
    }
}

/// Where a forward sends its traffic.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A fixed address inside the network's subnet.
    Addr(Ipv4Addr),
    /// Whatever address the guest's reservation holds.
    Guest(GuestRef),
}

/// One port forward of a network.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Forward {
    pub proto: Proto,
    /// The host port (or range) it listens on.
    pub port: PortRange,
    /// The host address it listens on; `None`: every address of the host but loopback (and,
    /// for a guest's own DHCP and DNS, its network's gateway).
    pub address: Option<Ipv4Addr>,
    pub target: Target,
    /// The target's port (or a range of the same length); `None`: the same as `port`.
    pub to_port: Option<PortRange>,
    pub comment: Option<String>,
}

impl Forward {
    /// The target's ports.
    pub fn target_ports(&self) -> PortRange {
        self.to_port.unwrap_or(self.port)
    }

    /// `tcp/8080`: how the forward is named in messages and on the command line.
    pub fn key(&self) -> String {
        format!("{}/{}", self.proto, self.port)
    }
}

/// A forward with its target resolved to an address: what the firewall loads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedForward {
    pub proto: Proto,
    pub port: PortRange,
    pub address: Option<Ipv4Addr>,
    pub to: Ipv4Addr,
    pub to_port: PortRange,
}

/// Why forwards could not be read from a definition's metadata.
pub type ForwardsError = Problem;

fn is_ours(el: &XmlElement) -> Option<&str> {
    let (prefix, local) = el.name.split_once(':')?;
    if local != "forwards" {
        return None;
    }
    let decl = format!("xmlns:{prefix}");
    el.attrs
        .iter()
        .any(|(k, v)| *k == decl && v == FORWARDS_NS)
        .then_some(prefix)
}

/// The forwards stored in `def`'s metadata, in stored order.
pub fn forwards(def: &NetworkDef) -> Result<Vec<Forward>, ForwardsError> {
    let Some(meta) = &def.metadata else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for node in &meta.children {
        let XmlNode::Element(el) = node else { continue };
        let Some(prefix) = is_ours(el) else { continue };
        for (i, child) in el.children.iter().enumerate() {
            let XmlNode::Element(f) = child else { continue };
            let path = format!("metadata.forwards.forward[{i}]");
            if f.name != format!("{prefix}:forward") {
                return Err(Problem::new(
                    path,
                    format!("unexpected element <{}>", f.name),
                ));
            }
            out.push(
                read_forward(f)
                    .map_err(|(field, msg)| Problem::new(format!("{path}.{field}"), msg))?,
            );
        }
    }
    Ok(out)
}

fn read_forward(el: &XmlElement) -> Result<Forward, (&'static str, String)> {
    let attr = |k: &str| {
        el.attrs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let proto = attr("proto")
        .ok_or(("proto", "missing".to_owned()))?
        .parse()
        .map_err(|e| ("proto", e))?;
    let port = attr("port")
        .ok_or(("port", "missing".to_owned()))?
        .parse()
        .map_err(|e| ("port", e))?;
    let address = attr("address")
        .map(|a| {
            a.parse::<Ipv4Addr>()
                .map_err(|e| ("address", format!("{a:?}: {e}")))
        })
        .transpose()?;
    let target = match (attr("to"), attr("guest")) {
        (Some(to), None) => Target::Addr(
            to.parse()
                .map_err(|e| ("to", format!("{to:?} is not an IPv4 address: {e}")))?,
        ),
        (None, Some(g)) => Target::Guest(g.parse().map_err(|e| ("guest", e))?),
        (Some(_), Some(_)) => return Err(("to", "give either to or guest, not both".into())),
        (None, None) => return Err(("to", "missing (or guest)".into())),
    };
    let to_port = attr("to-port")
        .map(|p| p.parse().map_err(|e| ("to-port", e)))
        .transpose()?;
    Ok(Forward {
        proto,
        port,
        address,
        target,
        to_port,
        comment: attr("comment").map(str::to_owned),
    })
}

fn write_forward(prefix: &str, f: &Forward) -> XmlElement {
    let mut attrs = vec![
        ("proto".to_owned(), f.proto.to_string()),
        ("port".to_owned(), f.port.to_string()),
    ];
    if let Some(a) = f.address {
        attrs.push(("address".into(), a.to_string()));
    }
    match &f.target {
        Target::Addr(a) => attrs.push(("to".into(), a.to_string())),
        Target::Guest(g) => attrs.push(("guest".into(), g.to_string())),
    }
    if let Some(p) = f.to_port {
        attrs.push(("to-port".into(), p.to_string()));
    }
    if let Some(c) = &f.comment {
        attrs.push(("comment".into(), c.clone()));
    }
    XmlElement {
        name: format!("{prefix}:forward"),
        attrs,
        children: Vec::new(),
    }
}

/// `def` with its forwards replaced by `list` (the metadata element goes when it would be
/// empty; other applications' metadata stays as it was).
pub fn with_forwards(def: &NetworkDef, list: &[Forward]) -> NetworkDef {
    let mut out = def.clone();
    let mut meta = out.metadata.take().unwrap_or_else(|| XmlElement {
        name: "metadata".into(),
        attrs: Vec::new(),
        children: Vec::new(),
    });
    let at = meta.children.iter().position(|n| match n {
        XmlNode::Element(el) => is_ours(el).is_some(),
        XmlNode::Text(_) => false,
    });
    let prefix = at
        .and_then(|i| match &meta.children[i] {
            XmlNode::Element(el) => is_ours(el).map(str::to_owned),
            XmlNode::Text(_) => None,
        })
        .unwrap_or_else(|| PREFIX.to_owned());
    let element = XmlNode::Element(XmlElement {
        name: format!("{prefix}:forwards"),
        attrs: vec![(format!("xmlns:{prefix}"), FORWARDS_NS.to_owned())],
        children: list
            .iter()
            .map(|f| XmlNode::Element(write_forward(&prefix, f)))
            .collect(),
    });
    match (at, list.is_empty()) {
        (Some(i), true) => {
            meta.children.remove(i);
        }
        (Some(i), false) => meta.children[i] = element,
        (None, true) => {}
        (None, false) => meta.children.push(element),
    }
    out.metadata = (!meta.children.is_empty() || !meta.attrs.is_empty()).then_some(meta);
    out
}

/// The network's IPv4 subnets (from its `<ip>` blocks).
fn ipv4_subnets(def: &NetworkDef) -> Vec<(Ipv4Net, Ipv4Addr)> {
    def.ips
        .iter()
        .filter_map(|ip| match (ip.net(), ip.address) {
            (Some(IpNet::V4(n)), IpAddr::V4(gw)) => Some((n.trunc(), gw)),
            _ => None,
        })
        .collect()
}

/// The reservation address of `guest` in `def` (IPv4), if it has one.
pub fn pinned_address(def: &NetworkDef, guest: &GuestRef) -> Option<Ipv4Addr> {
    def.ips
        .iter()
        .flat_map(|ip| ip.dhcp.iter().flat_map(|d| d.hosts.iter()))
        .filter(|h| match guest {
            GuestRef::Mac(m) => h.mac.as_ref() == Some(m),
            GuestRef::Name(n) => h.name.as_deref() == Some(n.as_str()),
        })
        .find_map(|h| match h.ip {
            Some(IpAddr::V4(a)) => Some(a),
            _ => None,
        })
}

/// The forward's target address: the fixed one, or the guest's reservation.
pub fn target_address(def: &NetworkDef, f: &Forward) -> Option<Ipv4Addr> {
    match &f.target {
        Target::Addr(a) => Some(*a),
        Target::Guest(g) => pinned_address(def, g),
    }
}

/// Every forward of `def` with its target resolved (forwards that do not resolve are left
/// out; validation refuses them, so a stored definition has none).
pub fn resolved(def: &NetworkDef) -> Vec<ResolvedForward> {
    forwards(def)
        .unwrap_or_default()
        .iter()
        .filter_map(|f| {
            Some(ResolvedForward {
                proto: f.proto,
                port: f.port,
                address: f.address,
                to: target_address(def, f)?,
                to_port: f.target_ports(),
            })
        })
        .collect()
}

/// The problems of `def`'s forwards, given the other networks (a host port is one host's:
/// two forwards of the same protocol may not share a port, on any network).
pub(crate) fn check(def: &NetworkDef, others: &[&NetworkDef], out: &mut Problems) {
    let list = match forwards(def) {
        Ok(list) => list,
        Err(p) => {
            out.0.push(p);
            return;
        }
    };
    if list.is_empty() {
        return;
    }
    if def.mode() != Some(ForwardMode::Nat) {
        out.add(
            "metadata.forwards",
            "port forwards need a NAT network (a routed or open network's guests are \
             reachable at their own addresses)",
        );
        return;
    }
    let elsewhere: Vec<(&str, Forward)> = others
        .iter()
        .flat_map(|o| {
            let list = forwards(o).unwrap_or_default();
            list.into_iter().map(|g| (o.name.as_str(), g))
        })
        .collect();
    for (i, f) in list.iter().enumerate() {
        let path = format!("forward[{i}] ({})", f.key());
        if let Some(p) = problem(def, f) {
            out.add(format!("{path}.{}", p.path), p.message);
        }
        for g in &list[..i] {
            if g.proto == f.proto && g.port.overlaps(f.port) {
                out.add(
                    format!("{path}.port"),
                    format!("overlaps the forward {} of this network", g.key()),
                );
            }
        }
        for (network, g) in &elsewhere {
            if g.proto == f.proto && g.port.overlaps(f.port) {
                out.add(
                    format!("{path}.port"),
                    format!("overlaps the forward {} of network {network}", g.key()),
                );
            }
        }
    }
}

/// The problem of one forward on its own (its field and why), if any.
pub fn problem(def: &NetworkDef, f: &Forward) -> Option<Problem> {
    let bad = |field: &str, msg: String| Some(Problem::new(field, msg));
    if let Some(a) = f.address {
        if a.is_loopback() || a.is_multicast() || a.is_broadcast() || a.is_unspecified() {
            return bad("address", format!("{a} cannot be a forward's host address"));
        }
    }
    if let Some(to) = f.to_port {
        if to.count() != f.port.count() {
            return bad(
                "to-port",
                format!(
                    "{to} covers {} ports but the host side {} covers {}",
                    to.count(),
                    f.port,
                    f.port.count()
                ),
            );
        }
        if to != f.port && f.port.count() > MAX_SHIFTED_PORTS {
            return bad(
                "to-port",
                format!("a range moved to other ports may cover at most {MAX_SHIFTED_PORTS} ports"),
            );
        }
    }
    if let Some(c) = &f.comment {
        if c.len() > MAX_COMMENT {
            return bad("comment", format!("longer than {MAX_COMMENT} bytes"));
        }
        if c.chars().any(char::is_control) {
            return bad("comment", "contains a control character".into());
        }
    }
    let subnets = ipv4_subnets(def);
    let to = match &f.target {
        Target::Addr(a) => *a,
        Target::Guest(g) => match pinned_address(def, g) {
            Some(a) => a,
            None => {
                return bad(
                    "guest",
                    format!(
                        "{g} has no IPv4 reservation in network {}; pin it first \
                         (switchyard pin {} …)",
                        def.name, def.name
                    ),
                )
            }
        },
    };
    let Some((net, gw)) = subnets.iter().find(|(n, _)| n.contains(&to)) else {
        let nets: Vec<String> = subnets.iter().map(|(n, _)| n.to_string()).collect();
        return bad(
            "to",
            format!(
                "{to} is outside the network's subnet{} {}",
                if nets.len() == 1 { "" } else { "s" },
                if nets.is_empty() {
                    "(it has no IPv4 subnet)".to_owned()
                } else {
                    nets.join(", ")
                }
            ),
        );
    };
    if to == *gw {
        return bad(
            "to",
            format!("{to} is the network's gateway (the host itself)"),
        );
    }
    if to == net.network() || (net.prefix_len() < 31 && to == net.broadcast()) {
        return bad("to", format!("{to} is not a host address of {net}"));
    }
    None
}

#[cfg(test)]
#[path = "forward_tests.rs"]
mod tests;

/// `ADDR[:PORT[-PORT]]` (the `--to` of `forward add`).
pub fn parse_to(s: &str) -> Result<(Ipv4Addr, Option<PortRange>), String> {
    let (addr, port) = match s.split_once(':') {
        Some((a, p)) => (a, Some(p.parse::<PortRange>()?)),
        None => (s, None),
    };
    let addr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
    Ok((addr, port))
}

/// `MAC|HOSTNAME[:PORT[-PORT]]` (the `--to-guest` of `forward add`): a MAC has five colons, so
/// a sixth (or one after a name) starts the port.
pub fn parse_to_guest(s: &str) -> Result<(GuestRef, Option<PortRange>), String> {
    let colons = s.matches(':').count();
    let (guest, port) = match (colons, s.rsplit_once(':')) {
        (6, Some((g, p))) | (1, Some((g, p))) => (g, Some(p.parse::<PortRange>()?)),
        _ => (s, None),
    };
    Ok((guest.parse()?, port))
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn targets_parse_with_and_without_ports() {
        assert_eq!(
            parse_to("192.168.100.10:80"),
            Ok((
                Ipv4Addr::new(192, 168, 100, 10),
                Some(PortRange::single(80))
            ))
        );
        assert_eq!(
            parse_to("192.168.100.10"),
            Ok((Ipv4Addr::new(192, 168, 100, 10), None))
        );
        assert!(parse_to("web:80")
            .unwrap_err()
            .contains("not an IPv4 address"));
        let mac: MacAddr = "52:54:00:12:34:56".parse().unwrap();
        assert_eq!(
            parse_to_guest("52:54:00:12:34:56:8000-8009"),
            Ok((
                GuestRef::Mac(mac),
                Some(PortRange {
                    first: 8000,
                    last: 8009
                })
            ))
        );
        assert_eq!(
            parse_to_guest("52:54:00:12:34:56"),
            Ok((GuestRef::Mac(mac), None))
        );
        assert_eq!(
            parse_to_guest("web:22"),
            Ok((GuestRef::Name("web".into()), Some(PortRange::single(22))))
        );
        assert!(parse_to_guest("web:0").is_err());
    }
}
