//! `<vlan>`, `<virtualport>`, `<bandwidth>` and `<portgroup>` values.

use std::collections::{HashMap, HashSet};

use super::text::check_line;
use super::Problems;
use crate::model::def::NetworkDef;
use crate::model::port::{BandwidthDef, VirtualPortDef, VlanDef};

/// Highest VLAN id.
pub const MAX_VLAN_ID: u16 = 4095;

const VIRTUALPORT_TYPES: [&str; 4] = ["802.1Qbg", "802.1Qbh", "openvswitch", "midonet"];

pub(super) fn check(def: &NetworkDef, out: &mut Problems) {
    if let Some(vlan) = &def.vlan {
        check_vlan(vlan, "vlan", out);
    }
    if let Some(vp) = &def.virtualport {
        if vp.kind.is_none() {
            out.add(
                "virtualport.type",
                "the network's <virtualport> needs a type",
            );
        }
        check_virtualport(vp, "virtualport", out);
    }
    if let Some(bw) = &def.bandwidth {
        check_bandwidth(bw, "bandwidth", out);
    }
    check_portgroups(def, out);
}

fn check_vlan(vlan: &VlanDef, path: &str, out: &mut Problems) {
    if vlan.tags.is_empty() {
        out.add(path, "<vlan> needs at least one tag");
    }
    if vlan.tags.len() > 1 && !vlan.trunk {
        out.add(path, "several VLAN tags need trunk='yes'");
    }
    let mut native_seen = false;
    let mut ids = HashSet::new();
    for (i, tag) in vlan.tags.iter().enumerate() {
        if tag.id > MAX_VLAN_ID {
            out.add(
                format!("{path}.tag[{i}].id"),
                format!("{} is out of range (0-{MAX_VLAN_ID})", tag.id),
            );
        }
        if !ids.insert(tag.id) {
            out.add(
                format!("{path}.tag[{i}].id"),
                format!("VLAN {} is listed more than once", tag.id),
            );
        }
        if tag.native_mode.is_some() {
            if native_seen {
                out.add(
                    format!("{path}.tag[{i}].nativeMode"),
                    "only one tag can be the native VLAN",
                );
            } else if !vlan.trunk {
                out.add(
                    format!("{path}.tag[{i}].nativeMode"),
                    "a native VLAN needs trunk mode",
                );
            }
            native_seen = true;
        }
    }
}

fn check_virtualport(vp: &VirtualPortDef, path: &str, out: &mut Problems) {
    if let Some(kind) = vp
        .kind
        .as_deref()
        .filter(|k| !VIRTUALPORT_TYPES.contains(k))
    {
        out.add(
            format!("{path}.type"),
            format!(
                "'{kind}' is not a virtualport type ({})",
                VIRTUALPORT_TYPES.join(", ")
            ),
        );
    }
    for (key, value) in vp.params.pairs() {
        check_line(out, &format!("{path}.parameters.{key}"), value);
    }
}

fn check_bandwidth(bw: &BandwidthDef, path: &str, out: &mut Problems) {
    for (dir, rate) in [("inbound", &bw.inbound), ("outbound", &bw.outbound)] {
        let Some(rate) = rate else { continue };
        let rpath = format!("{path}.{dir}");
        if rate.average.is_none() && rate.floor.is_none() {
            out.add(
                rpath.clone(),
                "needs an average (or, inbound, a floor) rate",
            );
        }
        if dir == "outbound" && rate.floor.is_some() {
            out.add(format!("{rpath}.floor"), "floor is only supported inbound");
        }
    }
}

fn check_portgroups(def: &NetworkDef, out: &mut Problems) {
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut default: Option<usize> = None;
    for (i, pg) in def.portgroups.iter().enumerate() {
        let path = format!("portgroup[{i}]");
        if pg.name.is_empty() {
            out.add(format!("{path}.name"), "the port group needs a name");
        }
        check_line(out, &format!("{path}.name"), &pg.name);
        if let Some(&j) = names.get(pg.name.as_str()) {
            out.add(
                format!("{path}.name"),
                format!(
                    "'{}' is also the name of portgroup[{j}]",
                    pg.name.escape_debug()
                ),
            );
        } else {
            names.insert(&pg.name, i);
        }
        match (pg.default, default) {
            (true, Some(j)) => out.add(
                format!("{path}.default"),
                format!("portgroup[{j}] is already the default"),
            ),
            (true, None) => default = Some(i),
            _ => {}
        }
        if let Some(vlan) = &pg.vlan {
            check_vlan(vlan, &format!("{path}.vlan"), out);
        }
        if let Some(vp) = &pg.virtualport {
            check_virtualport(vp, &format!("{path}.virtualport"), out);
        }
        if let Some(bw) = &pg.bandwidth {
            check_bandwidth(bw, &format!("{path}.bandwidth"), out);
        }
    }
}
