//! `validate`: every problem with a definition, each with a field path and plain words,
//! e.g. `ip[0].dhcp.range[0]: 10.0.1.5 is outside 192.168.100.0/24`.
//!
//! Parsing already rejects what cannot be represented (unparseable addresses, unknown
//! modes); validation covers meaning: ranges, combinations libvirt refuses, clashes with the
//! other defined networks, and values that would inject into generated dnsmasq files.
//!
//! [`dubious`] lists what libvirt accepts although it is almost certainly a mistake (a
//! gateway on the network address, a static host outside the subnet, …): an imported
//! definition keeps it with a warning, a new network is refused it.
//!
//! Every check is near-linear in the size of the definition (hash maps, sorting, an index
//! of subnets), so even a definition at the parser's limits validates in milliseconds.

mod dns;
mod dubious;
mod ip;
mod mode;
mod nets;
mod port;
mod text;

use std::fmt;

use super::def::NetworkDef;
pub(crate) use mode::check_ifnames;
pub(crate) use text::describe as describe_char;
use text::{check_line, describe, is_format};
pub use text::{dns_name_problem, ifname_problem, MAX_IFNAME_BYTES, NFT_RESERVED_IFNAMES};

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
/// skipped. The same name with another UUID is refused, as libvirt refuses it; a redefinition
/// without a UUID inherits the stored one, so callers fill it in before validating (as
/// `Backend::complete` does) — left empty, the name counts as taken.
///
/// Dubious values libvirt accepts are not reported here but by [`dubious`].
pub fn validate(def: &NetworkDef, others: &[NetworkDef]) -> Vec<Problem> {
    let mut out = Problems::default();
    check_identity(def, others, &mut out);
    // Another network of the same name is reported above; its bridge and subnets are its own.
    let others: Vec<&NetworkDef> = others.iter().filter(|o| o.name != def.name).collect();
    check_uuid_taken(def, &others, &mut out);
    mode::check_ifnames(def, &mut out);
    check_bridge(def, &others, &mut out);
    check_mac_mtu(def, &mut out);
    mode::check(def, &mut out);
    ip::check(def, &others, &mut out);
    dns::check(def, &mut out);
    port::check(def, &mut out);
    dns::check_writable(def, &mut out);
    super::forward::check(def, &others, &mut out);
    out.0
}

fn is_same_network(def: &NetworkDef, other: &NetworkDef) -> bool {
    def.uuid.is_some() && def.uuid == other.uuid && def.name == other.name
}

/// What libvirt accepts although it is almost certainly a mistake: an `<ip address>` that
/// is the network or broadcast address of its subnet, a static DHCP host outside the subnet,
/// on the gateway or sharing a MAC/address/name, overlapping ranges or `<ip>` blocks,
/// `<virtualport>` or `<pf>` on a bridge switchyard manages, dnsmasq options where no
/// dnsmasq runs, a device pool with no devices, a rate of 0. `define` accepts these with a
/// warning; `build_definition` (CLI `create`, the wizard) refuses them.
pub fn dubious(def: &NetworkDef) -> Vec<Problem> {
    let mut out = Problems::default();
    dubious::check(def, &mut out);
    out.0
}

/// The problem with a macvtap interface name given to `attach --name`, at path
/// `macvtap.name`: the same rule as every other interface name ([`ifname_problem`]).
pub fn macvtap_name_problem(name: &str) -> Option<Problem> {
    ifname_problem(name).map(|message| Problem::new("macvtap.name", message))
}

/// The problem with a static DHCP host's name (the `pin --hostname` rule, the same as for
/// `<host name>` in a definition), if any.
pub fn dhcp_host_name_problem(name: &str) -> Option<String> {
    let mut out = Problems::default();
    text::check_dhcp_host_name(&mut out, "name", name);
    out.0.into_iter().next().map(|p| p.message)
}

/// Longest network name accepted (bytes); it becomes part of file names.
pub const MAX_NAME_BYTES: usize = 64;

/// The name, and whether another network already has it: libvirt refuses a redefinition
/// that changes the UUID ("network 'x' is already defined with uuid …").
fn check_identity(def: &NetworkDef, others: &[NetworkDef], out: &mut Problems) {
    for problem in name_problems(&def.name) {
        out.add("name", problem);
    }
    let same_name = others
        .iter()
        .find(|o| o.name == def.name && !is_same_network(def, o));
    match same_name.map(|o| (o, def.uuid, o.uuid)) {
        Some((other, Some(ours), Some(theirs))) => out.add(
            "uuid",
            format!(
                "network '{}' is already defined with UUID {theirs}, not {ours}; to redefine \
                 it keep its UUID (or leave <uuid> out), or choose another name",
                other.name.escape_debug()
            ),
        ),
        Some((other, _, _)) => out.add(
            "name",
            format!(
                "a network named '{}' is already defined",
                other.name.escape_debug()
            ),
        ),
        None => {}
    }
    if def
        .title
        .as_deref()
        .is_some_and(|t| t.contains(['\n', '\r']))
    {
        out.add("title", "the title must be a single line");
    }
}

/// A network with another name but this UUID.
fn check_uuid_taken(def: &NetworkDef, others: &[&NetworkDef], out: &mut Problems) {
    let Some(uuid) = def.uuid else { return };
    if let Some(other) = others.iter().find(|o| o.uuid == Some(uuid)) {
        out.add(
            "uuid",
            format!(
                "this UUID is already used by network '{}'",
                other.name.escape_debug()
            ),
        );
    }
}

/// Everything wrong with a network name. libvirt's rules: not empty, no '/', not '.' or
/// '..' (it becomes part of file names). Ours on top: at most 64 bytes; no control
/// characters (line and paragraph separators included); no invisible format characters
/// (Unicode category Cf, such as the bidirectional overrides that make a name display as
/// another); no leading '-' (command lines would read it as an option).
pub fn name_problems(name: &str) -> Vec<String> {
    let shown = name.escape_debug();
    let control = name
        .chars()
        .find(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'));
    // The messages are written only for the checks that fail: every listing of the store
    // checks each name it reads.
    let checks: [(bool, &dyn Fn() -> String); 5] = [
        (name.is_empty(), &|| "the network needs a name".to_string()),
        (name.len() > MAX_NAME_BYTES, &|| {
            format!(
                "'{shown}' is {} bytes long; the limit is {MAX_NAME_BYTES}",
                name.len()
            )
        }),
        (name.contains('/'), &|| {
            format!("'{shown}' contains '/', which cannot appear in a network name")
        }),
        (name == "." || name == "..", &|| {
            format!("'{shown}' cannot be used as a network name")
        }),
        (name.starts_with('-'), &|| {
            format!("'{shown}' starts with '-', which command lines would read as an option")
        }),
    ];
    let mut out: Vec<String> = checks
        .into_iter()
        .filter(|(bad, _)| *bad)
        .map(|(_, msg)| msg())
        .collect();
    if let Some(c) = control {
        out.push(format!(
            "the name contains {}; control characters (newline, tab, NUL, …) are not allowed",
            describe(c)
        ));
    }
    if let Some(c) = name.chars().find(|c| is_format(*c)) {
        out.push(format!("the name contains {}, an invisible formatting character (such as a bidirectional override) that makes a name display differently from what it is", describe(c)));
    }
    out
}

fn check_bridge(def: &NetworkDef, others: &[&NetworkDef], out: &mut Problems) {
    let Some(bridge) = &def.bridge else { return };
    if let Some(name) = &bridge.name {
        let clash = others
            .iter()
            .find(|o| o.bridge_name() == Some(name.as_str()));
        if let (true, Some(other)) = (def.uses_own_bridge(), clash) {
            out.add(
                "bridge.name",
                format!(
                    "bridge '{}' is already used by network '{}'",
                    name.escape_debug(),
                    other.name.escape_debug()
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
                format!(
                    "'{}' is not a valid firewall zone name (letters, digits, '_', '-')",
                    zone.escape_debug()
                ),
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
