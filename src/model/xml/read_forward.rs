//! `<forward>`: mode, device pool, PCI addresses, `<pf>`, `<nat>`.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use super::cursor::Cursor;
use super::tree::Node;
use super::XmlError;
use crate::model::def::{ForwardDef, ForwardMode, NatDef, PciAddr};

const MODES: &str = "nat, route, open, bridge, private, vepa, passthrough or hostdev";

pub(super) fn read_forward(node: &Node) -> Result<ForwardDef, XmlError> {
    let mut c = Cursor::new(node);
    let mode = match c.attr("mode") {
        None => ForwardMode::Nat,
        Some(m) => m.parse().map_err(|_| {
            c.err(format!(
                "<forward mode='{m}'>: unknown mode (expected {MODES})"
            ))
        })?,
    };
    let dev = c.attr("dev");
    let managed = c.yes_no("managed")?.unwrap_or(false);
    let driver = c.one("driver", read_driver)?;
    let nat = c.one("nat", read_nat)?;
    let iface_nodes = c.children("interface");
    let addr_nodes = c.children("address");
    let pf_nodes = c.children("pf");
    let pf = read_pf(&c, &pf_nodes)?;
    check_pool_mix(
        &c,
        dev,
        !iface_nodes.is_empty(),
        !addr_nodes.is_empty(),
        pf.is_some(),
    )?;
    let interfaces = read_interfaces(&c, dev, &iface_nodes)?;
    if mode == ForwardMode::Open && !interfaces.is_empty() {
        let what = if dev.is_some() {
            "a dev attribute"
        } else {
            "<interface> elements"
        };
        return Err(c.err(format!("<forward mode='open'> does not take {what} (an open network forwards nowhere in particular)")));
    }
    let addresses = read_addresses(&addr_nodes)?;
    Ok(ForwardDef {
        mode,
        managed,
        driver,
        nat,
        pf,
        interfaces,
        addresses,
        extra: c.finish(),
    })
}

fn read_pf(c: &Cursor<'_>, nodes: &[&Node]) -> Result<Option<String>, XmlError> {
    if let Some(second) = nodes.get(1) {
        return Err(XmlError::new(
            second.line,
            format!(
                "<{}> has more than one <pf> (only one is allowed)",
                c.name()
            ),
        ));
    }
    nodes
        .first()
        .map(|n| Cursor::new(n).required("dev").map(str::to_string))
        .transpose()
}

fn read_driver(node: &Node) -> Result<String, XmlError> {
    let mut c = Cursor::new(node);
    let name = c.required("name")?;
    if !["vfio", "kvm", "xen"].contains(&name) {
        return Err(c.bad_value("name", name, "a hostdev driver (vfio or kvm)"));
    }
    Ok(name.to_string())
}

/// libvirt takes the device pool from exactly one of: dev/<interface>, <address>, <pf>.
fn check_pool_mix(
    c: &Cursor<'_>,
    dev: Option<&str>,
    ifaces: bool,
    addrs: bool,
    pf: bool,
) -> Result<(), XmlError> {
    if dev.is_some() && (addrs || pf) {
        return Err(c.err("<forward dev=…> cannot be combined with <address> or <pf> elements"));
    }
    if [ifaces, addrs, pf].iter().filter(|b| **b).count() > 1 {
        return Err(
            c.err("<forward> can list <interface>, <address> or <pf> devices, but only one kind")
        );
    }
    Ok(())
}

/// `dev='x'` becomes the first interface; a first `<interface>` must then repeat it.
fn read_interfaces(
    c: &Cursor<'_>,
    dev: Option<&str>,
    nodes: &[&Node],
) -> Result<Vec<String>, XmlError> {
    let mut out: Vec<String> = dev.map(str::to_string).into_iter().collect();
    let mut seen: HashSet<&str> = dev.into_iter().collect();
    for (i, node) in nodes.iter().enumerate() {
        let name = read_interface(node)?;
        if let (0, Some(dev)) = (i, dev) {
            if name != dev {
                let msg =
                    format!("<forward dev='{dev}'> must match the first <interface dev='{name}'/>");
                return Err(XmlError::new(node.line, msg));
            }
            continue;
        }
        if !seen.insert(name) {
            let msg = format!(
                "<interface dev='{name}'> is listed more than once in <{}>",
                c.name()
            );
            return Err(XmlError::new(node.line, msg));
        }
        out.push(name.to_string());
    }
    Ok(out)
}

/// `<interface dev=…/>` of `<forward>`: the device name.
pub(super) fn read_interface(node: &Node) -> Result<&str, XmlError> {
    Cursor::new(node).required("dev")
}

fn read_addresses(nodes: &[&Node]) -> Result<Vec<PciAddr>, XmlError> {
    let mut out: Vec<PciAddr> = Vec::new();
    let mut seen = HashSet::new();
    for node in nodes {
        let addr = read_pci(node)?;
        if !seen.insert(addr) {
            return Err(XmlError::new(
                node.line,
                format!("PCI device {addr} is listed more than once in <forward>"),
            ));
        }
        out.push(addr);
    }
    Ok(out)
}

fn read_pci(node: &Node) -> Result<PciAddr, XmlError> {
    let mut c = Cursor::new(node);
    let kind = c.required("type")?;
    if kind != "pci" {
        return Err(c.bad_value("type", kind, "a supported address type (only pci)"));
    }
    let mut field = |key: &str, max: u32| -> Result<u32, XmlError> {
        let Some(v) = c.attr(key) else { return Ok(0) };
        match parse_c_number(v) {
            Some(n) if n <= max => Ok(n),
            _ => Err(c.bad_value(key, v, &format!("a number from 0 to {max:#x}"))),
        }
    };
    let (domain, bus, slot, function) = (
        field("domain", 0xffff)?,
        field("bus", 0xff)?,
        field("slot", 0x1f)?,
        field("function", 7)?,
    );
    let narrow = |n: u32| u8::try_from(n).unwrap_or(u8::MAX);
    let domain = u16::try_from(domain).unwrap_or(u16::MAX);
    Ok(PciAddr {
        domain,
        bus: narrow(bus),
        slot: narrow(slot),
        function: narrow(function),
    })
}

/// Numbers as C's strtol with base 0 reads them: `0x1f`, `017` (octal) or `31`.
fn parse_c_number(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok();
    }
    if s.len() > 1 && s.starts_with('0') {
        return u32::from_str_radix(&s[1..], 8).ok();
    }
    s.parse().ok()
}

fn read_nat(node: &Node) -> Result<NatDef, XmlError> {
    let mut c = Cursor::new(node);
    let ipv6 = c.yes_no("ipv6")?;
    let address = c.child("address")?;
    let addresses = address
        .map(|n| read_pair::<Ipv4Addr>(n, "an IPv4 address"))
        .transpose()?;
    let ports = c
        .child("port")?
        .map(|n| read_pair::<u16>(n, "a port number"))
        .transpose()?;
    Ok(NatDef {
        addresses,
        ports,
        ipv6,
        extra: c.finish(),
    })
}

fn read_pair<T: std::str::FromStr>(node: &Node, what: &str) -> Result<(T, T), XmlError> {
    let mut c = Cursor::new(node);
    Ok((
        c.parse_required("start", what)?,
        c.parse_required("end", what)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_c_number;

    #[test]
    fn c_numbers() {
        assert_eq!(parse_c_number("0x1f"), Some(31));
        assert_eq!(parse_c_number("010"), Some(8));
        assert_eq!(parse_c_number("0"), Some(0));
        assert_eq!(parse_c_number("12"), Some(12));
        assert_eq!(parse_c_number("zz"), None);
    }
}
