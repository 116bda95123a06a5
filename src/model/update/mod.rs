//! `net-update`: libvirt's in-place changes to one entry of a network definition (a static
//! DHCP host, a DHCP range, a DNS host, TXT or SRV record, a forward interface, a port
//! group), as a pure operation on a [`NetworkDef`] with libvirt 9.0's rules
//! (`virNetworkDefUpdateSection` and the per-section functions in network_conf.c); and
//! [`pin`]/[`unpin`], a friendlier front to static DHCP hosts.
//!
//! The fragment is one element, read by the same code that reads it in a whole document
//! ([`crate::model::xml::fragment`]). What counts as "the same" entry, what an add, modify or
//! delete needs and what each refuses follow libvirt; the result then has to pass
//! [`validate`] and read back after being written out, as libvirt formats and parses an
//! updated definition once more before keeping it.

mod dhcp;
mod dns;
mod error;
mod forward;
mod host;
mod pin;
#[cfg(test)]
mod pin_tests;
mod section;
#[cfg(test)]
mod tests;

pub use error::{Reason, UpdateError};
pub use pin::{pin, unpin, PinKey, PinOutcome};
pub use section::{ParseCommandError, ParseSectionError, Section, UpdateCommand};

use super::def::NetworkDef;
use super::validate::validate;
use super::xml::{format_network_xml, parse_network_xml, XmlError};

/// One `net-update`: which section, how, the fragment, and (for `ip-dhcp-host` and
/// `ip-dhcp-range`) which `<ip>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateRequest {
    /// The part of the definition to change.
    pub section: Section,
    /// Add, delete or modify.
    pub command: UpdateCommand,
    /// The fragment: a single element such as `<host mac=… ip=…/>`.
    pub xml: String,
    /// Index of the `<ip>` among all `<ip>` elements (virsh's `--parent-index`). `None` is
    /// libvirt's own choice: the first `<ip>` that has DHCP ranges or hosts, else the first
    /// IPv4 one, else the first IPv6 one. Only the DHCP sections use it.
    pub parent_index: Option<usize>,
}

/// Apply `req` to a copy of `def`. The result passes [`validate`] (against no other
/// networks: the caller checks clashes with them when it defines the result) and reads back
/// after [`format_network_xml`], as libvirt's `virNetworkObjUpdate` formats and parses an
/// updated definition once more before keeping it. `def` itself is never changed.
pub fn apply_update(def: &NetworkDef, req: &UpdateRequest) -> Result<NetworkDef, UpdateError> {
    finish(update_section(def, req)?)
}

/// The section's change alone, with its own checks but without the final validation:
/// libvirt's `virNetworkDefUpdateSection`, which its update tests exercise. Its result may
/// still be refused as a whole (libvirt accepts adding a second forward interface to a NAT
/// network here, then refuses the definition); callers want [`apply_update`].
pub fn update_section(def: &NetworkDef, req: &UpdateRequest) -> Result<NetworkDef, UpdateError> {
    let mut out = def.clone();
    match req.section {
        Section::IpDhcpHost => host::update_host(&mut out, req)?,
        Section::IpDhcpRange => dhcp::update_range(&mut out, req)?,
        Section::DnsHost => dns::update_host(&mut out, req)?,
        Section::DnsTxt => dns::update_txt(&mut out, req)?,
        Section::DnsSrv => dns::update_srv(&mut out, req)?,
        Section::ForwardInterface => forward::update_interface(&mut out, req)?,
        Section::Portgroup => forward::update_portgroup(&mut out, req)?,
    }
    Ok(out)
}

/// The checks every changed definition passes before it is handed back.
fn finish(def: NetworkDef) -> Result<NetworkDef, UpdateError> {
    let problems = validate(&def, &[]);
    if !problems.is_empty() {
        return Err(UpdateError::Invalid(problems));
    }
    parse_network_xml(&format_network_xml(&def)).map_err(UpdateError::Unreadable)?;
    Ok(def)
}

/// A fragment's reader error, attributed to the section.
fn fragment_error(section: Section) -> impl Fn(XmlError) -> UpdateError {
    move |source| UpdateError::Fragment { section, source }
}

/// libvirt's refusal of `modify` for sections whose entries can only be added or deleted.
fn no_modify(section: Section, what: &str) -> UpdateError {
    UpdateError::NotSupported {
        section,
        command: UpdateCommand::Modify,
        message: format!("{what} cannot be modified, only added or deleted"),
    }
}
