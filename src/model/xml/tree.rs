//! Well-formed XML → a small element tree with line numbers, using quick-xml events.

use std::collections::{HashMap, HashSet};

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use super::{XmlError, MAX_XML_ELEMENTS};

/// Deepest element nesting accepted; network XML needs fewer than ten levels.
const MAX_DEPTH: usize = 64;

/// An element as read, with the line its start tag begins on.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Child>,
    pub line: u32,
}

/// Element or (unescaped) text child.
#[derive(Debug, Clone)]
pub(super) enum Child {
    Elem(Node),
    Text(String),
}

/// Byte offset → 1-based line number.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        Lines(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    fn line(&self, pos: u64) -> u32 {
        let pos = usize::try_from(pos).unwrap_or(usize::MAX);
        let before = self.0.partition_point(|&nl| nl < pos);
        u32::try_from(before + 1).unwrap_or(u32::MAX)
    }
}

/// Open elements, their namespace scopes, the finished root, and how many elements were
/// read so far.
#[derive(Default)]
struct Builder {
    stack: Vec<Node>,
    scopes: Scopes,
    root: Option<Node>,
    elements: usize,
}

/// Namespace prefixes declared by the open elements: per element (to undo at its end tag)
/// and counted per prefix (to look one up in constant time).
#[derive(Default)]
struct Scopes {
    per_element: Vec<Vec<String>>,
    declared: HashMap<String, usize>,
}

impl Scopes {
    fn push(&mut self, prefixes: Vec<String>) {
        for p in &prefixes {
            *self.declared.entry(p.clone()).or_default() += 1;
        }
        self.per_element.push(prefixes);
    }

    fn pop(&mut self) {
        for p in self.per_element.pop().unwrap_or_default() {
            if let Some(n) = self.declared.get_mut(&p) {
                *n -= 1;
                if *n == 0 {
                    self.declared.remove(&p);
                }
            }
        }
    }

    fn contains(&self, prefix: &str) -> bool {
        self.declared.contains_key(prefix)
    }
}

/// Parse the whole document and return its root element.
pub(super) fn parse_tree(text: &str) -> Result<Node, XmlError> {
    let lines = Lines::new(text);
    let mut reader = Reader::from_str(text);
    let mut b = Builder::default();
    loop {
        let line = lines.line(reader.buffer_position());
        let event = reader.read_event().map_err(|e| {
            XmlError::new(
                lines.line(reader.error_position()),
                format!("malformed XML: {e}"),
            )
        })?;
        if !b.event(event, line)? {
            break;
        }
    }
    b.finish()
}

impl Builder {
    /// Handle one event; `false` at the end of the document.
    fn event(&mut self, event: Event<'_>, line: u32) -> Result<bool, XmlError> {
        let bad =
            |what: &str, e: &dyn std::fmt::Display| XmlError::new(line, format!("bad {what}: {e}"));
        match event {
            Event::Start(e) => {
                self.count(line)?;
                self.start(start_node(&e, line)?)?;
            }
            Event::Empty(e) => {
                self.count(line)?;
                let node = start_node(&e, line)?;
                check_prefixes(&node, &self.scopes)?;
                self.attach(node)?;
            }
            Event::End(_) => {
                self.scopes.pop();
                let node = self
                    .stack
                    .pop()
                    .ok_or_else(|| XmlError::new(line, "unexpected end tag"))?;
                self.attach(node)?;
            }
            Event::Text(t) => self.text(&t.xml10_content().map_err(|e| bad("text", &e))?, line)?,
            Event::CData(c) => self.text(&c.decode().map_err(|e| bad("CDATA", &e))?, line)?,
            Event::GeneralRef(r) => self.text(&resolve_ref(&r, line)?, line)?,
            Event::DocType(_) => {
                return Err(XmlError::new(
                    line,
                    "<!DOCTYPE> is not allowed in network XML",
                ))
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => return Ok(false),
        }
        Ok(true)
    }

    /// One more element; refused past [`MAX_XML_ELEMENTS`], before its tag is even read.
    fn count(&mut self, line: u32) -> Result<(), XmlError> {
        self.elements += 1;
        if self.elements > MAX_XML_ELEMENTS {
            let msg = format!(
                "the document has more than {MAX_XML_ELEMENTS} elements, the limit for a network definition"
            );
            return Err(XmlError::new(line, msg));
        }
        Ok(())
    }

    fn start(&mut self, node: Node) -> Result<(), XmlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(XmlError::new(node.line, "elements are nested too deeply"));
        }
        self.scopes.push(check_prefixes(&node, &self.scopes)?);
        self.stack.push(node);
        Ok(())
    }

    fn attach(&mut self, node: Node) -> Result<(), XmlError> {
        if let Some(parent) = self.stack.last_mut() {
            parent.children.push(Child::Elem(node));
            return Ok(());
        }
        if self.root.is_some() {
            let msg = format!(
                "<{}> after the root element; only one root is allowed",
                node.name
            );
            return Err(XmlError::new(node.line, msg));
        }
        self.root = Some(node);
        Ok(())
    }

    /// Text is merged with a preceding text child (entity references split it up).
    fn text(&mut self, text: &str, line: u32) -> Result<(), XmlError> {
        let Some(parent) = self.stack.last_mut() else {
            if text.trim().is_empty() {
                return Ok(());
            }
            return Err(XmlError::new(line, "text outside the root element"));
        };
        if let Some(Child::Text(prev)) = parent.children.last_mut() {
            prev.push_str(text);
        } else {
            parent.children.push(Child::Text(text.to_string()));
        }
        Ok(())
    }

    fn finish(self) -> Result<Node, XmlError> {
        if let Some(open) = self.stack.last() {
            return Err(XmlError::new(
                open.line,
                format!("<{}> is never closed", open.name),
            ));
        }
        self.root
            .ok_or_else(|| XmlError::new(1, "the document is empty (expected a <network> element)"))
    }
}

fn start_node(e: &BytesStart<'_>, line: u32) -> Result<Node, XmlError> {
    let name = std::str::from_utf8(e.name().as_ref())
        .map_err(|_| XmlError::new(line, "element name is not UTF-8"))?
        .to_string();
    let mut attrs = Vec::new();
    // quick-xml's own duplicate check compares each key with every earlier one (quadratic
    // in the number of attributes); a set does the same in linear time.
    let mut keys = HashSet::new();
    for attr in e.attributes().with_checks(false) {
        let attr =
            attr.map_err(|err| XmlError::new(line, format!("<{name}>: bad attribute: {err}")))?;
        let key = std::str::from_utf8(attr.key.as_ref())
            .map_err(|_| XmlError::new(line, format!("<{name}>: attribute name is not UTF-8")))?
            .to_string();
        if !keys.insert(key.clone()) {
            let msg = format!("<{name}>: duplicate attribute '{key}'");
            return Err(XmlError::new(line, msg));
        }
        let value = attr
            .unescape_value()
            .map_err(|err| XmlError::new(line, format!("<{name} {key}=…>: bad value: {err}")))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Node {
        name,
        attrs,
        children: Vec::new(),
        line,
    })
}

/// Namespace well-formedness: every prefix used on the element or its attributes must be
/// declared here or on an ancestor. Returns the prefixes this element declares.
fn check_prefixes(node: &Node, scopes: &Scopes) -> Result<Vec<String>, XmlError> {
    let declared: Vec<String> = node
        .attrs
        .iter()
        .filter_map(|(k, _)| k.strip_prefix("xmlns:").map(str::to_string))
        .collect();
    let here: HashSet<&str> = declared.iter().map(String::as_str).collect();
    let known = |p: &str| p == "xml" || p == "xmlns" || here.contains(p) || scopes.contains(p);
    let names =
        std::iter::once(node.name.as_str()).chain(node.attrs.iter().map(|(k, _)| k.as_str()));
    for name in names {
        if let Some((prefix, _)) = name.split_once(':').filter(|(p, _)| !known(p)) {
            let msg = format!(
                "<{}>: the namespace prefix '{prefix}' in '{name}' is not declared (add xmlns:{prefix}='…')",
                node.name
            );
            return Err(XmlError::new(node.line, msg));
        }
    }
    Ok(declared)
}

fn resolve_ref(r: &BytesRef<'_>, line: u32) -> Result<String, XmlError> {
    let bad = |what: String| XmlError::new(line, what);
    if let Some(ch) = r
        .resolve_char_ref()
        .map_err(|e| bad(format!("bad character reference: {e}")))?
    {
        return Ok(ch.to_string());
    }
    let name = r
        .decode()
        .map_err(|e| bad(format!("bad entity reference: {e}")))?;
    resolve_predefined_entity(&name)
        .map(str::to_string)
        .ok_or_else(|| bad(format!("unknown entity &{name};")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_text() {
        let root = parse_tree("<?xml version='1.0'?>\n<a>\n  <b x='1&amp;2'>t&lt;u</b>\n</a>\n")
            .expect("parses");
        assert_eq!(root.line, 2);
        let Child::Elem(b) = &root.children[1] else {
            panic!("expected element")
        };
        assert_eq!(b.line, 3);
        assert_eq!(b.attrs, vec![("x".to_string(), "1&2".to_string())]);
        assert!(matches!(&b.children[0], Child::Text(t) if t == "t<u"));
    }

    #[test]
    fn errors_have_lines() {
        let err = parse_tree("<a>\n<b>\n</a>").expect_err("mismatched");
        assert!(err.line >= 2, "{err}");
        let err = parse_tree("<a>\n<b>").expect_err("unclosed");
        assert_eq!(err.line, 2, "{err}");
        assert!(parse_tree("").is_err());
        assert!(parse_tree("<a/><b/>").is_err());
        assert!(parse_tree("<!DOCTYPE a><a/>").is_err());
        assert!(parse_tree("<a>&foo;</a>").is_err());
        let err = parse_tree("<a>\n<p:b/></a>").expect_err("unbound prefix");
        assert_eq!(err.line, 2, "{err}");
        assert!(parse_tree("<a xmlns:p='urn:p'><p:b p:c='1'/></a>").is_ok());
        assert!(
            parse_tree("<a><b xmlns:p='urn:p'/><p:c/></a>").is_err(),
            "declaration out of scope"
        );
    }
}
