//! Guest continuity, the I/O half: where a network's ports are remembered between a stop and
//! the next start, which guests are behind them, and which libvirt guests say they are on it.
//! The decisions are [`crate::plan::ports`]'s.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Backend;
use crate::host::GuestInterface;
use crate::model::names::file_component;
use crate::model::NetworkDef;
use crate::plan::ports::{self, PortRef};
use crate::plan::Step;
use crate::state::HostState;

impl<H: crate::host::Host> Backend<H> {
    /// Where `network`'s ports are remembered from a stop to the next start.
    pub fn ports_file(&self, network: &str) -> PathBuf {
        self.paths()
            .run
            .join(format!("{}.ports", file_component(network)))
    }

    /// The ports remembered for `network`, and whether a list was there at all.
    fn remembered_ports(&self, network: &str) -> (Vec<PortRef>, bool) {
        let path = self.ports_file(network);
        match crate::store::read_nofollow(&path) {
            Ok(Some(text)) => (serde_json::from_str(&text).unwrap_or_default(), true),
            _ => (Vec::new(), false),
        }
    }

    /// The step that remembers the ports on `bridge` before a stop takes the bridge away.
    pub(super) fn remember_ports(
        &self,
        network: &str,
        bridge: &str,
        host: &HostState,
    ) -> Option<Step> {
        if ports::ports_on(host, bridge, &BTreeMap::new()).is_empty() {
            return None;
        }
        let guests = self.host().guest_names(&host.links);
        ports::remember(host, bridge, &guests, &self.ports_file(network))
    }

    /// Who a start of `def` may put back on its bridge: the remembered ports and the libvirt
    /// guests on the network. `None` when the network has no bridge of its own.
    pub(super) fn reattach_candidates(&self, def: &NetworkDef) -> Option<Reattach> {
        def.bridge_name().filter(|_| def.uses_own_bridge())?;
        let (remembered, had_file) = self.remembered_ports(&def.name);
        let libvirt = libvirt_ports(def, &self.host().libvirt_interfaces());
        Some(Reattach {
            remembered,
            had_file,
            libvirt,
        })
    }

    /// The steps that put a network's guests back on its bridge at the end of a start:
    /// remembered ports that are still there, and libvirt guests whose runtime XML names the
    /// network (or its bridge); then the remembered list is forgotten. `host` needs to hold
    /// only the links [`Reattach::links`] names.
    pub(super) fn reattach_steps(
        &self,
        def: &NetworkDef,
        candidates: Option<Reattach>,
        host: &HostState,
    ) -> Vec<Step> {
        let (Some(bridge), Some(c)) = (def.bridge_name(), candidates) else {
            return Vec::new();
        };
        // No look through every process here: remembered ports carry their names, and a
        // libvirt tap is named by its domain. (With a port remembered, that look took 8.5 ms
        // of the planning with 99 networks' dnsmasqs running, and grows with every process
        // and open file on the host.)
        let back = ports::to_reattach(host, &c.remembered, &c.libvirt);
        ports::reattach(bridge, back, &self.ports_file(&def.name), c.had_file)
    }
}

/// The ports a start may put back on its bridge (see [`Backend::reattach_candidates`]).
#[derive(Debug, Default)]
pub(super) struct Reattach {
    remembered: Vec<PortRef>,
    had_file: bool,
    /// `(domain, tap)` of the libvirt guests on the network.
    libvirt: Vec<(String, String)>,
}

impl Reattach {
    /// The links deciding what goes back: the remembered ports by interface index, the
    /// libvirt taps by name.
    pub(super) fn links(&self) -> (Vec<&str>, Vec<u32>) {
        let names = self.libvirt.iter().map(|(_, tap)| tap.as_str()).collect();
        let indices = self.remembered.iter().map(|p| p.ifindex).collect();
        (names, indices)
    }
}

/// `(domain, tap)` of every libvirt guest interface on network `def` (by its name, or by its
/// bridge), from libvirt's runtime XML as the host read it.
fn libvirt_ports(def: &NetworkDef, ifaces: &[GuestInterface]) -> Vec<(String, String)> {
    let bridge = def.bridge_name();
    ifaces
        .iter()
        .filter(|i| {
            i.network.as_deref() == Some(def.name.as_str())
                || (i.bridge.is_some() && i.bridge.as_deref() == bridge)
        })
        .filter_map(|i| Some((i.domain.clone(), i.target.clone()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libvirt_guests_on_the_network_by_name_or_bridge() {
        let dir = tempfile::tempdir().expect("tempdir");
        let domain = |name: &str, ifaces: &str| {
            format!(
                "<domstatus><domain type='kvm'><name>{name}</name><devices>{ifaces}</devices>\
                 </domain></domstatus>"
            )
        };
        let by_net = "<interface type='network'><source network='lab' bridge='sybr0'/>\
                      <target dev='vnet3'/></interface>";
        let by_bridge = "<interface type='bridge'><source bridge='sybr0'/>\
                         <target dev='vnet4'/></interface>";
        let other = "<interface type='network'><source network='default'/>\
                     <target dev='vnet5'/></interface>";
        std::fs::write(dir.path().join("web1.xml"), domain("web1", by_net)).expect("write");
        std::fs::write(
            dir.path().join("db1.xml"),
            domain("db1", &format!("{by_bridge}{other}")),
        )
        .expect("write");
        let def = crate::model::parse_network_xml(
            "<network><name>lab</name><bridge name='sybr0'/></network>",
        )
        .expect("parses");
        let ifaces: Vec<GuestInterface> =
            crate::host::procscan::scan_libvirt_interfaces(dir.path())
                .into_iter()
                .map(|(domain, i)| GuestInterface {
                    domain,
                    target: i.target,
                    network: i.network,
                    bridge: i.bridge,
                })
                .collect();
        let mut found = libvirt_ports(&def, &ifaces);
        found.sort();
        assert_eq!(
            found,
            [
                ("db1".to_owned(), "vnet4".to_owned()),
                ("web1".to_owned(), "vnet3".to_owned())
            ]
        );
    }
}
