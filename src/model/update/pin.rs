//! `pin` and `unpin`: reserve an address for a host, or release it, as a static DHCP host
//! of the `<ip>` whose subnet holds the address. A front to `ip-dhcp-host` with stricter
//! rules than libvirt's update: the address must be a usable host address of a subnet, and
//! nothing another host holds is taken without `replace`.

use std::net::IpAddr;
use std::str::FromStr;

use super::error::{Reason, UpdateError};
use super::host::{check_host, describe_host};
use super::section::Section;
use crate::model::def::NetworkDef;
use crate::model::ip::{DhcpDef, DhcpHost, IpDef};
use crate::model::mac::MacAddr;
use crate::model::validate::dhcp_host_name_problem;

/// What a pin did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinOutcome {
    /// Exactly this reservation was already there: nothing changed.
    Unchanged,
    /// The reservation is in place. `previous`: this host's own entries it supersedes (the
    /// same MAC, or the same name for a host pinned by name only), at this address or moved
    /// from another; `replaced`: other hosts' reservations removed to make room (`replace`).
    Pinned {
        /// This host's entries before the pin.
        previous: Vec<DhcpHost>,
        /// Other hosts' entries the pin removed.
        replaced: Vec<DhcpHost>,
    },
}

/// What `unpin` finds a static host by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinKey {
    /// The host's MAC address.
    Mac(MacAddr),
    /// The reserved address.
    Ip(IpAddr),
    /// The host name.
    Name(String),
}

impl PinKey {
    /// The field the key names: "mac", "ip" or "hostname".
    pub fn field(&self) -> &'static str {
        match self {
            PinKey::Mac(_) => "mac",
            PinKey::Ip(_) => "ip",
            PinKey::Name(_) => "hostname",
        }
    }

    fn matches(&self, host: &DhcpHost) -> bool {
        match self {
            PinKey::Mac(mac) => host.mac == Some(*mac),
            PinKey::Ip(ip) => host.ip == Some(*ip),
            PinKey::Name(name) => host.name.as_deref() == Some(name.as_str()),
        }
    }

    fn shown(&self) -> String {
        match self {
            PinKey::Mac(mac) => format!("mac {mac}"),
            PinKey::Ip(ip) => format!("ip {ip}"),
            PinKey::Name(name) => format!("host name '{}'", name.escape_debug()),
        }
    }
}

/// A MAC address if it reads as one, else an IP address, else a host name (not empty).
impl FromStr for PinKey {
    type Err = UpdateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(mac) = s.parse() {
            return Ok(PinKey::Mac(mac));
        }
        if let Ok(ip) = s.parse() {
            return Ok(PinKey::Ip(ip));
        }
        if s.is_empty() {
            return Err(refuse(
                "hostname",
                Reason::Incomplete,
                "give a MAC address, an IP address or a host name".into(),
            ));
        }
        Ok(PinKey::Name(s.to_string()))
    }
}

fn refuse(field: &'static str, reason: Reason, message: String) -> UpdateError {
    UpdateError::refused(Section::IpDhcpHost, field, reason, message)
}

/// Reserve `ip` for the host with `mac` and/or `name` (IPv6: `name`; IPv6 hosts have no
/// MAC), in the `<ip>` whose subnet holds `ip`. The entry gets exactly the MAC, name and
/// address given; built on this host's own previous entry, it keeps that one's place, id,
/// lease and unknown attributes.
///
/// Refused, each naming its field: neither MAC nor name; an address outside every subnet, or
/// the gateway, network or (IPv4) broadcast address; a name dnsmasq cannot hand out. Without
/// `replace`, also: an address another host holds, a name another host uses, and this host
/// already pinned to another address; with `replace` those entries are removed (moved, for
/// this host's own) and [`PinOutcome::Pinned`] lists them.
pub fn pin(
    def: &NetworkDef,
    mac: Option<MacAddr>,
    name: Option<&str>,
    ip: IpAddr,
    replace: bool,
) -> Result<(NetworkDef, PinOutcome), UpdateError> {
    let block = pin_block(def, mac.is_some() || name.is_some(), ip)?;
    let wanted = DhcpHost {
        mac,
        name: name.map(str::to_string),
        ip: Some(ip),
        ..DhcpHost::default()
    };
    check_pin_host(&def.ips[block], &wanted)?;
    let scan = Scan::new(def, &wanted, block);
    if scan.unchanged(def, &wanted) {
        return Ok((def.clone(), PinOutcome::Unchanged));
    }
    if !replace {
        scan.refusal(def, &wanted)?;
    }
    let (out, outcome) = scan.apply(def, wanted, block);
    Ok((super::finish(out)?, outcome))
}

/// The index of the `<ip>` whose subnet holds `ip`, after the checks of the address.
fn pin_block(def: &NetworkDef, named: bool, ip: IpAddr) -> Result<usize, UpdateError> {
    if !named {
        let msg = "a pin needs a MAC address or a host name (or both)".to_string();
        return Err(refuse("mac", Reason::Incomplete, msg));
    }
    let holds = |b: &IpDef| b.net().is_some_and(|n| n.trunc().contains(&ip));
    let Some(block) = def.ips.iter().position(holds) else {
        let subnets: Vec<String> = def
            .ips
            .iter()
            .filter_map(IpDef::net)
            .map(|n| n.trunc().to_string())
            .collect();
        let msg = format!(
            "{ip} is outside every subnet of the network ({})",
            if subnets.is_empty() {
                "it has none".to_string()
            } else {
                subnets.join(", ")
            }
        );
        return Err(refuse("ip", Reason::Invalid, msg));
    };
    if def.gateway_addrs().contains(&ip) {
        let msg = format!("{ip} is the network's own (gateway) address");
        return Err(refuse("ip", Reason::Invalid, msg));
    }
    match def.ips[block].net().and_then(|n| special_address(n, ip)) {
        Some(which) => Err(refuse("ip", Reason::Invalid, which)),
        None => Ok(block),
    }
}

/// Why `ip` is not a host address of `net`: its network address, or IPv4's broadcast.
fn special_address(net: ipnet::IpNet, ip: IpAddr) -> Option<String> {
    let subnet = net.trunc();
    let which = match subnet {
        ipnet::IpNet::V4(n) if n.prefix_len() >= 31 => return None,
        ipnet::IpNet::V6(n) if n.prefix_len() >= 127 => return None,
        ipnet::IpNet::V4(n) if IpAddr::V4(n.broadcast()) == ip => "broadcast address",
        n if n.addr() == ip => "network address",
        _ => return None,
    };
    Some(format!(
        "{ip} is the {which} of {subnet}, not a host address"
    ))
}

/// libvirt's checks of the entry (a MAC for IPv6, a multicast MAC), and a name dnsmasq can
/// hand out; the name is the "hostname" field here.
fn check_pin_host(block: &IpDef, wanted: &DhcpHost) -> Result<(), UpdateError> {
    check_host(block, wanted, false).map_err(|e| match e {
        UpdateError::Refused {
            section,
            field: "name",
            reason,
            message,
        } => UpdateError::Refused {
            section,
            field: "hostname",
            reason,
            message,
        },
        other => other,
    })?;
    match wanted.name.as_deref().and_then(dhcp_host_name_problem) {
        Some(problem) => Err(refuse("hostname", Reason::Invalid, problem)),
        None => Ok(()),
    }
}

/// Where an existing static host stands to a pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relation {
    /// This host's own entry at the pinned address in the pinned `<ip>`: changed in place.
    Keep,
    /// This host's own entry elsewhere (another address, or a second entry): moved.
    Moved,
    /// Another host's entry holding the address ("ip") or the name ("hostname").
    Other(&'static str),
}

/// This host's own entry: the same MAC; for a pin without a MAC, the same name on an entry
/// that has no MAC either (a MAC reservation is never taken over by name alone).
fn is_own(wanted: &DhcpHost, host: &DhcpHost) -> bool {
    match wanted.mac {
        Some(mac) => host.mac == Some(mac),
        None => host.mac.is_none() && host.name.is_some() && host.name == wanted.name,
    }
}

/// The existing entries a pin touches, as (`<ip>` index, host index, relation), in the
/// `<ip>`s of the pinned address's family.
struct Scan(Vec<(usize, usize, Relation)>);

impl Scan {
    fn new(def: &NetworkDef, wanted: &DhcpHost, block: usize) -> Self {
        let v6 = def.ips[block].address.is_ipv6();
        let mut out = Vec::new();
        let mut kept = false;
        let blocks = def
            .ips
            .iter()
            .enumerate()
            .filter(|(_, b)| b.address.is_ipv6() == v6);
        for (j, b) in blocks {
            for (k, host) in b.hosts().iter().enumerate() {
                let here = j == block && host.ip == wanted.ip;
                let relation = match (is_own(wanted, host), here && !kept) {
                    (true, true) => Relation::Keep,
                    (true, false) => Relation::Moved,
                    _ if host.ip == wanted.ip => Relation::Other("ip"),
                    _ if wanted.name.is_some() && host.name == wanted.name => {
                        Relation::Other("hostname")
                    }
                    _ => continue,
                };
                kept |= relation == Relation::Keep;
                out.push((j, k, relation));
            }
        }
        Scan(out)
    }

    fn host<'d>(def: &'d NetworkDef, entry: &(usize, usize, Relation)) -> &'d DhcpHost {
        &def.ips[entry.0].hosts()[entry.1]
    }

    /// Only this host's own entry, already with this address, MAC and name.
    fn unchanged(&self, def: &NetworkDef, wanted: &DhcpHost) -> bool {
        match self.0.as_slice() {
            [entry] if entry.2 == Relation::Keep => {
                let host = Scan::host(def, entry);
                host.mac == wanted.mac && host.name == wanted.name
            }
            _ => false,
        }
    }

    /// Without `replace`: the first thing the pin would take, as a refusal naming its field.
    fn refusal(&self, def: &NetworkDef, wanted: &DhcpHost) -> Result<(), UpdateError> {
        let first =
            |r: fn(&Relation) -> bool| self.0.iter().find(|e| r(&e.2)).map(|e| Scan::host(def, e));
        let ip = wanted.ip.map_or_else(String::new, |ip| ip.to_string());
        if let Some(other) = first(|r| *r == Relation::Other("ip")) {
            let msg = format!(
                "{ip} is already pinned to another host, {}; use --replace to give it to this one",
                describe_host(other)
            );
            return Err(refuse("ip", Reason::Duplicate, msg));
        }
        if let Some(own) = first(|r| *r == Relation::Moved) {
            let (field, who) = match (wanted.mac, wanted.name.as_deref()) {
                (Some(mac), _) => ("mac", mac.to_string()),
                (None, name) => (
                    "hostname",
                    format!("host name '{}'", name.unwrap_or_default().escape_debug()),
                ),
            };
            let msg = format!(
                "{who} is already pinned: {}; use --replace to move it to {ip}",
                describe_host(own)
            );
            return Err(refuse(field, Reason::Duplicate, msg));
        }
        if let Some(other) = first(|r| *r == Relation::Other("hostname")) {
            let msg = format!(
                "the host name is already used by another host, {}; use --replace to take it over",
                describe_host(other)
            );
            return Err(refuse("hostname", Reason::Duplicate, msg));
        }
        Ok(())
    }
}

impl Scan {
    /// The definition with every touched entry removed and the new entry in the place of
    /// this host's first own entry in the pinned `<ip>` (else last), and what was removed.
    fn apply(&self, def: &NetworkDef, wanted: DhcpHost, block: usize) -> (NetworkDef, PinOutcome) {
        let own = |r: &Relation| !matches!(r, Relation::Other(_));
        let base = self
            .0
            .iter()
            .find(|e| e.2 == Relation::Keep)
            .or_else(|| self.0.iter().find(|e| own(&e.2)));
        let new = base.map_or_else(
            || wanted.clone(),
            |e| carry_over(Scan::host(def, e), &wanted),
        );
        let mut out = def.clone();
        for (j, ip) in out.ips.iter_mut().enumerate() {
            if j != block && !self.0.iter().any(|e| e.0 == j) {
                continue;
            }
            let touched = |k: usize| self.0.iter().find(|e| e.0 == j && e.1 == k).map(|e| e.2);
            let old = ip.dhcp.as_mut().map(|d| std::mem::take(&mut d.hosts));
            let hosts = rebuild(
                old.unwrap_or_default(),
                touched,
                (j == block).then_some(&new),
            );
            ip.dhcp.get_or_insert_with(DhcpDef::default).hosts = hosts;
            if ip.dhcp.as_ref().is_some_and(DhcpDef::is_empty) {
                ip.dhcp = None;
            }
        }
        let pick = |want_own: bool| {
            self.0
                .iter()
                .filter(|e| own(&e.2) == want_own)
                .map(|e| Scan::host(def, e).clone())
                .collect()
        };
        (
            out,
            PinOutcome::Pinned {
                previous: pick(true),
                replaced: pick(false),
            },
        )
    }
}

/// `hosts` without the touched entries, and with `new` (if any) in the place of the first
/// own one, else last.
fn rebuild(
    hosts: Vec<DhcpHost>,
    touched: impl Fn(usize) -> Option<Relation>,
    new: Option<&DhcpHost>,
) -> Vec<DhcpHost> {
    let mut out = Vec::with_capacity(hosts.len() + 1);
    let mut pending = new;
    for (k, host) in hosts.into_iter().enumerate() {
        match touched(k) {
            None => out.push(host),
            Some(Relation::Other(_)) => {}
            Some(_) => out.extend(pending.take().cloned()),
        }
    }
    out.extend(pending.cloned());
    out
}

/// The pinned entry built on this host's own previous one: MAC, name and address as
/// pinned; id, lease and unknown attributes kept; the MAC's spelling kept while it is the
/// same MAC.
fn carry_over(previous: &DhcpHost, wanted: &DhcpHost) -> DhcpHost {
    let same_mac = previous.mac == wanted.mac;
    DhcpHost {
        mac: wanted.mac,
        mac_written: previous.mac_written.clone().filter(|_| same_mac),
        name: wanted.name.clone(),
        ip: wanted.ip,
        ..previous.clone()
    }
}

/// Remove the static host found by `key`, from whichever `<ip>` holds it; returns the
/// definition without it and the entry removed. None or several matches are refused.
pub fn unpin(def: &NetworkDef, key: PinKey) -> Result<(NetworkDef, DhcpHost), UpdateError> {
    let found: Vec<(usize, usize)> = def
        .ips
        .iter()
        .enumerate()
        .flat_map(|(j, ip)| {
            ip.hosts()
                .iter()
                .enumerate()
                .filter(|(_, h)| key.matches(h))
                .map(move |(k, _)| (j, k))
        })
        .collect();
    let (j, k) = match found.as_slice() {
        [one] => *one,
        [] => {
            let msg = format!("no static host has {}", key.shown());
            return Err(refuse(key.field(), Reason::NotFound, msg));
        }
        many => {
            let hosts: Vec<String> = many
                .iter()
                .map(|&(j, k)| describe_host(&def.ips[j].hosts()[k]))
                .collect();
            let msg = format!(
                "{} static hosts have {}: {}; unpin by another field",
                many.len(),
                key.shown(),
                hosts.join(", ")
            );
            return Err(refuse(key.field(), Reason::Ambiguous, msg));
        }
    };
    let mut out = def.clone();
    let dhcp = out.ips[j].dhcp.get_or_insert_with(DhcpDef::default);
    let removed = dhcp.hosts.remove(k);
    if dhcp.is_empty() {
        out.ips[j].dhcp = None;
    }
    Ok((super::finish(out)?, removed))
}
