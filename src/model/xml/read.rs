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
        return Err(c.err(format!(
            "the root element is <{}>, expected <network>",
            c.name()
        )));
    }
    let prefixes = dnsmasq_prefixes(&mut c);
    c.attr("connections"); // runtime status, never part of a persistent definition
    let mut def = NetworkDef {
        ipv6: c.yes_no("ipv6")?.unwrap_or(false),
        trust_guest_rx_filters: c.yes_no("trustGuestRxFilters")?,
        name: read_name(&mut c)?,
        uuid: read_uuid(&mut c)?,
        title: read_title(&mut c)?,
        description: c.child_text("description")?,
        metadata: c.child("metadata")?.map(to_element),
        ..NetworkDef::default()
    };
    def.forward = c
        .child("forward")?
        .map(read_forward::read_forward)
        .transpose()?;
    def.bridge = c.child("bridge")?.map(read_bridge).transpose()?;
    def.mtu = c
        .child("mtu")?
        .map(|n| Cursor::new(n).parse_required("size", "a size in bytes"))
        .transpose()?;
    def.mac = c.child("mac")?.map(read_mac).transpose()?;
    def.domain = c.child("domain")?.map(read_domain).transpose()?;
    def.dns = c.child("dns")?.map(read_dns::read_dns).transpose()?;
    def.vlan = c.child("vlan")?.map(read_port::read_vlan).transpose()?;
    def.bandwidth = c
        .child("bandwidth")?
        .map(read_port::read_bandwidth)
        .transpose()?;
    def.port_isolated = c
        .child("port")?
        .map(|n| Cursor::new(n).yes_no("isolated"))
        .transpose()?
        .flatten();
    def.ips = c
        .children("ip")
        .into_iter()
        .map(read_ip::read_ip)
        .collect::<Result<_, _>>()?;
    def.routes = c
        .children("route")
        .into_iter()
        .map(read_ip::read_route)
        .collect::<Result<_, _>>()?;
    def.virtualport = c
        .child("virtualport")?
        .map(read_port::read_virtualport)
        .transpose()?;
    def.portgroups = c
        .children("portgroup")
        .into_iter()
        .map(read_port::read_portgroup)
        .collect::<Result<_, _>>()?;
    def.dnsmasq_options = read_dnsmasq_options(&mut c, &prefixes)?;
    def.extra = c.finish();
    check_dnsmasq_prefix(&def, root.line)?;
    Ok(def)
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
