//! `validate`: every problem with a definition, each with a field path and plain words,
//! e.g. `ip[0].dhcp.range[0]: 10.0.1.5 is outside 192.168.100.0/24`.
//!
//! Parsing already rejects what cannot be represented (unparseable addresses, unknown
//! modes); validation covers meaning: ranges, combinations libvirt refuses, clashes with the
//! other defined networks, and values that would inject into generated dnsmasq files.

mod dns;
mod ip;
mod mode;
mod port;
mod text;

use std::fmt;

use super::def::NetworkDef;
pub(crate) use text::describe as describe_char;
pub use text::ifname_problem;
use text::{check_ifname, check_line};

/// One problem: where (`bridge.name`, `ip[0].dhcp.range[1]`, …) and what, in plain words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Field path, e.g. `ip[0].dhcp.host[2].mac`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Collects problems.
#[derive(Default)]
pub(crate) struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::new(path, message));
    }
}

/// Every problem with `def`, given the other defined networks. `def`'s stored version may
/// be among them: an entry with the same name and UUID is the one being redefined and is
/// skipped. (When an edit drops the UUID, leave the stored version out of `others`.)
pub fn validate(def: &NetworkDef, others: &[NetworkDef]) -> Vec<Problem> {
    let others: Vec<&NetworkDef> = others.iter().filter(|o| !is_same_network(def, o)).collect();
    let mut out = Problems::default();
    check_identity(def, &others, &mut out);
    check_bridge(def, &others, &mut out);
    check_mac_mtu(def, &mut out);
    mode::check(def, &mut out);
    ip::check(def, &others, &mut out);
    dns::check(def, &mut out);
    port::check(def, &mut out);
    dns::check_writable(def, &mut out);
    out.0
}

fn is_same_network(def: &NetworkDef, other: &NetworkDef) -> bool {
    def.uuid.is_some() && def.uuid == other.uuid && def.name == other.name
}

/// Longest network name accepted (bytes); it becomes part of file names.
pub const MAX_NAME_BYTES: usize = 64;

fn check_identity(def: &NetworkDef, others: &[&NetworkDef], out: &mut Problems) {
    for problem in name_problems(&def.name) {
        out.add("name", problem);
    }
    if let Some(other) = others.iter().find(|o| o.name == def.name) {
        out.add(
            "name",
            format!("a network named '{}' is already defined", other.name),
        );
    }
    if let Some(other) = others
        .iter()
        .find(|o| def.uuid.is_some() && o.uuid == def.uuid)
    {
        out.add(
            "uuid",
            format!("this UUID is already used by network '{}'", other.name),
        );
    }
    if def
        .title
        .as_deref()
        .is_some_and(|t| t.contains(['\n', '\r']))
    {
        out.add("title", "the title must be a single line");
    }
}

/// Everything wrong with a network name: it must be 1-64 bytes, without '/' or control
/// characters, and not '.' or '..' (it becomes part of file names).
pub fn name_problems(name: &str) -> Vec<String> {
    let checks = [
        (name.is_empty(), "the network needs a name".to_string()),
        (
            name.len() > MAX_NAME_BYTES,
            format!(
                "'{name}' is {} bytes long; the limit is {MAX_NAME_BYTES}",
                name.len()
            ),
        ),
        (
            name.contains('/'),
            format!("'{name}' contains '/', which cannot appear in a network name"),
        ),
        (
            name.chars().any(char::is_control),
            "the name contains control characters (newline, tab, NUL, …)".to_string(),
        ),
        (
            name == "." || name == "..",
            format!("'{name}' cannot be used as a network name"),
        ),
    ];
    checks
        .into_iter()
        .filter(|(bad, _)| *bad)
        .map(|(_, msg)| msg)
        .collect()
}

fn check_bridge(def: &NetworkDef, others: &[&NetworkDef], out: &mut Problems) {
    let Some(bridge) = &def.bridge else { return };
    if let Some(name) = &bridge.name {
        check_ifname(out, "bridge.name", name);
        let clash = others
            .iter()
            .find(|o| o.bridge_name() == Some(name.as_str()));
        if let (true, Some(other)) = (def.uses_own_bridge(), clash) {
            out.add(
                "bridge.name",
                format!(
                    "bridge '{name}' is already used by network '{}'",
                    other.name
                ),
            );
        }
    }
    if let Some(zone) = &bridge.zone {
        let ok = !zone.is_empty()
            && zone
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            out.add(
                "bridge.zone",
                format!("'{zone}' is not a valid firewall zone name (letters, digits, '_', '-')"),
            );
        }
    }
}

/// Smallest MTU accepted (the IPv4 minimum).
pub const MIN_MTU: u32 = 68;
/// Largest MTU accepted.
pub const MAX_MTU: u32 = 65535;

fn check_mac_mtu(def: &NetworkDef, out: &mut Problems) {
    if let Some(mac) = &def.mac {
        if mac.is_multicast() {
            out.add(
                "mac",
                format!("{mac} is a multicast address; the bridge needs a unicast MAC"),
            );
        } else if mac.is_zero() {
            out.add("mac", "00:00:00:00:00:00 is not a usable MAC address");
        }
    }
    if let Some(mtu) = def.mtu {
        if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
            out.add(
                "mtu",
                format!("{mtu} is out of range ({MIN_MTU}-{MAX_MTU})"),
            );
        }
    }
    for (i, option) in def.dnsmasq_options.iter().enumerate() {
        check_line(out, &format!("dnsmasq.option[{i}]"), option);
    }
}
