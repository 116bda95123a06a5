//! Pure parsers that tie an interface to its guest: tun/tap fdinfo, macvtap device paths, QEMU
//! command lines and libvirt's runtime domain XML. The I/O that feeds them is in `procscan`.

use std::path::Path;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

/// The path a tun/tap file descriptor links to.
pub const TUN_DEVICE: &str = "/dev/net/tun";

/// The interface attached to a `/dev/net/tun` descriptor, from its `/proc/PID/fdinfo/FD` text
/// (the kernel adds an `iff:\tNAME` line once `TUNSETIFF` has attached one).
pub fn parse_fdinfo_iff(text: &str) -> Option<String> {
    let name = text
        .lines()
        .find_map(|line| line.strip_prefix("iff:"))?
        .trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// The macvtap ifindex N from a descriptor's link target `/dev/tapN`.
pub fn parse_tap_dev_path(path: &Path) -> Option<u32> {
    let digits = path.to_str()?.strip_prefix("/dev/tap")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The guest name from QEMU's `-name guest=NAME,…` or `-name NAME,…` (also `--name`).
pub fn qemu_guest_name(argv: &[String]) -> Option<String> {
    let pos = argv.iter().position(|a| a == "-name" || a == "--name")?;
    let value = argv.get(pos + 1)?;
    let parts = split_qemu_opts(value);
    let mut parts = parts.iter();
    let first = parts.next()?;
    let name = if !first.contains('=') {
        Some(first.as_str())
    } else {
        std::iter::once(first)
            .chain(parts)
            .find_map(|p| p.strip_prefix("guest="))
    };
    name.filter(|n| !n.is_empty()).map(str::to_string)
}

/// Split a QEMU option string at single commas; `,,` stands for a literal comma.
fn split_qemu_opts(value: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ',' if chars.peek() == Some(&',') => {
                chars.next();
                parts.last_mut().expect("parts starts non-empty").push(',');
            }
            ',' => parts.push(String::new()),
            c => parts.last_mut().expect("parts starts non-empty").push(c),
        }
    }
    parts
}

/// A display name for the process owning a port: QEMU's guest name, else `comm (pid N)`.
pub fn guest_name_from_cmdline(argv: &[String], comm: &str, pid: u32) -> String {
    qemu_guest_name(argv).unwrap_or_else(|| format!("{} (pid {pid})", comm.trim()))
}

/// Where an element sits in libvirt's runtime XML, as far as we care.
#[derive(Default)]
struct DomainWalk {
    /// Local names of the open elements, root first.
    path: Vec<Vec<u8>>,
    name: Option<String>,
    in_name: bool,
    targets: Vec<String>,
    interfaces: Vec<LibvirtIface>,
}

/// One `<interface>` of a libvirt domain's runtime XML.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LibvirtIface {
    /// `<target dev>`: the tap (or macvtap) on the host, e.g. `vnet3`.
    pub target: Option<String>,
    /// `<source network>`: the libvirt network it is on (`type='network'`).
    pub network: Option<String>,
    /// `<source bridge>`: the bridge it is on.
    pub bridge: Option<String>,
}

impl DomainWalk {
    /// Length of the path prefix up to and including `domain`, if the path starts at a
    /// `<domstatus><domain>` or a bare `<domain>` root.
    fn domain_depth(&self) -> Option<usize> {
        match self.path.first().map(Vec::as_slice) {
            Some(b"domain") => Some(1),
            Some(b"domstatus") if self.path.get(1).map(Vec::as_slice) == Some(b"domain") => Some(2),
            _ => None,
        }
    }

    fn below_domain_is(&self, rest: &[&[u8]]) -> bool {
        self.domain_depth().is_some_and(|d| {
            self.path.len() == d + rest.len()
                && self.path[d..].iter().zip(rest).all(|(a, b)| a == b)
        })
    }

    fn open(&mut self, e: &BytesStart<'_>) -> Option<()> {
        self.path.push(e.local_name().as_ref().to_vec());
        if self.below_domain_is(&[b"name"]) && self.name.is_none() {
            self.in_name = true;
            self.name = Some(String::new());
        }
        if self.below_domain_is(&[b"devices", b"interface"]) {
            self.interfaces.push(LibvirtIface::default());
        }
        let attr = |name: &str| -> Option<Option<String>> {
            Some(match e.try_get_attribute(name).ok()? {
                Some(a) => Some(a.unescape_value().ok()?.into_owned()),
                None => None,
            })
        };
        if self.below_domain_is(&[b"devices", b"interface", b"target"]) {
            if let Some(dev) = attr("dev")? {
                self.targets.push(dev.clone());
                if let Some(iface) = self.interfaces.last_mut() {
                    iface.target = Some(dev);
                }
            }
        }
        if self.below_domain_is(&[b"devices", b"interface", b"source"]) {
            let (network, bridge) = (attr("network")?, attr("bridge")?);
            if let Some(iface) = self.interfaces.last_mut() {
                iface.network = network;
                iface.bridge = bridge;
            }
        }
        Some(())
    }

    fn close(&mut self) {
        self.in_name = false;
        self.path.pop();
    }

    fn text(&mut self, s: &str) {
        if let Some(name) = self.name.as_mut().filter(|_| self.in_name) {
            name.push_str(s);
        }
    }
}

/// Resolve `&amp;`-style and `&#NN;` references inside text.
fn resolve_ref(r: &BytesRef<'_>) -> Option<String> {
    if r.is_char_ref() {
        return r.resolve_char_ref().ok()?.map(String::from);
    }
    let name = r.decode().ok()?;
    resolve_predefined_entity(&name).map(str::to_string)
}

/// The domain name and interface target devices from libvirt's runtime XML
/// (`/run/libvirt/qemu/NAME.xml`: `<domstatus>…<domain><name>…<devices><interface>
/// <target dev='vnetN'/>`). A bare `<domain>` root is accepted too. `None` if the XML is
/// malformed or has no domain name.
pub fn parse_libvirt_runtime_xml(text: &str) -> Option<(String, Vec<String>)> {
    let walk = walk_domain(text)?;
    let name = walk.name.map(|n| n.trim().to_string())?;
    (!name.is_empty()).then_some((name, walk.targets))
}

/// The domain name and every `<interface>` with its target and source (network, bridge),
/// from the same runtime XML as [`parse_libvirt_runtime_xml`].
pub fn parse_libvirt_interfaces(text: &str) -> Option<(String, Vec<LibvirtIface>)> {
    let walk = walk_domain(text)?;
    let name = walk.name.map(|n| n.trim().to_string())?;
    (!name.is_empty()).then_some((name, walk.interfaces))
}

fn walk_domain(text: &str) -> Option<DomainWalk> {
    let mut reader = Reader::from_str(text);
    let mut walk = DomainWalk::default();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => walk.open(&e)?,
            Event::Empty(e) => {
                walk.open(&e)?;
                walk.close();
            }
            Event::End(_) => walk.close(),
            Event::Text(t) => walk.text(&t.xml_content().ok()?),
            Event::CData(t) => walk.text(&t.decode().ok()?),
            Event::GeneralRef(r) => walk.text(&resolve_ref(&r)?),
            Event::Eof => break,
            _ => {}
        }
    }
    Some(walk)
}
