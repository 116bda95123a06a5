//! `<dns>`: forwarders, TXT, SRV and host records.

use super::cursor::{text_of, Cursor};
use super::tree::Node;
use super::XmlError;
use crate::model::dns::{
    DnsDef, DnsForwarder, DnsHost, DnsSrv, DnsTxt, PartialDnsHost, PartialDnsSrv, PartialDnsTxt,
};

pub(super) fn read_dns(node: &Node) -> Result<DnsDef, XmlError> {
    let mut c = Cursor::new(node);
    let dns = DnsDef {
        enable: c.yes_no("enable")?,
        forward_plain_names: c.yes_no("forwardPlainNames")?,
        forwarders: c.many("forwarder", read_forwarder)?,
        txts: c.many("txt", read_txt)?,
        srvs: c.many("srv", read_srv)?,
        hosts: c.many("host", read_host)?,
        extra: c.finish(),
    };
    if dns.enable == Some(false) && dns.has_records() {
        return Err(c_err(
            node,
            "<dns enable='no'> cannot also carry forwarders or host, srv or txt records",
        ));
    }
    Ok(dns)
}

fn c_err(node: &Node, msg: &str) -> XmlError {
    XmlError::new(node.line, msg)
}

fn read_forwarder(node: &Node) -> Result<DnsForwarder, XmlError> {
    let mut c = Cursor::new(node);
    let fwd = DnsForwarder {
        domain: c.attr("domain").map(str::to_string),
        addr: c.parse("addr", "an IP address")?,
    };
    if fwd.domain.is_none() && fwd.addr.is_none() {
        return Err(c.err("<forwarder> needs an addr or a domain attribute (or both)"));
    }
    Ok(fwd)
}

fn read_txt(node: &Node) -> Result<DnsTxt, XmlError> {
    let part = read_txt_partial(node)?;
    let value = part.value.ok_or_else(|| missing(node, "value"))?;
    Ok(DnsTxt {
        name: part.name,
        value,
    })
}

/// `<txt>` with the value optional (an update fragment to match records by).
pub(super) fn read_txt_partial(node: &Node) -> Result<PartialDnsTxt, XmlError> {
    let mut c = Cursor::new(node);
    Ok(PartialDnsTxt {
        name: c.required("name")?.to_string(),
        value: c.attr("value").map(str::to_string),
    })
}

fn read_srv(node: &Node) -> Result<DnsSrv, XmlError> {
    let part = read_srv_partial(node)?;
    if part.service.is_none() {
        return Err(missing(node, "service"));
    }
    part.complete().ok_or_else(|| missing(node, "protocol"))
}

/// `<srv>` with every attribute optional (an update fragment to match records by).
pub(super) fn read_srv_partial(node: &Node) -> Result<PartialDnsSrv, XmlError> {
    let mut c = Cursor::new(node);
    Ok(PartialDnsSrv {
        service: c.attr("service").map(str::to_string),
        protocol: c.attr("protocol").map(str::to_string),
        domain: c.attr("domain").map(str::to_string),
        target: c.attr("target").map(str::to_string),
        port: c.parse("port", "a port number (0-65535)")?,
        priority: c.parse("priority", "a priority (0-65535)")?,
        weight: c.parse("weight", "a weight (0-65535)")?,
    })
}

fn read_host(node: &Node) -> Result<DnsHost, XmlError> {
    let part = read_host_partial(node)?;
    let ip = part.ip.ok_or_else(|| missing(node, "ip"))?;
    if part.hostnames.is_empty() {
        return Err(c_err(node, "<host> in <dns> needs at least one <hostname>"));
    }
    Ok(DnsHost {
        ip,
        hostnames: part.hostnames,
    })
}

/// `<host>` of `<dns>` with the address and the names optional (an update fragment to match
/// records by). A `<hostname>` that is given must not be empty.
pub(super) fn read_host_partial(node: &Node) -> Result<PartialDnsHost, XmlError> {
    let mut c = Cursor::new(node);
    let ip = c.parse("ip", "an IP address")?;
    let mut hostnames = Vec::new();
    for name in c.children("hostname") {
        let text = text_of(name);
        if text.is_empty() {
            return Err(XmlError::new(name.line, "<hostname> is empty"));
        }
        hostnames.push(text);
    }
    Ok(PartialDnsHost { ip, hostnames })
}

/// The error for a required attribute that is missing, in `Cursor::required`'s words.
fn missing(node: &Node, key: &str) -> XmlError {
    c_err(
        node,
        &format!("<{}> is missing its {key} attribute", node.name),
    )
}
