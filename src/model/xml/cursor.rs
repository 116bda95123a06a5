//! `Cursor`: reads one element's attributes and children, remembering which were used so
//! the rest can be kept as [`Extra`].

use std::str::FromStr;

use super::tree::{Child, Node};
use super::XmlError;
use crate::model::extra::{Extra, XmlElement, XmlNode};

pub(super) struct Cursor<'a> {
    node: &'a Node,
    attr_used: Vec<bool>,
    child_used: Vec<bool>,
}

impl<'a> Cursor<'a> {
    pub fn new(node: &'a Node) -> Self {
        Cursor {
            node,
            attr_used: vec![false; node.attrs.len()],
            child_used: vec![false; node.children.len()],
        }
    }

    /// All attributes of the element, used or not.
    pub fn node_attrs(&self) -> &'a [(String, String)] {
        &self.node.attrs
    }

    pub fn name(&self) -> &'a str {
        &self.node.name
    }

    /// An error located at this element.
    pub fn err(&self, message: impl Into<String>) -> XmlError {
        XmlError::new(self.node.line, message)
    }

    /// Take an attribute by name.
    pub fn attr(&mut self, key: &str) -> Option<&'a str> {
        let i = self.node.attrs.iter().position(|(k, _)| k == key)?;
        self.attr_used[i] = true;
        Some(self.node.attrs[i].1.as_str())
    }

    /// Take an attribute that must be present.
    pub fn required(&mut self, key: &str) -> Result<&'a str, XmlError> {
        self.attr(key)
            .ok_or_else(|| self.err(format!("<{}> is missing its {key} attribute", self.name())))
    }

    /// Take and parse an attribute; `what` names the expected kind in the error.
    pub fn parse<T: FromStr>(&mut self, key: &str, what: &str) -> Result<Option<T>, XmlError> {
        match self.attr(key) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.bad_value(key, v, what)),
        }
    }

    /// Take and parse an attribute that must be present.
    pub fn parse_required<T: FromStr>(&mut self, key: &str, what: &str) -> Result<T, XmlError> {
        let v = self.required(key)?;
        v.trim().parse().map_err(|_| self.bad_value(key, v, what))
    }

    /// Take a `yes`/`no` attribute.
    pub fn yes_no(&mut self, key: &str) -> Result<Option<bool>, XmlError> {
        self.choice(key, &[("yes", true), ("no", false)])
    }

    /// Take an attribute whose value must be one of `options`.
    pub fn choice<T: Copy>(
        &mut self,
        key: &str,
        options: &[(&str, T)],
    ) -> Result<Option<T>, XmlError> {
        let Some(v) = self.attr(key) else {
            return Ok(None);
        };
        if let Some((_, t)) = options.iter().find(|(name, _)| *name == v) {
            return Ok(Some(*t));
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        Err(self.bad_value(key, v, &format!("one of {}", names.join(", "))))
    }

    pub fn bad_value(&self, key: &str, value: &str, what: &str) -> XmlError {
        self.err(format!(
            "<{} {key}='{value}'>: '{value}' is not {what}",
            self.name()
        ))
    }

    /// Take all child elements with this name.
    pub fn children(&mut self, name: &str) -> Vec<&'a Node> {
        self.children_where(|n| n.name == name)
    }

    /// Take all child elements whose name matches.
    pub fn children_where(&mut self, mut pred: impl FnMut(&Node) -> bool) -> Vec<&'a Node> {
        let mut out = Vec::new();
        for (i, child) in self.node.children.iter().enumerate() {
            if let Child::Elem(n) = child {
                if pred(n) {
                    self.child_used[i] = true;
                    out.push(n);
                }
            }
        }
        out
    }

    /// Take the single child element with this name; a second one is an error.
    pub fn child(&mut self, name: &str) -> Result<Option<&'a Node>, XmlError> {
        let found = self.children(name);
        if let Some(dup) = found.get(1) {
            let parent = self.name();
            return Err(XmlError::new(
                dup.line,
                format!("duplicate <{name}> in <{parent}> (only one is allowed)"),
            ));
        }
        Ok(found.first().copied())
    }

    /// Take the single child element with this name and read it.
    pub fn one<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&'a Node) -> Result<T, XmlError>,
    ) -> Result<Option<T>, XmlError> {
        self.child(name)?.map(read).transpose()
    }

    /// Take all child elements with this name and read each.
    pub fn many<T>(
        &mut self,
        name: &str,
        read: impl FnMut(&'a Node) -> Result<T, XmlError>,
    ) -> Result<Vec<T>, XmlError> {
        self.children(name).into_iter().map(read).collect()
    }

    /// Take a single child element's text content.
    pub fn child_text(&mut self, name: &str) -> Result<Option<String>, XmlError> {
        Ok(self.child(name)?.map(text_of))
    }

    /// Unused attributes and child elements.
    pub fn finish(self) -> Extra {
        let attrs = self
            .node
            .attrs
            .iter()
            .zip(&self.attr_used)
            .filter(|(_, used)| !**used);
        let children = self
            .node
            .children
            .iter()
            .zip(&self.child_used)
            .filter(|(_, used)| !**used);
        Extra {
            attrs: attrs.map(|(a, _)| a.clone()).collect(),
            children: children
                .filter_map(|(c, _)| match c {
                    Child::Elem(n) => Some(to_element(n)),
                    Child::Text(_) => None,
                })
                .collect(),
        }
    }
}

/// Concatenated text content of an element (child elements ignored).
pub(super) fn text_of(node: &Node) -> String {
    let texts = node.children.iter().filter_map(|c| match c {
        Child::Text(t) => Some(t.as_str()),
        Child::Elem(_) => None,
    });
    texts.collect()
}

/// The whole subtree as a generic element; whitespace-only text is dropped.
pub(super) fn to_element(node: &Node) -> XmlElement {
    let children = node.children.iter().filter_map(|c| match c {
        Child::Elem(n) => Some(XmlNode::Element(to_element(n))),
        Child::Text(t) if t.trim().is_empty() => None,
        Child::Text(t) => Some(XmlNode::Text(t.clone())),
    });
    XmlElement {
        name: node.name.clone(),
        attrs: node.attrs.clone(),
        children: children.collect(),
    }
}
