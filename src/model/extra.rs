//! Elements and attributes the model does not interpret, kept so they are written back.

/// A generic XML element: a qualified name (prefix kept verbatim), attributes in document
/// order, and children. Whitespace-only text between elements is not kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XmlElement {
    /// Qualified name as written, e.g. `app1:foo`.
    pub name: String,
    /// Attributes (including `xmlns:*` declarations) in document order, values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Child nodes in document order.
    pub children: Vec<XmlNode>,
}

/// A child of a generic element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XmlNode {
    /// A nested element.
    Element(XmlElement),
    /// Character data (unescaped), never whitespace-only.
    Text(String),
}

/// Unknown attributes and child elements of a known element, written after the known ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extra {
    /// Attributes the model does not interpret, in document order.
    pub attrs: Vec<(String, String)>,
    /// Child elements the model does not interpret, in document order.
    pub children: Vec<XmlElement>,
}

impl Extra {
    /// True when nothing unknown was kept.
    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty() && self.children.is_empty()
    }
}

impl XmlElement {
    /// True when any child is non-whitespace text (mixed content is written inline).
    pub fn has_text(&self) -> bool {
        self.children.iter().any(|c| matches!(c, XmlNode::Text(_)))
    }
}
