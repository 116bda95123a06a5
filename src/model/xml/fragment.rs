//! `net-update` fragments: one `<host>`, `<range>`, `<txt>`, … element on its own, read by
//! the same functions that read that element inside a whole `<network>`.
//!
//! Where an update may name only part of an entry (a delete matches by what is given), the
//! reader returns the partial form ([`PartialDnsHost`] and friends); whether the fragment is
//! complete enough for the command is the update's business, not the reader's.

use super::tree::{parse_tree, Node};
use super::{check_size, read_dns, read_forward, read_ip, read_port, XmlError};
use crate::model::dns::{PartialDnsHost, PartialDnsSrv, PartialDnsTxt};
use crate::model::ip::{DhcpHost, DhcpRange};
use crate::model::port::PortGroupDef;

/// The fragment's single root element, which must be `<expected>` (libvirt's words when it is
/// not). The same size and element limits as a whole document apply.
fn root(text: &str, expected: &str) -> Result<Node, XmlError> {
    check_size(text)?;
    if text.trim().is_empty() {
        let msg = format!("the fragment is empty (expected a <{expected}> element)");
        return Err(XmlError::new(1, msg));
    }
    let node = parse_tree(text)?;
    if node.name != expected {
        let msg = format!(
            "unexpected element <{}>, expecting <{expected}>",
            node.name.escape_debug()
        );
        return Err(XmlError::new(node.line, msg));
    }
    Ok(node)
}

/// A `<host mac id name ip>` of `<dhcp>`; every attribute may be missing.
pub fn parse_dhcp_host(text: &str) -> Result<DhcpHost, XmlError> {
    read_ip::read_dhcp_host(&root(text, "host")?)
}

/// A `<range start end>` of `<dhcp>`.
pub fn parse_dhcp_range(text: &str) -> Result<DhcpRange, XmlError> {
    read_ip::read_range(&root(text, "range")?)
}

/// An `<interface dev>` of `<forward>`: the device name.
pub fn parse_forward_interface(text: &str) -> Result<String, XmlError> {
    read_forward::read_interface(&root(text, "interface")?).map(str::to_string)
}

/// A whole `<portgroup>`.
pub fn parse_portgroup(text: &str) -> Result<PortGroupDef, XmlError> {
    read_port::read_portgroup(&root(text, "portgroup")?)
}

/// A `<host ip>` of `<dns>` with its `<hostname>`s; the address and the names may be missing.
pub fn parse_dns_host(text: &str) -> Result<PartialDnsHost, XmlError> {
    read_dns::read_host_partial(&root(text, "host")?)
}

/// A `<txt name value>`; the value may be missing.
pub fn parse_dns_txt(text: &str) -> Result<PartialDnsTxt, XmlError> {
    read_dns::read_txt_partial(&root(text, "txt")?)
}

/// An `<srv>`; every attribute may be missing.
pub fn parse_dns_srv(text: &str) -> Result<PartialDnsSrv, XmlError> {
    read_dns::read_srv_partial(&root(text, "srv")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_single_elements() {
        let host =
            parse_dhcp_host("<host mac='52:54:00:AB:CD:EF' ip='10.0.0.5'/>").expect("a host");
        assert_eq!(host.mac_text().as_deref(), Some("52:54:00:AB:CD:EF"));
        let range = parse_dhcp_range("<range start='10.0.0.2' end='10.0.0.9'/>").expect("range");
        assert_eq!(range.end.to_string(), "10.0.0.9");
        assert_eq!(
            parse_forward_interface("<interface dev='eth0'/>").expect("iface"),
            "eth0"
        );
        let srv = parse_dns_srv("<srv protocol='tcp'/>").expect("a pattern");
        assert_eq!(srv.protocol.as_deref(), Some("tcp"));
        assert!(srv.clone().complete().is_none());
        let dns = parse_dns_host("<host><hostname>gw</hostname></host>").expect("a pattern");
        assert_eq!((dns.ip, dns.hostnames), (None, vec!["gw".to_string()]));
        let txt = parse_dns_txt("<txt name='a'/>").expect("a pattern");
        assert_eq!(txt.value, None);
    }

    #[test]
    fn refuses_other_elements_and_bad_xml() {
        let err = parse_dhcp_host("<range start='1.2.3.4' end='1.2.3.5'/>").expect_err("range");
        assert!(err.message.contains("expecting <host>"), "{err}");
        assert!(
            parse_dns_txt("<txt value='x'/>").is_err(),
            "txt needs a name"
        );
        assert!(parse_portgroup("<portgroup name='a'><vlan/></portgroup>").is_err());
        assert!(parse_dhcp_range("<range start='x' end='10.0.0.1'/>").is_err());
        assert!(parse_forward_interface("<interface/>").is_err());
        assert!(parse_dhcp_host("<host/><host/>").is_err());
        assert!(parse_dhcp_host("").is_err());
    }
}
