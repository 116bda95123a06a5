//! Editing an existing network with the wizard: the draft read from its definition, the
//! wizard's settings merged back into the stored definition (keeping everything the wizard
//! does not show, and the stored spelling of what did not change), and the list of changes
//! with those that restart the network marked.

use ipnet::IpNet;

use super::draft::NetworkDraft;
use super::steps::{NetMode, TapMode};
use crate::model::{BridgeDef, DhcpDef, DomainDef, ForwardMode, IpDef, NetworkDef};

/// The draft a stored definition corresponds to, or why the wizard cannot edit it.
pub fn draft_from_def(def: &NetworkDef, autostart: bool) -> Result<NetworkDraft, String> {
    let mode = mode_of(def).ok_or_else(|| {
        let mode = def.mode_name();
        format!("the wizard does not handle mode '{mode}'; edit the XML with the CLI")
    })?;
    let v4 = def.ips.iter().find(|ip| ip.address.is_ipv4());
    let range = v4.and_then(|ip| ip.ranges().first());
    let text = |v: Option<String>| v.unwrap_or_default();
    let mut draft = NetworkDraft {
        name: def.name.clone(),
        mode,
        ipv4: text(def.ipv4().map(|n| n.to_string())),
        dhcp: range.is_some(),
        dhcp_range: text(range.map(|r| format!("{}-{}", r.start, r.end))),
        ipv6: def.ipv6().is_some(),
        ipv6_prefix: text(def.ipv6().map(|n| n.to_string())),
        tap_mode: tap_mode_of(def),
        domain: text(def.domain.as_ref().map(|d| d.name.clone())),
        autostart,
        stp: def.stp(),
        mtu: text(def.mtu.map(|m| m.to_string())),
        ..NetworkDraft::default()
    };
    let mut interfaces = def
        .forward
        .iter()
        .flat_map(|f| f.interfaces.iter())
        .cloned();
    let bridge = def.bridge_name().map(str::to_string);
    match mode {
        NetMode::Bridged => draft.host_bridge = bridge,
        NetMode::Macvtap => draft.devices = interfaces.collect(),
        _ => {
            draft.forward_dev = interfaces.next();
            draft.bridge_name = text(bridge);
        }
    }
    Ok(draft)
}

fn mode_of(def: &NetworkDef) -> Option<NetMode> {
    Some(match def.mode() {
        None => NetMode::Isolated,
        Some(ForwardMode::Nat) => NetMode::Nat,
        Some(ForwardMode::Route) => NetMode::Route,
        Some(ForwardMode::Open) => NetMode::Open,
        Some(_) if def.is_host_bridge() => NetMode::Bridged,
        Some(_) if def.is_macvtap() => NetMode::Macvtap,
        Some(_) => return None,
    })
}

fn tap_mode_of(def: &NetworkDef) -> TapMode {
    match def.mode() {
        Some(ForwardMode::Vepa) => TapMode::Vepa,
        Some(ForwardMode::Private) => TapMode::Private,
        Some(ForwardMode::Passthrough) => TapMode::Passthrough,
        _ => TapMode::Bridge,
    }
}

/// `old` with the wizard's settings from `new` (a complete definition built from the
/// draft). Parts that did not change keep their stored form, so an untouched edit yields
/// `old` itself.
pub fn merge(old: &NetworkDef, new: &NetworkDef) -> NetworkDef {
    let mut out = old.clone();
    out.forward = merge_forward(old, new);
    out.bridge = merge_bridge(old, new);
    out.mtu = new.mtu;
    out.mac = match (old.uses_own_bridge(), new.uses_own_bridge()) {
        (_, false) => None,
        (true, true) => old.mac,
        (false, true) => new.mac,
    };
    out.domain = match (&old.domain, &new.domain) {
        (Some(o), Some(n)) => Some(DomainDef {
            name: n.name.clone(),
            ..o.clone()
        }),
        (_, n) => n.clone(),
    };
    out.ips = merge_ips(&old.ips, &new.ips);
    out
}

fn merge_forward(old: &NetworkDef, new: &NetworkDef) -> Option<crate::model::ForwardDef> {
    match (&old.forward, &new.forward) {
        (Some(o), Some(n)) if o.mode == n.mode => {
            let mut f = o.clone();
            if f.interfaces != n.interfaces {
                f.interfaces = n.interfaces.clone();
            }
            Some(f)
        }
        (_, n) => n.clone(),
    }
}

fn merge_bridge(old: &NetworkDef, new: &NetworkDef) -> Option<BridgeDef> {
    if !(old.uses_own_bridge() && new.uses_own_bridge()) {
        return new.bridge.clone();
    }
    let mut b = old.bridge.clone().unwrap_or_default();
    let n = new.bridge.clone().unwrap_or_default();
    b.name = n.name.or(b.name);
    if old.stp() != new.stp() {
        b.stp = n.stp;
    }
    Some(b)
}

/// The first block of each family is the wizard's; further blocks are kept; a family the
/// draft dropped is dropped; a new family is added at the end. DHCP is the wizard's on IPv4
/// only (IPv6 DHCP settings are kept as they are).
fn merge_ips(old: &[IpDef], new: &[IpDef]) -> Vec<IpDef> {
    let new_of = |v6: bool| new.iter().find(|ip| ip.address.is_ipv6() == v6);
    let mut seen = [false, false];
    let mut out = Vec::new();
    for ip in old {
        let v6 = ip.address.is_ipv6();
        match (new_of(v6), seen[usize::from(v6)]) {
            (None, _) => {}
            (Some(_), true) => out.push(ip.clone()),
            (Some(n), false) => out.push(merge_ip(ip, n, !v6)),
        }
        seen[usize::from(v6)] = true;
    }
    for v6 in [false, true] {
        if let (Some(n), false) = (new_of(v6), seen[usize::from(v6)]) {
            out.push(n.clone());
        }
    }
    out
}

fn merge_ip(old: &IpDef, new: &IpDef, dhcp: bool) -> IpDef {
    let mut ip = old.clone();
    if old.address != new.address || old.prefix_len() != new.prefix_len() {
        ip.address = new.address;
        ip.prefix = new.prefix_len();
        ip.netmask = None;
    }
    if !dhcp {
        return ip;
    }
    match new.ranges().first() {
        None => {
            if let Some(d) = &mut ip.dhcp {
                d.ranges.clear();
            }
        }
        Some(r) => {
            let d = ip.dhcp.get_or_insert_with(DhcpDef::default);
            match d.ranges.first_mut() {
                Some(first) => {
                    first.start = r.start;
                    first.end = r.end;
                }
                None => d.ranges.push(r.clone()),
            }
        }
    }
    if ip.dhcp.as_ref().is_some_and(DhcpDef::is_empty) {
        ip.dhcp = None;
    }
    ip
}

/// One difference between the stored definition and the edited one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What changed: "IPv4", "bridge", …
    pub what: &'static str,
    /// Before.
    pub from: String,
    /// After.
    pub to: String,
    /// Whether applying it restarts an active network.
    pub restart: bool,
}

/// What an edit changes. Every definition change restarts an active network (stop →
/// redefine → start); autostart alone does not.
pub fn changes(old: &NetworkDef, new: &NetworkDef, autostart: (bool, bool)) -> Vec<Change> {
    let mut out: Vec<Change> = summary(old)
        .into_iter()
        .zip(summary(new))
        .filter(|((_, a), (_, b))| a != b)
        .map(|((what, from), (_, to))| Change {
            what,
            from,
            to,
            restart: true,
        })
        .collect();
    if out.is_empty() && old != new {
        out.push(Change {
            what: "definition",
            from: "stored".into(),
            to: "rewritten by the wizard".into(),
            restart: true,
        });
    }
    if autostart.0 != autostart.1 {
        let word = |on: bool| if on { "on" } else { "off" }.to_string();
        out.push(Change {
            what: "autostart",
            from: word(autostart.0),
            to: word(autostart.1),
            restart: false,
        });
    }
    out
}

fn summary(def: &NetworkDef) -> Vec<(&'static str, String)> {
    let opt = |v: Option<String>| v.unwrap_or_else(|| "none".into());
    let net = |n: Option<IpNet>| opt(n.map(|n| n.to_string()));
    let range = def
        .ips
        .iter()
        .find(|ip| ip.address.is_ipv4())
        .and_then(|ip| ip.ranges().first())
        .map(|r| format!("{}-{}", r.start, r.end));
    let devices = def.forward.iter().flat_map(|f| f.interfaces.iter());
    vec![
        ("mode", def.mode_name().to_string()),
        ("bridge", opt(def.bridge_name().map(str::to_string))),
        ("STP", if def.stp() { "on" } else { "off" }.to_string()),
        (
            "devices",
            opt(Some(devices.cloned().collect::<Vec<_>>().join(",")).filter(|s| !s.is_empty())),
        ),
        ("IPv4", net(def.ipv4())),
        ("DHCP range", opt(range)),
        ("IPv6", net(def.ipv6())),
        (
            "DNS domain",
            opt(def.domain.as_ref().map(|d| d.name.clone())),
        ),
        ("MTU", opt(def.mtu.map(|m| m.to_string()))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_network_xml;

    const NAT: &str = "<network><name>lab</name><forward mode='nat'/>\
        <bridge name='virbr5' stp='on' delay='0'/><mac address='52:54:00:00:00:05'/>\
        <ip address='10.5.0.1' netmask='255.255.255.0'><dhcp>\
        <range start='10.5.0.10' end='10.5.0.99'/>\
        <host mac='52:54:00:aa:bb:cc' ip='10.5.0.50'/></dhcp></ip>\
        <ip family='ipv6' address='fd00:5::1' prefix='64'><dhcp><range start='fd00:5::10' end='fd00:5::99'/></dhcp></ip>\
        </network>";

    fn def(xml: &str) -> NetworkDef {
        parse_network_xml(xml).expect("test XML parses")
    }

    #[test]
    fn untouched_edit_is_the_stored_definition() {
        let old = def(NAT);
        let draft = draft_from_def(&old, true).expect("nat is editable");
        assert_eq!(
            (draft.ipv4.as_str(), draft.dhcp_range.as_str()),
            ("10.5.0.1/24", "10.5.0.10-10.5.0.99")
        );
        let mut new = old.clone();
        new.ips[0].netmask = None;
        new.ips[0].prefix = Some(24);
        new.ips[0].dhcp.as_mut().expect("dhcp").hosts.clear();
        new.ips[1].dhcp = None;
        assert_eq!(merge(&old, &new), old);
        assert!(changes(&old, &merge(&old, &new), (true, true)).is_empty());
    }

    #[test]
    fn changed_subnet_keeps_static_hosts_and_ipv6_dhcp() {
        let old = def(NAT);
        let mut new = old.clone();
        new.ips[0].address = "10.6.0.1".parse().expect("addr");
        let merged = merge(&old, &new);
        assert_eq!(merged.ips[0].prefix_len(), Some(24));
        assert_eq!(merged.ips[0].hosts().len(), 1);
        assert_eq!(merged.ips[1].ranges().len(), 1);
        let c = changes(&old, &merged, (true, false));
        let whats: Vec<(&str, bool)> = c.iter().map(|c| (c.what, c.restart)).collect();
        assert_eq!(whats, [("IPv4", true), ("autostart", false)]);
    }

    #[test]
    fn hostdev_is_not_for_the_wizard() {
        let hostdev = def("<network><name>h</name><forward mode='hostdev' managed='yes'><address type='pci' domain='0' bus='1' slot='0' function='1'/></forward></network>");
        assert!(draft_from_def(&hostdev, false).is_err());
    }
}
