//! Guest continuity, the I/O half: where a network's ports are remembered between a stop and
//! the next start, which guests are behind them, and which libvirt guests say they are on it.
//! The decisions are [`crate::plan::ports`]'s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Backend;
use crate::model::names::file_component;
use crate::model::NetworkDef;
use crate::plan::ports::{self, PortRef};
use crate::plan::Step;
use crate::state::HostState;
use crate::telemetry::procscan::{scan_libvirt_interfaces, scan_processes, LIBVIRT_QEMU_RUN_DIR};

impl Backend {
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
        let guests = guest_names(host);
        ports::remember(host, bridge, &guests, &self.ports_file(network))
    }

    /// The steps that put a network's guests back on its bridge at the end of a start:
    /// remembered ports that are still there, and libvirt guests whose runtime XML names the
    /// network (or its bridge); then the remembered list is forgotten.
    pub(super) fn reattach_steps(&self, def: &NetworkDef, host: &HostState) -> Vec<Step> {
        let Some(bridge) = def.bridge_name().filter(|_| def.uses_own_bridge()) else {
            return Vec::new();
        };
        let (remembered, had_file) = self.remembered_ports(&def.name);
        let libvirt = libvirt_ports(def, Path::new(LIBVIRT_QEMU_RUN_DIR));
        let guests = if remembered.is_empty() && libvirt.is_empty() {
            BTreeMap::new()
        } else {
            guest_names(host)
        };
        let back = ports::to_reattach(host, &remembered, &libvirt, &guests);
        ports::reattach(bridge, back, &self.ports_file(&def.name), had_file)
    }
}

/// `(domain, tap)` of every libvirt guest interface on network `def` (by its name, or by its
/// bridge) according to libvirt's runtime XML in `dir`.
fn libvirt_ports(def: &NetworkDef, dir: &Path) -> Vec<(String, String)> {
    let bridge = def.bridge_name();
    scan_libvirt_interfaces(dir)
        .into_iter()
        .filter(|(_, i)| {
            i.network.as_deref() == Some(def.name.as_str())
                || (i.bridge.is_some() && i.bridge.as_deref() == bridge)
        })
        .filter_map(|(domain, i)| Some((domain, i.target?)))
        .collect()
}

/// The guest behind each tap or macvtap of `host`, by interface name: libvirt's runtime XML
/// first, then the process holding the device.
fn guest_names(host: &HostState) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> =
        scan_libvirt_interfaces(Path::new(LIBVIRT_QEMU_RUN_DIR))
            .into_iter()
            .filter_map(|(domain, i)| Some((i.target?, domain)))
            .collect();
    let index = scan_processes();
    for link in &host.links {
        if let Some(g) = index.guest_of(&link.name, link.ifindex) {
            out.entry(link.name.clone())
                .or_insert_with(|| g.name.clone());
        }
    }
    out
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
        let mut found = libvirt_ports(&def, dir.path());
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
