//! `<vlan>`, `<virtualport>`, `<bandwidth>` and `<portgroup>`.

use super::cursor::Cursor;
use super::tree::Node;
use super::XmlError;
use crate::model::port::{
    BandwidthDef, NativeMode, PortGroupDef, RateDef, VirtualPortDef, VirtualPortParams, VlanDef,
    VlanTag,
};

pub(super) fn read_vlan(node: &Node) -> Result<VlanDef, XmlError> {
    let mut c = Cursor::new(node);
    let trunk_attr = c.yes_no("trunk")?;
    let tags = c.many("tag", read_tag)?;
    if tags.is_empty() {
        return Err(c.err("<vlan> needs at least one <tag id=…>"));
    }
    let implied = tags.len() > 1 || tags.iter().any(|t| t.native_mode.is_some());
    Ok(VlanDef {
        trunk: trunk_attr.unwrap_or(implied),
        tags,
        extra: c.finish(),
    })
}

fn read_tag(node: &Node) -> Result<VlanTag, XmlError> {
    let mut c = Cursor::new(node);
    let modes = [
        ("tagged", NativeMode::Tagged),
        ("untagged", NativeMode::Untagged),
    ];
    Ok(VlanTag {
        id: c.parse_required("id", "a VLAN id")?,
        native_mode: c.choice("nativeMode", &modes)?,
    })
}

pub(super) fn read_virtualport(node: &Node) -> Result<VirtualPortDef, XmlError> {
    let mut c = Cursor::new(node);
    let kind = c.attr("type").map(str::to_string);
    let mut params = VirtualPortParams::default();
    if let Some(p) = c.child("parameters")? {
        for (key, value) in &p.attrs {
            if let Some(slot) = params.slot(key) {
                *slot = Some(value.clone());
            }
        }
    }
    Ok(VirtualPortDef {
        kind,
        params,
        extra: c.finish(),
    })
}

pub(super) fn read_bandwidth(node: &Node) -> Result<BandwidthDef, XmlError> {
    let mut c = Cursor::new(node);
    Ok(BandwidthDef {
        inbound: c.one("inbound", read_rate)?,
        outbound: c.one("outbound", read_rate)?,
        extra: c.finish(),
    })
}

fn read_rate(node: &Node) -> Result<RateDef, XmlError> {
    let mut c = Cursor::new(node);
    let what = "a whole number";
    Ok(RateDef {
        average: c.parse("average", what)?,
        peak: c.parse("peak", what)?,
        floor: c.parse("floor", what)?,
        burst: c.parse("burst", what)?,
    })
}

pub(super) fn read_portgroup(node: &Node) -> Result<PortGroupDef, XmlError> {
    let mut c = Cursor::new(node);
    Ok(PortGroupDef {
        name: c.required("name")?.to_string(),
        default: c.yes_no("default")?.unwrap_or(false),
        trust_guest_rx_filters: c.yes_no("trustGuestRxFilters")?,
        vlan: c.one("vlan", read_vlan)?,
        virtualport: c.one("virtualport", read_virtualport)?,
        bandwidth: c.one("bandwidth", read_bandwidth)?,
        extra: c.finish(),
    })
}
