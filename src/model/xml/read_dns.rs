//! `<dns>`: forwarders, TXT, SRV and host records.

use super::cursor::{text_of, Cursor};
use super::tree::Node;
use super::XmlError;
use crate::model::dns::{DnsDef, DnsForwarder, DnsHost, DnsSrv, DnsTxt};

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
    let mut c = Cursor::new(node);
    Ok(DnsTxt {
        name: c.required("name")?.to_string(),
        value: c.required("value")?.to_string(),
    })
}

fn read_srv(node: &Node) -> Result<DnsSrv, XmlError> {
    let mut c = Cursor::new(node);
    Ok(DnsSrv {
        service: c.required("service")?.to_string(),
        protocol: c.required("protocol")?.to_string(),
        domain: c.attr("domain").map(str::to_string),
        target: c.attr("target").map(str::to_string),
        port: c.parse("port", "a port number (0-65535)")?,
        priority: c.parse("priority", "a priority (0-65535)")?,
        weight: c.parse("weight", "a weight (0-65535)")?,
    })
}

fn read_host(node: &Node) -> Result<DnsHost, XmlError> {
    let mut c = Cursor::new(node);
    let ip = c.parse_required("ip", "an IP address")?;
    let names = c.children("hostname");
    if names.is_empty() {
        return Err(c.err("<host> in <dns> needs at least one <hostname>"));
    }
    let mut hostnames = Vec::new();
    for name in names {
        let text = text_of(name);
        if text.is_empty() {
            return Err(XmlError::new(name.line, "<hostname> is empty"));
        }
        hostnames.push(text);
    }
    Ok(DnsHost { ip, hostnames })
}
