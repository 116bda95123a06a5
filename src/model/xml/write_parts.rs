//! The children of `<network>`, each in libvirt's element and attribute order.

use super::write::{Tag, Writer};
use crate::model::def::{ForwardMode, NatDef, NetworkDef};
use crate::model::dns::DnsDef;
use crate::model::ip::{DhcpDef, IpDef, LeaseDef, RouteDef};
use crate::model::port::{BandwidthDef, PortGroupDef, RateDef, VirtualPortDef, VlanDef};

pub(super) fn write_forward(w: &mut Writer, def: &NetworkDef) {
    let Some(f) = &def.forward else { return };
    let managed = (f.mode == ForwardMode::Hostdev).then_some(f.managed);
    let tag = Tag::new("forward")
        .opt("dev", f.dev())
        .attr("mode", f.mode)
        .yes_no("managed", managed);
    w.wrap(tag.extra(&f.extra), |w| {
        if let Some(driver) = &f.driver {
            w.empty(&Tag::new("driver").attr("name", driver));
        }
        if let Some(nat) = &f.nat {
            write_nat(w, nat);
        }
        if let Some(pf) = &f.pf {
            w.empty(&Tag::new("pf").attr("dev", pf));
        }
        for dev in &f.interfaces {
            w.empty(&Tag::new("interface").attr("dev", dev));
        }
        for a in &f.addresses {
            let tag = Tag::new("address")
                .attr("type", "pci")
                .attr("domain", format!("{:#06x}", a.domain));
            let tag = tag
                .attr("bus", format!("{:#04x}", a.bus))
                .attr("slot", format!("{:#04x}", a.slot));
            w.empty(&tag.attr("function", format!("{:#x}", a.function)));
        }
        w.extra_children(&f.extra);
    });
}

fn write_nat(w: &mut Writer, nat: &NatDef) {
    let tag = Tag::new("nat").yes_no("ipv6", nat.ipv6).extra(&nat.extra);
    w.wrap(tag, |w| {
        if let Some((start, end)) = nat.addresses {
            w.empty(&Tag::new("address").attr("start", start).attr("end", end));
        }
        if let Some((start, end)) = nat.ports {
            w.empty(&Tag::new("port").attr("start", start).attr("end", end));
        }
        w.extra_children(&nat.extra);
    });
}

/// Own-bridge modes always get `<bridge>` with stp/delay filled in, as libvirt writes them;
/// other modes get it only when something was given.
pub(super) fn write_bridge(w: &mut Writer, def: &NetworkDef) {
    let own = def.uses_own_bridge();
    let default = Default::default();
    let b = def.bridge.as_ref().unwrap_or(&default);
    let (stp, delay) = if own {
        (Some(def.stp()), Some(def.delay_secs()))
    } else {
        (b.stp, b.delay)
    };
    let manager = b.mac_table_manager.map(|m| m.as_str());
    let tag = Tag::new("bridge")
        .opt("name", b.name.as_deref())
        .opt("zone", b.zone.as_deref());
    let tag = tag
        .opt("stp", stp.map(|on| if on { "on" } else { "off" }))
        .opt("delay", delay);
    let tag = tag.opt("macTableManager", manager).extra(&b.extra);
    let anything = b.name.is_some()
        || b.zone.is_some()
        || stp.is_some()
        || delay.is_some()
        || manager.is_some();
    if own || anything || !b.extra.is_empty() {
        w.wrap(tag, |w| w.extra_children(&b.extra));
    }
}

pub(super) fn write_dns(w: &mut Writer, dns: Option<&DnsDef>) {
    let Some(dns) = dns.filter(|d| !d.is_empty()) else {
        return;
    };
    let tag = Tag::new("dns")
        .yes_no("enable", dns.enable)
        .yes_no("forwardPlainNames", dns.forward_plain_names);
    w.wrap(tag.extra(&dns.extra), |w| {
        for f in &dns.forwarders {
            w.empty(
                &Tag::new("forwarder")
                    .opt("domain", f.domain.as_deref())
                    .opt("addr", f.addr),
            );
        }
        for t in &dns.txts {
            w.empty(
                &Tag::new("txt")
                    .attr("name", &t.name)
                    .attr("value", &t.value),
            );
        }
        for s in &dns.srvs {
            let tag = Tag::new("srv")
                .attr("service", &s.service)
                .attr("protocol", &s.protocol);
            let tag = tag
                .opt("domain", s.domain.as_deref())
                .opt("target", s.target.as_deref());
            w.empty(
                &tag.opt("port", s.port)
                    .opt("priority", s.priority)
                    .opt("weight", s.weight),
            );
        }
        for h in &dns.hosts {
            w.open(&Tag::new("host").attr("ip", h.ip));
            h.hostnames
                .iter()
                .for_each(|n| w.text_element("hostname", n));
            w.close("host");
        }
        w.extra_children(&dns.extra);
    });
}

/// `<vlan>`, `<bandwidth>`, `<port>` (in libvirt's order, before the `<ip>` blocks).
pub(super) fn write_port_settings(w: &mut Writer, def: &NetworkDef) {
    write_vlan(w, def.vlan.as_ref());
    write_bandwidth(w, def.bandwidth.as_ref());
    if let Some(isolated) = def.port_isolated {
        w.empty(&Tag::new("port").yes_no("isolated", Some(isolated)));
    }
}

fn write_vlan(w: &mut Writer, vlan: Option<&VlanDef>) {
    let Some(v) = vlan.filter(|v| !v.tags.is_empty() || !v.extra.is_empty()) else {
        return;
    };
    let tag = Tag::new("vlan")
        .opt("trunk", v.trunk.then_some("yes"))
        .extra(&v.extra);
    w.wrap(tag, |w| {
        for t in &v.tags {
            w.empty(
                &Tag::new("tag")
                    .attr("id", t.id)
                    .opt("nativeMode", t.native_mode.map(|m| m.as_str())),
            );
        }
        w.extra_children(&v.extra);
    });
}

fn write_bandwidth(w: &mut Writer, bw: Option<&BandwidthDef>) {
    let Some(bw) = bw else { return };
    if bw.inbound.is_none() && bw.outbound.is_none() && bw.extra.is_empty() {
        return;
    }
    w.wrap(Tag::new("bandwidth").extra(&bw.extra), |w| {
        let rate = |name: &str, r: &RateDef| {
            let tag = Tag::new(name).opt("average", r.average).opt("peak", r.peak);
            tag.opt("floor", r.floor).opt("burst", r.burst)
        };
        if let Some(r) = &bw.inbound {
            w.empty(&rate("inbound", r));
        }
        if let Some(r) = &bw.outbound {
            w.empty(&rate("outbound", r));
        }
        w.extra_children(&bw.extra);
    });
}

/// libvirt always writes `<ip …>` with a separate end tag, even when it has no children.
pub(super) fn write_ip(w: &mut Writer, ip: &IpDef) {
    let tag = Tag::new("ip")
        .opt("family", ip.family.map(|f| f.as_str()))
        .attr("address", ip.address);
    let tag = tag
        .opt("netmask", ip.netmask)
        .opt("prefix", ip.prefix)
        .yes_no("localPtr", ip.local_ptr);
    w.open(&tag.extra(&ip.extra));
    if let Some(root) = &ip.tftp_root {
        w.empty(&Tag::new("tftp").attr("root", root));
    }
    if let Some(dhcp) = ip.dhcp.as_ref().filter(|d| !d.is_empty()) {
        write_dhcp(w, dhcp);
    }
    w.extra_children(&ip.extra);
    w.close("ip");
}

fn write_dhcp(w: &mut Writer, dhcp: &DhcpDef) {
    w.open(&Tag::new("dhcp").extra(&dhcp.extra));
    for r in &dhcp.ranges {
        let tag = Tag::new("range")
            .attr("start", r.start)
            .attr("end", r.end)
            .extra(&r.extra);
        w.wrap(tag, |w| {
            write_lease(w, r.lease.as_ref());
            w.extra_children(&r.extra);
        });
    }
    for h in &dhcp.hosts {
        let tag = Tag::new("host")
            .opt("mac", h.mac_text())
            .opt("id", h.id.as_deref());
        let tag = tag
            .opt("name", h.name.as_deref())
            .opt("ip", h.ip)
            .extra(&h.extra);
        w.wrap(tag, |w| {
            write_lease(w, h.lease.as_ref());
            w.extra_children(&h.extra);
        });
    }
    if let Some(b) = &dhcp.bootp {
        w.empty(
            &Tag::new("bootp")
                .attr("file", &b.file)
                .opt("server", b.server),
        );
    }
    w.extra_children(&dhcp.extra);
    w.close("dhcp");
}

fn write_lease(w: &mut Writer, lease: Option<&LeaseDef>) {
    let Some(l) = lease else { return };
    let unit = (l.expiry > 0).then_some(l.unit.as_str());
    w.empty(&Tag::new("lease").attr("expiry", l.expiry).opt("unit", unit));
}

pub(super) fn write_route(w: &mut Writer, r: &RouteDef) {
    let tag = Tag::new("route")
        .opt("family", r.family.map(|f| f.as_str()))
        .attr("address", r.address);
    let tag = tag
        .opt("netmask", r.netmask)
        .opt("prefix", r.prefix)
        .attr("gateway", r.gateway);
    w.wrap(tag.opt("metric", r.metric).extra(&r.extra), |w| {
        w.extra_children(&r.extra)
    });
}

pub(super) fn write_virtualport(w: &mut Writer, vp: Option<&VirtualPortDef>) {
    let Some(vp) = vp else { return };
    let tag = Tag::new("virtualport")
        .opt("type", vp.kind.as_deref())
        .extra(&vp.extra);
    w.wrap(tag, |w| {
        let pairs = vp.params.pairs();
        if !pairs.is_empty() {
            let tag = pairs
                .into_iter()
                .fold(Tag::new("parameters"), |t, (k, v)| t.attr(k, v));
            w.empty(&tag);
        }
        w.extra_children(&vp.extra);
    });
}

/// libvirt always writes `<portgroup …>` with a separate end tag.
pub(super) fn write_portgroup(w: &mut Writer, pg: &PortGroupDef) {
    let tag = Tag::new("portgroup")
        .attr("name", &pg.name)
        .opt("default", pg.default.then_some("yes"));
    w.open(
        &tag.yes_no("trustGuestRxFilters", pg.trust_guest_rx_filters)
            .extra(&pg.extra),
    );
    write_vlan(w, pg.vlan.as_ref());
    write_virtualport(w, pg.virtualport.as_ref());
    write_bandwidth(w, pg.bandwidth.as_ref());
    w.extra_children(&pg.extra);
    w.close("portgroup");
}
