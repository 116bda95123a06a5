//! libvirt-style XML output: the writer and the `<network>` element.

use std::fmt::Write as _;

use super::write_parts as parts;
use super::DNSMASQ_NS;
use crate::model::def::NetworkDef;
use crate::model::extra::{Extra, XmlElement, XmlNode};

/// An element's start tag being built: name and attributes in output order.
pub(super) struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

impl Tag {
    pub fn new(name: &str) -> Self {
        Tag {
            name: name.to_string(),
            attrs: Vec::new(),
        }
    }

    pub fn attr(mut self, key: &str, value: impl ToString) -> Self {
        self.attrs.push((key.to_string(), value.to_string()));
        self
    }

    pub fn opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.attr(key, v),
            None => self,
        }
    }

    pub fn yes_no(self, key: &str, value: Option<bool>) -> Self {
        self.opt(key, value.map(|b| if b { "yes" } else { "no" }))
    }

    /// Append the unknown attributes kept from the input.
    pub fn extra(mut self, extra: &Extra) -> Self {
        self.attrs.extend(extra.attrs.iter().cloned());
        self
    }
}

/// Indenting writer with libvirt's conventions (2 spaces, single-quoted attributes).
#[derive(Default)]
pub(super) struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    fn start_line(&mut self, tag: &Tag) {
        self.out.push_str(&"  ".repeat(self.depth));
        self.out.push('<');
        self.out.push_str(&tag.name);
        for (k, v) in &tag.attrs {
            let _ = write!(self.out, " {k}='{}'", escape(v, true));
        }
    }

    /// `<tag …/>`
    pub fn empty(&mut self, tag: &Tag) {
        self.start_line(tag);
        self.out.push_str("/>\n");
    }

    /// `<tag …>`; children follow one level deeper.
    pub fn open(&mut self, tag: &Tag) {
        self.start_line(tag);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    /// `</name>`
    pub fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        let _ = writeln!(self.out, "{}</{name}>", "  ".repeat(self.depth));
    }

    /// `<tag>` + body + `</tag>`, or `<tag/>` when the body writes nothing.
    pub fn wrap(&mut self, tag: Tag, body: impl FnOnce(&mut Writer)) {
        let mark = self.out.len();
        self.open(&tag);
        let after_open = self.out.len();
        body(self);
        if self.out.len() == after_open {
            self.out.truncate(mark);
            self.depth = self.depth.saturating_sub(1);
            self.empty(&tag);
        } else {
            self.close(&tag.name);
        }
    }

    /// `<name>text</name>` on one line.
    pub fn text_element(&mut self, name: &str, text: &str) {
        let _ = writeln!(
            self.out,
            "{}<{name}>{}</{name}>",
            "  ".repeat(self.depth),
            escape(text, false)
        );
    }

    /// The unknown child elements kept from the input.
    pub fn extra_children(&mut self, extra: &Extra) {
        for child in &extra.children {
            self.element(child);
        }
    }

    /// A generic element, written as libvirt writes `<metadata>` (libxml2 style: double
    /// quotes). Mixed content (any text) is written inline to keep the text exact.
    pub fn element(&mut self, el: &XmlElement) {
        self.out.push_str(&"  ".repeat(self.depth));
        if el.has_text() || el.children.is_empty() {
            inline(&mut self.out, el);
            self.out.push('\n');
            return;
        }
        generic_start(&mut self.out, el);
        self.out.push_str(">\n");
        self.depth += 1;
        for child in &el.children {
            if let XmlNode::Element(e) = child {
                self.element(e);
            }
        }
        self.close(&el.name);
    }
}

fn generic_start(out: &mut String, el: &XmlElement) {
    out.push('<');
    out.push_str(&el.name);
    for (k, v) in &el.attrs {
        let _ = write!(out, " {k}=\"{}\"", escape(v, true));
    }
}

fn inline(out: &mut String, el: &XmlElement) {
    generic_start(out, el);
    if el.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for child in &el.children {
        match child {
            XmlNode::Text(t) => out.push_str(&escape(t, false)),
            XmlNode::Element(e) => inline(out, e),
        }
    }
    let _ = write!(out, "</{}>", el.name);
}

/// Escape for XML text or a single-quoted attribute value. Control characters become
/// character references so they survive a round trip; NUL, which XML cannot carry at all,
/// becomes U+FFFD.
pub(super) fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' if attr => out.push_str("&apos;"),
            '"' if attr => out.push_str("&quot;"),
            '\0' => out.push('\u{fffd}'),
            '\n' | '\t' if !attr => out.push(ch),
            c if c.is_control() => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

pub(super) fn write_network(def: &NetworkDef) -> String {
    let mut w = Writer::default();
    let options = !def.dnsmasq_options.is_empty();
    let mut root = Tag::new("network")
        .opt("xmlns:dnsmasq", options.then_some(DNSMASQ_NS))
        .opt("ipv6", def.ipv6_no_gateway.then_some("yes"))
        .yes_no("trustGuestRxFilters", def.trust_guest_rx_filters);
    let extra = def
        .extra
        .attrs
        .iter()
        .filter(|(k, _)| !(options && k == "xmlns:dnsmasq"));
    root.attrs.extend(extra.cloned());
    w.open(&root);
    w.text_element("name", &def.name);
    if let Some(uuid) = &def.uuid {
        w.text_element("uuid", &uuid.hyphenated().to_string());
    }
    if let Some(title) = &def.title {
        w.text_element("title", title);
    }
    if let Some(description) = &def.description {
        w.text_element("description", description);
    }
    if let Some(metadata) = &def.metadata {
        w.element(metadata);
    }
    parts::write_forward(&mut w, def);
    parts::write_bridge(&mut w, def);
    write_simple(&mut w, def);
    parts::write_dns(&mut w, def.dns.as_ref());
    parts::write_port_settings(&mut w, def);
    def.ips.iter().for_each(|ip| parts::write_ip(&mut w, ip));
    def.routes
        .iter()
        .for_each(|r| parts::write_route(&mut w, r));
    parts::write_virtualport(&mut w, def.virtualport.as_ref());
    def.portgroups
        .iter()
        .for_each(|pg| parts::write_portgroup(&mut w, pg));
    write_dnsmasq_options(&mut w, &def.dnsmasq_options);
    w.extra_children(&def.extra);
    w.close("network");
    w.out
}

/// `<mtu>`, `<mac>`, `<domain>`.
fn write_simple(w: &mut Writer, def: &NetworkDef) {
    if let Some(mtu) = def.mtu {
        w.empty(&Tag::new("mtu").attr("size", mtu));
    }
    if let Some(mac) = &def.mac {
        w.empty(&Tag::new("mac").attr("address", mac));
    }
    if let Some(domain) = &def.domain {
        let tag = Tag::new("domain")
            .attr("name", &domain.name)
            .yes_no("localOnly", domain.local_only);
        w.wrap(tag.extra(&domain.extra), |w| {
            w.extra_children(&domain.extra)
        });
    }
}

fn write_dnsmasq_options(w: &mut Writer, options: &[String]) {
    if options.is_empty() {
        return;
    }
    w.open(&Tag::new("dnsmasq:options"));
    for value in options {
        w.empty(&Tag::new("dnsmasq:option").attr("value", value));
    }
    w.close("dnsmasq:options");
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes() {
        assert_eq!(escape("a'b\"c<&>", true), "a&apos;b&quot;c&lt;&amp;&gt;");
        assert_eq!(escape("a'b\n", false), "a'b\n");
        assert_eq!(escape("x\ny\u{1}", true), "x&#10;y&#1;");
    }
}
