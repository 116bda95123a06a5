//! The pure network model: libvirt-compatible network definitions, their XML form, validation
//! with field paths, and the defaults filled in when a network is defined or created.
//!
//! Nothing here touches the system: callers pass in what they observed (other definitions,
//! host interface names, taken subnets, a random source).

pub mod create;
pub mod def;
pub mod defaults;
pub mod dns;
pub mod extra;
pub mod forward;
pub mod ip;
pub mod mac;
pub mod names;
pub mod port;
pub mod update;
pub mod validate;
pub mod why;
pub mod xml;

pub use create::{build_definition, CreateRequest, HostFacts};
pub use def::{
    BridgeDef, DomainDef, ForwardDef, ForwardMode, MacTableManager, NatDef, NetworkDef, PciAddr,
};

pub use defaults::{default_dhcp_range, fill_defaults, free_ipv4_subnet, ula_prefix};
pub use dns::{
    DnsDef, DnsForwarder, DnsHost, DnsSrv, DnsTxt, PartialDnsHost, PartialDnsSrv, PartialDnsTxt,
};
pub use extra::{Extra, XmlElement, XmlNode};
pub use forward::{Forward, GuestRef, PortRange, Proto, ResolvedForward, Target};
pub use ip::{
    BootpDef, DhcpDef, DhcpHost, DhcpRange, IpDef, IpFamily, LeaseDef, LeaseUnit, RouteDef,
};
pub use mac::{MacAddr, MacParseError};
pub use port::{
    BandwidthDef, NativeMode, PortGroupDef, RateDef, VirtualPortDef, VirtualPortParams, VlanDef,
    VlanTag,
};

pub use update::{
    apply_update, pin, unpin, update_section, PinKey, PinOutcome, Reason, Section, UpdateCommand,
    UpdateError, UpdateRequest,
};
pub use validate::{
    dhcp_host_name_problem, dubious, ifname_problem, macvtap_name_problem, validate, Problem,
};
pub use xml::{format_network_xml, parse_network_xml, XmlError, MAX_XML_BYTES, MAX_XML_ELEMENTS};
