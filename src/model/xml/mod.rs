//! libvirt network XML in and out.
//!
//! Parsing builds a small element tree with line numbers (`tree`), then interprets it
//! (`read*`), keeping unknown attributes and elements on the nearest model struct. Formatting
//! (`write*`) follows libvirt's own output: 2-space indent, single quotes, libvirt's element
//! and attribute order.

mod cursor;
pub mod fragment;
mod read;
mod read_dns;
mod read_forward;
mod read_ip;
mod read_port;
mod tree;
mod write;
mod write_parts;

use super::def::NetworkDef;

/// Namespace of libvirt's `<dnsmasq:options>` extension.
pub const DNSMASQ_NS: &str = "http://libvirt.org/schemas/network/dnsmasq/1.0";

/// Why a network XML document was rejected: the line and a message naming the element or
/// attribute and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct XmlError {
    /// 1-based line of the offending element (or of the syntax error).
    pub line: u32,
    /// What is wrong, in plain words.
    pub message: String,
}

impl XmlError {
    pub(crate) fn new(line: u32, message: impl Into<String>) -> Self {
        XmlError {
            line,
            message: message.into(),
        }
    }
}

/// Largest document accepted, in bytes (1 MiB). libvirt's own test definitions are a few
/// kilobytes; a network with thousands of static hosts stays well below this.
pub const MAX_XML_BYTES: usize = 1024 * 1024;

/// Most elements accepted in one document (start and empty tags, at any depth).
pub const MAX_XML_ELEMENTS: usize = 10_000;

/// Parse a libvirt `<network>` document. A document over [`MAX_XML_BYTES`] is refused before
/// it is read at all, and one with more than [`MAX_XML_ELEMENTS`] elements as soon as the
/// reader meets the first element too many, before any of it becomes a definition.
pub fn parse_network_xml(text: &str) -> Result<NetworkDef, XmlError> {
    check_size(text)?;
    let root = tree::parse_tree(text)?;
    read::read_network(&root)
}

/// A document over [`MAX_XML_BYTES`] is refused before it is read at all.
fn check_size(text: &str) -> Result<(), XmlError> {
    if text.len() > MAX_XML_BYTES {
        return Err(XmlError::new(
            1,
            format!(
                "the document is {} bytes long; the limit is {MAX_XML_BYTES} bytes (1 MiB)",
                text.len()
            ),
        ));
    }
    Ok(())
}

/// Write a definition the way libvirt writes a persistent (inactive) network definition.
pub fn format_network_xml(def: &NetworkDef) -> String {
    write::write_network(def)
}
