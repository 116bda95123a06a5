//! `forward-interface` and `portgroup` (libvirt's `virNetworkDefUpdateForwardInterface` and
//! `virNetworkDefUpdatePortGroup`).

use super::error::{Reason, UpdateError};
use super::section::{Section, UpdateCommand};
use super::{fragment_error, no_modify, UpdateRequest};
use crate::model::def::NetworkDef;
use crate::model::xml::fragment;

/// Add or delete an `<interface dev>` of `<forward>`, matched by device name.
pub(super) fn update_interface(
    def: &mut NetworkDef,
    req: &UpdateRequest,
) -> Result<(), UpdateError> {
    let section = Section::ForwardInterface;
    let dev = fragment::parse_forward_interface(&req.xml).map_err(fragment_error(section))?;
    if req.command == UpdateCommand::Modify {
        return Err(no_modify(section, "forward interface entries"));
    }
    let shown = dev.escape_debug().to_string();
    let refuse = |reason, message: String| UpdateError::refused(section, "dev", reason, message);
    let Some(forward) = def.forward.as_mut() else {
        let msg = "the network is isolated (it has no <forward>), so it has no forward interfaces";
        let reason = if req.command.is_add() {
            Reason::Invalid
        } else {
            Reason::NotFound
        };
        return Err(refuse(reason, msg.to_string()));
    };
    let found = forward.interfaces.iter().position(|d| *d == dev);
    let pooled = forward.pf.is_some() || !forward.addresses.is_empty();
    match (req.command, found) {
        (UpdateCommand::Delete, Some(k)) => {
            forward.interfaces.remove(k);
        }
        (UpdateCommand::Delete, None) => {
            let msg = format!("there is no <interface dev='{shown}'> in <forward>");
            return Err(refuse(Reason::NotFound, msg));
        }
        (_, Some(_)) => {
            let msg = format!("<forward> already has <interface dev='{shown}'>");
            return Err(refuse(Reason::Duplicate, msg));
        }
        (_, None) if pooled => {
            let msg = "<forward> lists PCI addresses or a <pf>, and cannot also list interfaces";
            return Err(refuse(Reason::Invalid, msg.to_string()));
        }
        (add, None) => {
            let at = add.insert_at(forward.interfaces.len());
            forward.interfaces.insert(at, dev);
        }
    }
    Ok(())
}

/// Add, modify (replace whole) or delete a port group, matched by name; at most one is the
/// default.
pub(super) fn update_portgroup(
    def: &mut NetworkDef,
    req: &UpdateRequest,
) -> Result<(), UpdateError> {
    let group = fragment::parse_portgroup(&req.xml).map_err(fragment_error(Section::Portgroup))?;
    let found = def.portgroups.iter().position(|g| g.name == group.name);
    let shown = group.name.escape_debug();
    let refuse =
        |reason, message: String| UpdateError::refused(Section::Portgroup, "name", reason, message);
    match (req.command.is_add(), found) {
        (false, None) => {
            let msg = format!("there is no <portgroup name='{shown}'>");
            return Err(refuse(Reason::NotFound, msg));
        }
        (true, Some(_)) => {
            let msg = format!("there is already a <portgroup name='{shown}'>");
            return Err(refuse(Reason::Duplicate, msg));
        }
        _ => {}
    }
    if req.command != UpdateCommand::Delete && group.default {
        check_single_default(def, found)?;
    }
    match (req.command, found) {
        (UpdateCommand::Modify, Some(k)) => def.portgroups[k] = group,
        (UpdateCommand::Delete, Some(k)) => {
            def.portgroups.remove(k);
        }
        (add, _) => {
            let at = add.insert_at(def.portgroups.len());
            def.portgroups.insert(at, group);
        }
    }
    Ok(())
}

/// A port group becoming the default: no other one may be the default already. `found` is
/// the group it replaces, if any.
fn check_single_default(def: &NetworkDef, found: Option<usize>) -> Result<(), UpdateError> {
    let other = def
        .portgroups
        .iter()
        .enumerate()
        .find(|(k, g)| g.default && Some(*k) != found);
    match other {
        Some((_, g)) => Err(UpdateError::refused(
            Section::Portgroup,
            "default",
            Reason::Invalid,
            format!(
                "port group '{}' is already the default; only one default is allowed",
                g.name.escape_debug()
            ),
        )),
        None => Ok(()),
    }
}
