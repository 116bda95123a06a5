//! `<ip>` (with `<dhcp>`, `<tftp>`) and `<route>`.

use std::net::{IpAddr, Ipv4Addr};

use super::cursor::Cursor;
use super::tree::Node;
use super::XmlError;
use crate::model::ip::{
    BootpDef, DhcpDef, DhcpHost, DhcpRange, IpDef, IpFamily, LeaseDef, LeaseUnit, RouteDef,
};
use crate::model::mac::MacAddr;

const FAMILIES: [(&str, IpFamily); 2] = [("ipv4", IpFamily::V4), ("ipv6", IpFamily::V6)];

pub(super) fn read_ip(node: &Node) -> Result<IpDef, XmlError> {
    let mut c = Cursor::new(node);
    let family = c.choice("family", &FAMILIES)?;
    let address: IpAddr = c.parse_required("address", "an IP address")?;
    let netmask = read_netmask(&mut c)?;
    let prefix = c.parse("prefix", "a prefix length")?;
    if netmask.is_some() && prefix.is_some() {
        return Err(c.err("<ip> has both a netmask and a prefix; give only one"));
    }
    let tftp_root = c
        .child("tftp")?
        .map(|n| Cursor::new(n).required("root").map(str::to_string))
        .transpose()?;
    if tftp_root.is_some() && address.is_ipv6() {
        return Err(c.err("<tftp> is only supported in an IPv4 <ip> element"));
    }
    Ok(IpDef {
        family,
        address,
        prefix,
        netmask,
        local_ptr: c.yes_no("localPtr")?,
        tftp_root,
        dhcp: c.one("dhcp", read_dhcp)?,
        extra: c.finish(),
    })
}

fn read_netmask(c: &mut Cursor<'_>) -> Result<Option<Ipv4Addr>, XmlError> {
    let Some(v) = c.attr("netmask") else {
        return Ok(None);
    };
    match v.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(mask)) => Ok(Some(mask)),
        Ok(IpAddr::V6(_)) => Err(c.err(format!(
            "<ip netmask='{v}'>: a netmask must be IPv4; use prefix for IPv6"
        ))),
        Err(_) => Err(c.bad_value("netmask", v, "a netmask like 255.255.255.0")),
    }
}

fn read_dhcp(node: &Node) -> Result<DhcpDef, XmlError> {
    let mut c = Cursor::new(node);
    let ranges = c.many("range", read_range)?;
    let hosts = c.many("host", read_dhcp_host)?;
    let bootp = c.one("bootp", read_bootp)?;
    Ok(DhcpDef {
        ranges,
        hosts,
        bootp,
        extra: c.finish(),
    })
}

pub(super) fn read_range(node: &Node) -> Result<DhcpRange, XmlError> {
    let mut c = Cursor::new(node);
    Ok(DhcpRange {
        start: c.parse_required("start", "an IP address")?,
        end: c.parse_required("end", "an IP address")?,
        lease: c.one("lease", read_lease)?,
        extra: c.finish(),
    })
}

pub(super) fn read_dhcp_host(node: &Node) -> Result<DhcpHost, XmlError> {
    let mut c = Cursor::new(node);
    let (mac, mac_written) = read_host_mac(&mut c)?;
    Ok(DhcpHost {
        mac,
        mac_written,
        id: c.attr("id").map(str::to_string),
        name: c.attr("name").map(str::to_string),
        ip: c.parse("ip", "an IP address")?,
        lease: c.one("lease", read_lease)?,
        extra: c.finish(),
    })
}

/// The `mac` attribute, and its spelling when that is not the canonical one (libvirt writes
/// a host's MAC back as written).
fn read_host_mac(c: &mut Cursor<'_>) -> Result<(Option<MacAddr>, Option<String>), XmlError> {
    let Some(text) = c.attr("mac") else {
        return Ok((None, None));
    };
    let written = text.trim();
    let mac: MacAddr = written
        .parse()
        .map_err(|_| c.bad_value("mac", text, "a MAC address"))?;
    let spelled = (written != mac.to_string()).then(|| written.to_string());
    Ok((Some(mac), spelled))
}

fn read_lease(node: &Node) -> Result<LeaseDef, XmlError> {
    let mut c = Cursor::new(node);
    let units = [
        ("seconds", LeaseUnit::Seconds),
        ("minutes", LeaseUnit::Minutes),
        ("hours", LeaseUnit::Hours),
    ];
    Ok(LeaseDef {
        expiry: c.parse_required("expiry", "a whole number")?,
        unit: c.choice("unit", &units)?.unwrap_or_default(),
    })
}

fn read_bootp(node: &Node) -> Result<BootpDef, XmlError> {
    let mut c = Cursor::new(node);
    Ok(BootpDef {
        file: c.required("file")?.to_string(),
        server: c.parse("server", "an IP address")?,
    })
}

pub(super) fn read_route(node: &Node) -> Result<RouteDef, XmlError> {
    let mut c = Cursor::new(node);
    let family = c.choice("family", &FAMILIES)?;
    let address = c.parse_required("address", "an IP address")?;
    let netmask = read_netmask(&mut c)?;
    let prefix = c.parse("prefix", "a prefix length")?;
    if netmask.is_some() && prefix.is_some() {
        return Err(c.err("<route> has both a netmask and a prefix; give only one"));
    }
    Ok(RouteDef {
        family,
        address,
        prefix,
        netmask,
        gateway: c.parse_required("gateway", "an IP address")?,
        metric: c.parse("metric", "a route metric")?,
        extra: c.finish(),
    })
}
