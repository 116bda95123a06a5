//! Guest continuity (pure): the ports on a network's bridge are remembered before the bridge
//! goes, and put back on it when it is back — right away for a restart, or at a later start,
//! since a running guest's tap outlives the network. libvirt guests whose runtime XML says
//! they are on the network are picked up too.
//!
//! A port is the very link that was there: same interface index, same name, same MAC. One that
//! was deleted, renamed, re-created or meanwhile put on another bridge is left alone.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::steps::Step;
use crate::model::MacAddr;
use crate::state::{HostState, LinkInfo};

/// One guest port, as remembered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRef {
    pub ifindex: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    /// The guest behind it, when known (for messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest: Option<String>,
}

impl PortRef {
    fn of(link: &LinkInfo, guests: &BTreeMap<String, String>) -> PortRef {
        PortRef {
            ifindex: link.ifindex,
            name: link.name.clone(),
            mac: link.mac.map(MacAddr),
            guest: guests.get(&link.name).cloned(),
        }
    }

    /// Whether `link` is this very port.
    fn is(&self, link: &LinkInfo) -> bool {
        link.ifindex == self.ifindex
            && link.name == self.name
            && self.mac.is_none_or(|m| link.mac == Some(m.0))
    }
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.guest {
            Some(g) => write!(f, "{} ({g})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Ports as words: "vnet0 (web1), vnet1 (db1)".
pub fn port_list(ports: &[PortRef]) -> String {
    ports
        .iter()
        .map(PortRef::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ports now on `bridge` (none when it does not exist), with their guests' names.
pub fn ports_on(host: &HostState, bridge: &str, guests: &BTreeMap<String, String>) -> Vec<PortRef> {
    let Some(br) = host.link_by_name(bridge) else {
        return Vec::new();
    };
    host.ports_of(br.ifindex)
        .map(|l| PortRef::of(l, guests))
        .collect()
}

/// The step that remembers the ports on `bridge` in `file` before the bridge goes, or `None`
/// when no port is on it.
pub fn remember(
    host: &HostState,
    bridge: &str,
    guests: &BTreeMap<String, String>,
    file: &Path,
) -> Option<Step> {
    let ports = ports_on(host, bridge, guests);
    (!ports.is_empty()).then(|| Step::RememberPorts {
        path: file.to_path_buf(),
        ports,
    })
}

/// What a start puts back on `bridge`: every remembered port that still exists as it was and
/// is on no bridge now, then every libvirt guest tap (`libvirt`: the target devices whose
/// runtime XML names this network) that is on no bridge. Each at most once.
pub fn to_reattach(
    host: &HostState,
    remembered: &[PortRef],
    libvirt: &[(String, String)],
) -> Vec<PortRef> {
    let mut out: Vec<PortRef> = Vec::new();
    let free = |l: &&LinkInfo| l.master.is_none();
    for port in remembered {
        let link = host.link_by_index(port.ifindex).filter(free);
        if link.is_some_and(|l| port.is(l)) && !out.iter().any(|p| p.ifindex == port.ifindex) {
            out.push(port.clone());
        }
    }
    for (domain, dev) in libvirt {
        let Some(link) = host.link_by_name(dev).filter(free) else {
            continue;
        };
        if !out.iter().any(|p| p.ifindex == link.ifindex) {
            // Named by its domain: a look through every process could say no more, since
            // libvirt's own record names its taps first.
            let port = PortRef {
                guest: Some(domain.clone()),
                ..PortRef::of(link, &BTreeMap::new())
            };
            out.push(port);
        }
    }
    out
}

/// The steps that put `ports` back on `bridge` and forget the remembered list.
pub fn reattach(bridge: &str, ports: Vec<PortRef>, file: &Path, had_file: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    if !ports.is_empty() {
        steps.push(Step::AttachPorts {
            bridge: bridge.to_owned(),
            ports,
        });
    }
    if had_file {
        steps.push(Step::RemoveFile {
            path: file.to_path_buf(),
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::LinkKind;

    fn link(ifindex: u32, name: &str, master: Option<u32>, mac: u8) -> LinkInfo {
        LinkInfo {
            ifindex,
            name: name.into(),
            kind: LinkKind::Tun,
            master,
            parent: None,
            mac: Some([0xfe, 0x54, 0, 0, 0, mac]),
            mtu: 1500,
            admin_up: true,
            oper_state: "up".into(),
            stats: None,
            macvtap_mode: None,
            bridge: None,
            peer_netnsid: None,
        }
    }

    fn host(links: Vec<LinkInfo>) -> HostState {
        HostState {
            links,
            ..HostState::default()
        }
    }

    #[test]
    fn ports_on_the_bridge_are_remembered_with_their_guests() {
        let mut br = link(5, "sybr0", None, 0);
        br.kind = LinkKind::Bridge;
        let h = host(vec![
            br,
            link(7, "vnet0", Some(5), 7),
            link(8, "vnet1", None, 8),
        ]);
        let guests = BTreeMap::from([("vnet0".to_owned(), "web1".to_owned())]);
        let step = remember(&h, "sybr0", &guests, Path::new("/run/x.ports")).expect("one port");
        assert_eq!(
            step.to_string(),
            "remember 1 guest port to put back at the next start: vnet0 (web1)"
        );
        assert!(remember(&h, "nosuch", &guests, Path::new("/x")).is_none());
    }

    #[test]
    fn only_the_very_same_free_port_is_put_back() {
        let remembered = vec![
            PortRef::of(&link(7, "vnet0", None, 7), &BTreeMap::new()),
            PortRef::of(&link(8, "vnet1", None, 8), &BTreeMap::new()),
            PortRef::of(&link(9, "vnet2", None, 9), &BTreeMap::new()),
            PortRef::of(&link(10, "vnet3", None, 10), &BTreeMap::new()),
        ];
        let h = host(vec![
            link(7, "vnet0", None, 7),    // as it was: back on the bridge
            link(8, "vnet1", Some(3), 8), // now on another bridge: left alone
            link(19, "vnet2", None, 9),   // re-created under the name: not ours
            link(10, "vnet3", None, 99),  // another MAC: not the same port
            link(11, "vnet4", None, 11),  // a libvirt guest's tap on this network
        ]);
        let libvirt = vec![("db1".to_owned(), "vnet4".to_owned())];
        let back = to_reattach(&h, &remembered, &libvirt);
        let names: Vec<String> = back.iter().map(PortRef::to_string).collect();
        assert_eq!(names, ["vnet0", "vnet4 (db1)"]);
    }
}
