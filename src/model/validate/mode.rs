//! Element combinations libvirt refuses for a forward mode, the forward device pool, and
//! every interface name a definition gives.

use std::collections::HashSet;

use super::text::check_ifname;
use super::Problems;
use crate::model::def::{ForwardDef, ForwardMode, NetworkDef};
use crate::model::port::VirtualPortDef;

pub(super) fn check(def: &NetworkDef, out: &mut Problems) {
    if let Some(f) = &def.forward {
        check_pool(def, f, out);
        check_nat(f, out);
    }
    if def.uses_own_bridge() {
        check_own_bridge(def, out);
    } else {
        check_attached(def, out);
    }
    check_vlan_allowed(def, out);
    check_bandwidth_allowed(def, out);
}

/// Every interface name in `def` (`bridge.name`, `forward.dev`, `forward.interface[i].dev`,
/// `forward.pf.dev`) through [`super::ifname_problem`]: the one rule for kernel-, dnsmasq-
/// and nft-safe names.
/// The loopback interface: never a network's bridge (its own, or a host bridge to join).
const LOOPBACK: &str = "lo";

pub(crate) fn check_ifnames(def: &NetworkDef, out: &mut Problems) {
    if let Some(name) = def.bridge_name() {
        if name == LOOPBACK {
            out.add("bridge.name", "lo is the loopback interface, not a bridge");
        } else {
            check_ifname(out, "bridge.name", name);
        }
    }
    let Some(f) = &def.forward else { return };
    for (i, dev) in f.interfaces.iter().enumerate() {
        let path = match iface_path(def, i) {
            single if single == "forward.dev" => single,
            pooled => format!("{pooled}.dev"),
        };
        check_ifname(out, &path, dev);
    }
    if let Some(pf) = &f.pf {
        check_ifname(out, "forward.pf.dev", pf);
    }
}

/// Path of forward device `i`: nat and route name their single device `forward.dev`.
pub(crate) fn iface_path(def: &NetworkDef, i: usize) -> String {
    if def.uses_own_bridge() && i == 0 {
        "forward.dev".to_string()
    } else {
        format!("forward.interface[{i}]")
    }
}

fn check_pool(def: &NetworkDef, f: &ForwardDef, out: &mut Problems) {
    let mut devs = HashSet::new();
    for (i, dev) in f.interfaces.iter().enumerate() {
        if !devs.insert(dev) {
            let msg = format!("'{}' is listed more than once", dev.escape_debug());
            out.add(iface_path(def, i), msg);
        }
    }
    let mut addrs = HashSet::new();
    for (i, a) in f.addresses.iter().enumerate() {
        if !addrs.insert(a) {
            out.add(
                format!("forward.address[{i}]"),
                format!("PCI device {a} is listed more than once"),
            );
        }
    }
    let kinds = [
        !f.interfaces.is_empty(),
        !f.addresses.is_empty(),
        f.pf.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() > 1 {
        out.add(
            "forward",
            "list <interface>, <address> or <pf> devices, but only one kind",
        );
    }
}

fn check_nat(f: &ForwardDef, out: &mut Problems) {
    let Some(nat) = &f.nat else { return };
    if f.mode != ForwardMode::Nat {
        out.add(
            "forward.nat",
            format!("<nat> settings only apply to mode 'nat', not '{}'", f.mode),
        );
    }
    if let Some((start, end)) = nat.addresses {
        if start > end {
            out.add(
                "forward.nat.address",
                format!("start {start} is after end {end}"),
            );
        }
    }
    if let Some((start, end)) = nat.ports {
        if start == 0 || start > end {
            out.add(
                "forward.nat.port",
                format!("{start}-{end} is not a port range (1-65535, start ≤ end)"),
            );
        }
    }
}

/// nat, route, open, isolated: our own bridge with addresses.
fn check_own_bridge(def: &NetworkDef, out: &mut Problems) {
    let mode = def.mode_name();
    if let Some(f) = &def.forward {
        if def.ips.is_empty() {
            out.add(
                "ip",
                format!("mode '{mode}' needs at least one <ip> address"),
            );
        }
        if f.mode == ForwardMode::Open && !f.interfaces.is_empty() {
            out.add("forward.dev", "mode 'open' does not take a forward device (an open network forwards nowhere in particular)");
        }
        for i in 1..f.interfaces.len() {
            out.add(
                iface_path(def, i),
                format!("mode '{mode}' uses a single outgoing device; remove the others"),
            );
        }
        if !f.addresses.is_empty() {
            out.add(
                "forward.address[0]",
                format!("PCI <address> devices are only for hostdev and passthrough, not '{mode}'"),
            );
        }
    }
}

/// bridge (host bridge or macvtap pool), private, vepa, passthrough, hostdev: guests attach
/// to host devices, so there is no bridge of ours, no addresses, no dnsmasq.
fn check_attached(def: &NetworkDef, out: &mut Problems) {
    let mode = def.mode_name();
    let not_here = |what: &str| {
        format!(
            "{what} is not supported with mode '{mode}': guests attach to host devices directly"
        )
    };
    for i in 0..def.ips.len() {
        out.add(format!("ip[{i}]"), not_here("<ip>"));
    }
    for i in 0..def.routes.len() {
        out.add(format!("route[{i}]"), not_here("<route>"));
    }
    let present = [
        (
            "dns",
            def.dns
                .as_ref()
                .is_some_and(|d| !(d.txts.is_empty() && d.srvs.is_empty() && d.hosts.is_empty())),
        ),
        ("domain", def.domain.is_some()),
        ("mtu", def.mtu.is_some()),
        ("mac", def.mac.is_some()),
    ];
    for (path, _) in present.iter().filter(|(_, p)| *p) {
        let element = path.split(['.', '[']).next().unwrap_or(path);
        out.add(*path, not_here(&format!("<{element}>")));
    }
    check_bridge_attrs(def, out);
    check_device_pool(def, out);
}

fn check_bridge_attrs(def: &NetworkDef, out: &mut Problems) {
    let mode = def.mode_name();
    let Some(b) = &def.bridge else { return };
    let only_own = "is only for nat, route, open and isolated networks";
    if b.stp.is_some() {
        out.add("bridge.stp", format!("stp {only_own}, not '{mode}'"));
    }
    if b.delay.is_some() {
        out.add("bridge.delay", format!("delay {only_own}, not '{mode}'"));
    }
    if b.zone.is_some() {
        out.add(
            "bridge.zone",
            format!("a firewall zone {only_own}, not '{mode}'"),
        );
    }
    if def.mode() != Some(ForwardMode::Bridge) {
        if b.name.is_some() {
            out.add(
                "bridge.name",
                format!("a bridge name is not allowed with mode '{mode}'"),
            );
        }
        if b.mac_table_manager.is_some() {
            out.add(
                "bridge.macTableManager",
                format!("macTableManager is not allowed with mode '{mode}'"),
            );
        }
    }
}

fn check_device_pool(def: &NetworkDef, out: &mut Problems) {
    let Some(f) = &def.forward else { return };
    let (ifaces, addrs, pf) = (
        !f.interfaces.is_empty(),
        !f.addresses.is_empty(),
        f.pf.is_some(),
    );
    // A pool with no devices at all is `dubious`: libvirt starts it, guests cannot attach.
    if f.mode == ForwardMode::Bridge && def.bridge_name().is_some() && (ifaces || pf) {
        out.add(
            "bridge.name",
            "mode 'bridge' takes either a host bridge name or <interface> devices, not both",
        );
    }
    if f.mode == ForwardMode::Hostdev {
        for i in 0..f.interfaces.len() {
            out.add(
                format!("forward.interface[{i}]"),
                "hostdev networks list their devices by PCI <address>, not by interface name",
            );
        }
    } else if addrs
        && f.mode != ForwardMode::Nat
        && f.mode != ForwardMode::Route
        && f.mode != ForwardMode::Open
    {
        out.add(
            "forward.address[0]",
            format!(
                "PCI <address> devices are only supported with mode 'hostdev', not '{}'",
                f.mode
            ),
        );
    }
}

/// libvirt configures VLANs only for hostdev/passthrough pools and Open vSwitch bridges;
/// a port group with its own `<virtualport>` needs it to be Open vSwitch on mode bridge.
fn check_vlan_allowed(def: &NetworkDef, out: &mut Problems) {
    let is_ovs =
        |vp: Option<&VirtualPortDef>| vp.and_then(|v| v.kind.as_deref()) == Some("openvswitch");
    let bridge_mode = def.mode() == Some(ForwardMode::Bridge);
    let allowed = match def.mode() {
        Some(ForwardMode::Hostdev | ForwardMode::Passthrough) => true,
        Some(ForwardMode::Bridge) => is_ovs(def.virtualport.as_ref()),
        _ => false,
    };
    let why = format!("VLAN tags are only supported with hostdev, passthrough or an Open vSwitch bridge, not '{}'", def.mode_name());
    let network_vlan = def.vlan.as_ref().is_some_and(|v| !v.tags.is_empty());
    let mut bad_network_vlan = false;
    for (i, pg) in def.portgroups.iter().enumerate() {
        let pg_vlan = pg.vlan.as_ref().is_some_and(|v| !v.tags.is_empty());
        if !(network_vlan || pg_vlan) {
            continue;
        }
        // A port group's <virtualport> without a type inherits the network's.
        let ok = match pg.virtualport.as_ref().filter(|vp| vp.kind.is_some()) {
            Some(vp) => bridge_mode && is_ovs(Some(vp)),
            None => allowed,
        };
        match (ok, pg_vlan) {
            (false, true) => out.add(format!("portgroup[{i}].vlan"), why.clone()),
            (false, false) => bad_network_vlan = true,
            _ => {}
        }
    }
    let has_default = def.portgroups.iter().any(|pg| pg.default);
    if network_vlan && (bad_network_vlan || (!allowed && !has_default)) {
        out.add("vlan", why);
    }
}

/// Network-wide and port group `<bandwidth>` need a bridge (ours or the host's).
fn check_bandwidth_allowed(def: &NetworkDef, out: &mut Problems) {
    let allowed = def.uses_own_bridge() || def.is_host_bridge();
    let why = format!(
        "<bandwidth> is not supported with mode '{}' (only on a bridge)",
        def.mode_name()
    );
    if def.bandwidth.is_some() && !allowed {
        out.add("bandwidth", why.clone());
    }
    let hostdev = def.mode() == Some(ForwardMode::Hostdev);
    for (i, pg) in def.portgroups.iter().enumerate() {
        if pg.bandwidth.is_some() && (!allowed || hostdev) {
            out.add(format!("portgroup[{i}].bandwidth"), why.clone());
        }
    }
}
