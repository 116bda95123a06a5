//! Interpret the element tree as a [`NetworkDef`]: the `<network>` element and its simple
//! children. Bigger children live in `read_forward`, `read_ip`, `read_dns`, `read_port`.

use uuid::Uuid;

use super::cursor::{text_of, to_element, Cursor};
use super::tree::Node;
use super::{read_dns, read_forward, read_ip, read_port, XmlError, DNSMASQ_NS};
use crate::model::def::{BridgeDef, DomainDef, MacTableManager, NetworkDef};
use crate::model::mac::MacAddr;

pub(super) fn read_network(root: &Node) -> Result<NetworkDef, XmlError> {
    let mut c = Cursor::new(root);
    if c.name() != "network" {
        let msg = format!("the root element is <{}>, expected <network>", c.name());
        return Err(c.err(msg));
    }
    let prefixes = dnsmasq_prefixes(&mut c);
    c.attr("connections"); // runtime status, never part of a persistent definition
    let mut def = read_identity(&mut c)?;
    read_body(&mut c, &mut def)?;
    def.dnsmasq_options = read_dnsmasq_options(&mut c, &prefixes)?;
    def.extra = c.finish();
    check_dnsmasq_prefix(&def, root.line)?;
    Ok(def)
}

/// `<network>` attributes, name, uuid, title, description, metadata.
fn read_identity(c: &mut Cursor<'_>) -> Result<NetworkDef, XmlError> {
    Ok(NetworkDef {
        ipv6_no_gateway: c.yes_no("ipv6")?.unwrap_or(false),
        trust_guest_rx_filters: c.yes_no("trustGuestRxFilters")?,
        name: read_name(c)?,
        uuid: read_uuid(c)?,
        title: read_title(c)?,
        description: c.child_text("description")?,
        metadata: c.child("metadata")?.map(to_element),
        ..NetworkDef::default()
    })
}

fn read_body(c: &mut Cursor<'_>, def: &mut NetworkDef) -> Result<(), XmlError> {
    def.forward = c.one("forward", read_forward::read_forward)?;
    def.bridge = c.one("bridge", read_bridge)?;
    def.mtu = c.one("mtu", |n| {
        Cursor::new(n).parse_required("size", "a size in bytes")
    })?;
    def.mac = c.one("mac", read_mac)?;
    def.domain = c.one("domain", read_domain)?;
    def.dns = c.one("dns", read_dns::read_dns)?;
    def.vlan = c.one("vlan", read_port::read_vlan)?;
    def.bandwidth = c.one("bandwidth", read_port::read_bandwidth)?;
    def.port_isolated = c
        .one("port", |n| Cursor::new(n).yes_no("isolated"))?
        .flatten();
    def.ips = c.many("ip", read_ip::read_ip)?;
    def.routes = c.many("route", read_ip::read_route)?;
    def.virtualport = c.one("virtualport", read_port::read_virtualport)?;
    def.portgroups = c.many("portgroup", read_port::read_portgroup)?;
    Ok(())
}

/// Prefixes bound to the dnsmasq namespace on `<network>`. Declarations stay as unknown
/// attributes (other elements may use them), except `xmlns:dnsmasq`, which the writer
/// declares itself when there are options.
fn dnsmasq_prefixes(c: &mut Cursor<'_>) -> Vec<String> {
    let decls = dnsmasq_decls(c.node_attrs());
    if decls.iter().any(|p| p == "dnsmasq") {
        c.attr("xmlns:dnsmasq");
    }
    decls
}

/// The writer puts options under the `dnsmasq` prefix; it must not mean anything else.
fn check_dnsmasq_prefix(def: &NetworkDef, line: u32) -> Result<(), XmlError> {
    let rebound = def.extra.attrs.iter().find(|(k, _)| k == "xmlns:dnsmasq");
    match rebound {
        Some((_, uri)) if !def.dnsmasq_options.is_empty() => Err(XmlError::new(
            line,
            format!("<network> binds the prefix 'dnsmasq' to '{uri}', but dnsmasq options need it for {DNSMASQ_NS}"),
        )),
        _ => Ok(()),
    }
}

fn dnsmasq_decls(attrs: &[(String, String)]) -> Vec<String> {
    let bound = attrs.iter().filter(|(_, v)| v == DNSMASQ_NS);
    bound
        .filter_map(|(k, _)| k.strip_prefix("xmlns:").map(str::to_string))
        .collect()
}

fn read_name(c: &mut Cursor<'_>) -> Result<String, XmlError> {
    match c.child_text("name")? {
        Some(name) if !name.is_empty() => Ok(name),
        Some(_) => Err(c.err("<name> is empty")),
        None => Err(c.err("<network> has no <name> element")),
    }
}

fn read_uuid(c: &mut Cursor<'_>) -> Result<Option<Uuid>, XmlError> {
    let Some(node) = c.child("uuid")? else {
        return Ok(None);
    };
    let text = text_of(node);
    let uuid = Uuid::try_parse(text.trim()).map_err(|_| {
        XmlError::new(
            node.line,
            format!("<uuid>: '{}' is not a UUID", text.trim()),
        )
    })?;
    Ok(Some(uuid))
}

fn read_title(c: &mut Cursor<'_>) -> Result<Option<String>, XmlError> {
    let Some(node) = c.child("title")? else {
        return Ok(None);
    };
    let title = text_of(node);
    if title.contains('\n') {
        return Err(XmlError::new(node.line, "<title> must be a single line"));
    }
    Ok(Some(title))
}

fn read_bridge(node: &Node) -> Result<BridgeDef, XmlError> {
    let mut c = Cursor::new(node);
    let managers = [
        ("kernel", MacTableManager::Kernel),
        ("libvirt", MacTableManager::Libvirt),
    ];
    Ok(BridgeDef {
        name: c.attr("name").map(str::to_string),
        zone: c.attr("zone").map(str::to_string),
        stp: c.choice("stp", &[("on", true), ("off", false)])?,
        delay: c.parse("delay", "a delay in seconds")?,
        mac_table_manager: c.choice("macTableManager", &managers)?,
        extra: c.finish(),
    })
}

fn read_mac(node: &Node) -> Result<MacAddr, XmlError> {
    Cursor::new(node).parse_required("address", "a MAC address")
}

fn read_domain(node: &Node) -> Result<DomainDef, XmlError> {
    let mut c = Cursor::new(node);
    Ok(DomainDef {
        name: c.required("name")?.to_string(),
        local_only: c.yes_no("localOnly")?,
        extra: c.finish(),
    })
}

/// `<P:options><P:option value=…/></P:options>` for every prefix P bound to the dnsmasq
/// namespace on `<network>` or on the options element itself.
fn read_dnsmasq_options(
    c: &mut Cursor<'_>,
    root_prefixes: &[String],
) -> Result<Vec<String>, XmlError> {
    let is_options = |node: &Node| {
        let Some((prefix, local)) = node.name.split_once(':') else {
            return false;
        };
        let own = dnsmasq_decls(&node.attrs);
        local == "options"
            && (root_prefixes.iter().any(|p| p == prefix) || own.iter().any(|p| p == prefix))
    };
    let mut values = Vec::new();
    for options in c.children_where(is_options) {
        let prefix = options.name.split_once(':').map_or("", |(p, _)| p);
        let mut oc = Cursor::new(options);
        for option in oc.children(&format!("{prefix}:option")) {
            values.push(Cursor::new(option).required("value")?.to_string());
        }
    }
    Ok(values)
}
