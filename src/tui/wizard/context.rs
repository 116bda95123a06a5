//! What the forms need to know about the host and the other networks, read from the latest
//! snapshot (the UI never asks the host itself) when a form opens and when a new snapshot
//! arrives, not per key; and a small seeded random source so a form's
//! generated values (UUID, MAC, ULA prefix) stay the same while the operator types.

use ipnet::IpNet;

use crate::model::{HostFacts, IpDef, NetworkDef};
use crate::state::LinkKind;
use crate::tui::data::Snapshot;

/// The host and the other networks, as forms see them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WizardContext {
    /// Definitions of the other networks (the one being edited left out).
    pub others: Vec<NetworkDef>,
    /// Interface names and subnets in use on the host. Subnets of defined networks are left
    /// out: validation reports overlaps with them by network name instead.
    pub host: HostFacts,
    /// Interfaces that can carry a network's traffic out (forward device): not enslaved to a
    /// bridge or bond, and not a network's own bridge.
    pub uplinks: Vec<String>,
    /// NICs a macvtap can sit on: physical, bond and VLAN interfaces not enslaved.
    pub nics: Vec<String>,
    /// Host bridges a bridged network can attach to (not a network's own bridge).
    pub bridges: Vec<String>,
    /// Interfaces on the host that are not bridges (NICs, bonds, VLANs, guest ports, …): a
    /// bridge name among them is refused as "exists and is not a bridge".
    pub not_bridges: Vec<String>,
}

impl WizardContext {
    /// The context from `snap`; `editing` names the network being edited, whose own bridge
    /// and subnets are then not counted as taken.
    pub fn from_snapshot(snap: &Snapshot, editing: Option<&str>) -> Self {
        let defs: Vec<&NetworkDef> = snap
            .networks
            .iter()
            .filter_map(|n| n.def.as_deref())
            .collect();
        let own_bridges: Vec<&str> = defs
            .iter()
            .filter(|d| d.uses_own_bridge())
            .filter_map(|d| d.bridge_name())
            .collect();
        let usable = |kinds: &[LinkKind]| -> Vec<String> {
            snap.ifaces
                .iter()
                .filter(|i| i.master.is_none() && kinds.contains(&i.kind))
                .filter(|i| !own_bridges.contains(&i.ifname.as_str()))
                .map(|i| i.ifname.clone())
                .collect()
        };
        let ctx = WizardContext {
            // A veth the host uses as a NIC (one not plugged into a bridge: a container
            // host's or the sandbox's uplink) is one too.
            uplinks: usable(&[
                LinkKind::Physical,
                LinkKind::Bond,
                LinkKind::Vlan,
                LinkKind::Veth,
                LinkKind::Bridge,
            ]),
            nics: usable(&[
                LinkKind::Physical,
                LinkKind::Bond,
                LinkKind::Vlan,
                LinkKind::Veth,
            ]),
            bridges: usable(&[LinkKind::Bridge]),
            not_bridges: not_bridges(snap),
            host: host_facts(snap, &defs, editing),
            others: Vec::new(),
        };
        WizardContext {
            others: defs
                .into_iter()
                .filter(|d| Some(d.name.as_str()) != editing)
                .cloned()
                .collect(),
            ..ctx
        }
    }
}

/// Names of the host's interfaces that are not bridges, guest ports included.
fn not_bridges(snap: &Snapshot) -> Vec<String> {
    let mut out: Vec<String> = snap
        .ifaces
        .iter()
        .filter(|i| i.kind != LinkKind::Bridge)
        .map(|i| i.ifname.clone())
        .chain(snap.ports.iter().map(|p| p.ifname.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Interface names and taken subnets; a network's own bridge and subnets are not "the host's".
fn host_facts(snap: &Snapshot, defs: &[&NetworkDef], editing: Option<&str>) -> HostFacts {
    let edited = defs.iter().find(|d| Some(d.name.as_str()) == editing);
    let own_bridge = edited.and_then(|d| d.bridge_name());
    let mut ifnames: Vec<String> = snap.ifaces.iter().map(|i| i.ifname.clone()).collect();
    ifnames.extend(snap.ports.iter().map(|p| p.ifname.clone()));
    ifnames.extend(
        snap.networks
            .iter()
            .filter(|n| n.active)
            .filter_map(|n| n.bridge.clone()),
    );
    ifnames.retain(|n| Some(n.as_str()) != own_bridge);
    ifnames.sort();
    ifnames.dedup();
    let networks: Vec<IpNet> = defs
        .iter()
        .flat_map(|d| d.ips.iter().filter_map(IpDef::net))
        .map(|n| n.trunc())
        .collect();
    let addrs = snap.ifaces.iter().flat_map(|i| i.addrs.iter());
    let mut taken: Vec<IpNet> = snap
        .taken_subnets
        .iter()
        .chain(addrs)
        .map(IpNet::trunc)
        .filter(|n| !networks.contains(n))
        .collect();
    taken.sort();
    taken.dedup();
    HostFacts {
        ifnames,
        taken_subnets: taken,
    }
}

/// A seeded SplitMix64 stream: the same seed always draws the same values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seed(pub u64);

impl Seed {
    /// A fresh random source starting at this seed.
    pub fn rand(self) -> impl FnMut() -> u64 {
        let mut state = self.0;
        move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::demo::Demo;

    #[test]
    fn simulated_host_context() {
        let snap = Demo::new().snapshot();
        let ctx = WizardContext::from_snapshot(&snap, None);
        assert_eq!(ctx.others.len(), 3);
        assert_eq!(ctx.bridges, ["br0", "docker0"]);
        assert_eq!(ctx.nics, ["eth0", "eth1.100"]);
        assert!(ctx.not_bridges.contains(&"eth0".to_string()));
        assert!(!ctx.not_bridges.contains(&"br0".to_string()));
        assert!(ctx.uplinks.contains(&"br0".to_string()));
        let taken: Vec<String> = ctx
            .host
            .taken_subnets
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert!(taken.contains(&"198.51.100.0/24".to_string()), "{taken:?}");
        assert!(
            !taken.contains(&"192.168.122.0/24".to_string()),
            "a network's subnet is reported by name, not as the host's: {taken:?}"
        );
        assert!(ctx.host.ifnames.contains(&"virbr0".to_string()));
        let edit = WizardContext::from_snapshot(&snap, Some("default"));
        assert_eq!(edit.others.len(), 2);
        assert!(!edit.host.ifnames.contains(&"virbr0".to_string()));
    }

    /// A veth the host uses as a NIC (the sandbox's lan0) is offered as a forward device and
    /// a macvtap parent; a veth plugged into a bridge (a container's) is not.
    #[test]
    fn an_uplink_veth_is_a_nic() {
        let mut snap = Demo::new().snapshot();
        let eth0 = snap
            .ifaces
            .iter()
            .find(|i| i.ifname == "eth0")
            .expect("eth0");
        let veth = |name: &str, master: Option<&str>| crate::tui::data::IfaceRow {
            ifname: name.into(),
            kind: LinkKind::Veth,
            master: master.map(Into::into),
            addrs: Vec::new(),
            default_route: false,
            ..eth0.clone()
        };
        let (lan0, vethc0) = (veth("lan0", None), veth("vethc0", Some("docker0")));
        snap.ifaces.push(lan0);
        snap.ifaces.push(vethc0);
        let ctx = WizardContext::from_snapshot(&snap, None);
        assert!(ctx.nics.contains(&"lan0".to_string()), "{:?}", ctx.nics);
        assert!(ctx.uplinks.contains(&"lan0".to_string()));
        assert!(!ctx.nics.contains(&"vethc0".to_string()));
    }

    #[test]
    fn seeds_repeat() {
        let (mut a, mut b) = (Seed(7).rand(), Seed(7).rand());
        assert_eq!((a(), a()), (b(), b()));
        assert_ne!(Seed(7).rand()(), Seed(8).rand()());
    }
}
