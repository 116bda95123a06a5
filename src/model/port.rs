//! Port-level settings: `<vlan>`, `<virtualport>`, `<bandwidth>`, `<portgroup>`.

use super::extra::Extra;

/// `<vlan trunk>` with `<tag>`s.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VlanDef {
    /// Trunk mode: explicit `trunk='yes'`, or implied by several tags (libvirt writes it).
    pub trunk: bool,
    /// VLAN tags.
    pub tags: Vec<VlanTag>,
    /// Unknown attributes and children.
    pub extra: Extra,
}

/// `<tag id nativeMode>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VlanTag {
    /// VLAN id, 0-4095.
    pub id: u16,
    /// Native VLAN mode for this tag.
    pub native_mode: Option<NativeMode>,
}

/// `nativeMode='tagged'|'untagged'`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeMode {
    /// tagged
    Tagged,
    /// untagged
    Untagged,
}

impl NativeMode {
    /// The XML attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            NativeMode::Tagged => "tagged",
            NativeMode::Untagged => "untagged",
        }
    }
}

/// `<virtualport type>` with `<parameters>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VirtualPortDef {
    /// `802.1Qbg`, `802.1Qbh`, `openvswitch`, `midonet`, or none.
    pub kind: Option<String>,
    /// `<parameters>` attributes.
    pub params: VirtualPortParams,
    /// Unknown attributes and children.
    pub extra: Extra,
}

/// `<parameters>` of a `<virtualport>`, kept as the strings written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VirtualPortParams {
    /// 802.1Qbg manager id.
    pub managerid: Option<String>,
    /// 802.1Qbg type id.
    pub typeid: Option<String>,
    /// 802.1Qbg type id version.
    pub typeidversion: Option<String>,
    /// 802.1Qbg instance UUID.
    pub instanceid: Option<String>,
    /// 802.1Qbh / openvswitch profile id.
    pub profileid: Option<String>,
    /// openvswitch / midonet interface UUID.
    pub interfaceid: Option<String>,
}

impl VirtualPortParams {
    /// The set parameters as (attribute, value) in libvirt's order.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let all = [
            ("managerid", &self.managerid),
            ("typeid", &self.typeid),
            ("typeidversion", &self.typeidversion),
            ("instanceid", &self.instanceid),
            ("profileid", &self.profileid),
            ("interfaceid", &self.interfaceid),
        ];
        all.into_iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
            .collect()
    }

    /// Mutable slot for a parameter name, `None` if unknown.
    pub fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        match name {
            "managerid" => Some(&mut self.managerid),
            "typeid" => Some(&mut self.typeid),
            "typeidversion" => Some(&mut self.typeidversion),
            "instanceid" => Some(&mut self.instanceid),
            "profileid" => Some(&mut self.profileid),
            "interfaceid" => Some(&mut self.interfaceid),
            _ => None,
        }
    }
}

/// `<bandwidth>` with `<inbound>`/`<outbound>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BandwidthDef {
    /// Traffic towards guests.
    pub inbound: Option<RateDef>,
    /// Traffic from guests.
    pub outbound: Option<RateDef>,
    /// Unknown attributes and children.
    pub extra: Extra,
}

/// Rate attributes, kbytes/s (average, peak, floor) and kbytes (burst).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateDef {
    /// Average rate.
    pub average: Option<u64>,
    /// Peak rate.
    pub peak: Option<u64>,
    /// Guaranteed minimum (inbound only).
    pub floor: Option<u64>,
    /// Burst size.
    pub burst: Option<u64>,
}

/// `<portgroup name default trustGuestRxFilters>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortGroupDef {
    /// Port group name.
    pub name: String,
    /// `default='yes'`.
    pub default: bool,
    /// `trustGuestRxFilters`.
    pub trust_guest_rx_filters: Option<bool>,
    /// `<vlan>`.
    pub vlan: Option<VlanDef>,
    /// `<virtualport>`.
    pub virtualport: Option<VirtualPortDef>,
    /// `<bandwidth>`.
    pub bandwidth: Option<BandwidthDef>,
    /// Unknown attributes and children.
    pub extra: Extra,
}
