//! [`UpdateError`]: why an update (or a pin) was refused.

use std::fmt;

use super::section::{Section, UpdateCommand};
use crate::model::validate::Problem;
use crate::model::xml::XmlError;

/// Why an update or a pin was refused, naming the section and, where there is one, the
/// field ("ip", "mac", "hostname", …).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// The fragment is not well-formed, not the element the section takes, or has a value
    /// of the wrong kind.
    #[error("{section}: the XML fragment: {source}")]
    Fragment {
        /// The section updated.
        section: Section,
        /// Where and what, as the XML reader says it.
        source: XmlError,
    },
    /// libvirt offers no such command for this section (a DNS record cannot be modified).
    #[error("{section}: {message}")]
    NotSupported {
        /// The section updated.
        section: Section,
        /// The command refused.
        command: UpdateCommand,
        /// libvirt's reason, in plain words.
        message: String,
    },
    /// The entry cannot be added, changed or removed; [`Reason`] says which way it failed.
    #[error("{section}: {field}: {message}")]
    Refused {
        /// The section updated.
        section: Section,
        /// The field at fault: "ip", "mac", "hostname", "name", "start", "dev", …
        field: &'static str,
        /// The kind of refusal.
        reason: Reason,
        /// What is wrong, in plain words.
        message: String,
    },
    /// The changed definition would not pass validation.
    #[error("the updated definition is not valid: {}", ProblemList(.0))]
    Invalid(Vec<Problem>),
    /// The changed definition, written out, would not be read back (libvirt's final
    /// format-and-parse check).
    #[error("the updated definition would not read back: {0}")]
    Unreadable(XmlError),
}

/// The kinds of [`UpdateError::Refused`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The fragment lacks something the command needs (an add needs more than a delete).
    Incomplete,
    /// A value the section cannot take here (outside the subnet, wrong family, …).
    Invalid,
    /// An existing entry already has this value.
    Duplicate,
    /// No entry matches.
    NotFound,
    /// More than one entry matches a delete.
    Ambiguous,
}

impl UpdateError {
    /// A refusal of `reason` at `field`.
    pub(super) fn refused(
        section: Section,
        field: &'static str,
        reason: Reason,
        message: impl Into<String>,
    ) -> Self {
        UpdateError::Refused {
            section,
            field,
            reason,
            message: message.into(),
        }
    }

    /// The field at fault, for a refusal.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            UpdateError::Refused { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The kind of refusal, for a refusal.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            UpdateError::Refused { reason, .. } => Some(*reason),
            _ => None,
        }
    }
}

/// Problems joined with "; " for a one-line message.
struct ProblemList<'a>(&'a [Problem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}
