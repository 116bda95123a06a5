//! The fake host's answers to the wizard's commands: a real plan from the pure planner for
//! the preview, create / edit / attach / pin that change the fake's networks and ports, and
//! the steps reported while applying.
//!
//! To show a failure, a definition whose XML contains the word `fail` (in its name or DNS
//! domain, say) fails at its fourth step with a kernel-style message, and is rolled back.

use std::path::Path;

use super::host::{FakeHost, FakeLink};
use crate::model::{format_network_xml, parse_network_xml, DhcpHost, MacAddr, NetworkDef};
use crate::plan::dnsmasq::{needs_dnsmasq, render, DnsmasqPaths};
use crate::plan::firewall::{add_network, describe};
use crate::plan::{firewall_net, plan_start, Observed, Plan};
use crate::state::HostState;
use crate::tui::data::{Command, NetworkRow, PortRow};

/// The step at which a definition containing `fail` fails.
const FAIL_AT: usize = 4;

fn paths(name: &str) -> DnsmasqPaths {
    DnsmasqPaths::new(
        Path::new("/run/switchyard"),
        Path::new("/var/lib/switchyard"),
        name,
    )
}

fn plan_of(def: &NetworkDef) -> Result<Plan, String> {
    let host = HostState::default();
    let obs = Observed {
        own_bridge: None,
        host: &host,
        firewall: None,
        other_firewall: &[],
        dnsmasq_running: false,
        ipv4_forward: Some(true),
        ipv6_forward: Some(true),
    };
    plan_start(def, &obs, &paths(&def.name)).map_err(|e| e.to_string())
}

fn parse(xml: &str) -> Result<NetworkDef, String> {
    parse_network_xml(xml).map_err(|e| format!("the definition does not parse: {e}"))
}

/// The plan text a backend would answer a preview with.
pub fn preview_text(xml: &str) -> Result<String, String> {
    let def = parse(xml)?;
    let mut out = plan_of(&def)?.to_string();
    if let (Some(bridge), true) = (def.bridge_name(), needs_dnsmasq(&def)) {
        let files = render(&def, bridge, &paths(&def.name)).map_err(|e| e.to_string())?;
        out.push_str(&format!(
            "\ndnsmasq configuration ({}):\n",
            paths(&def.name).conf.display()
        ));
        out.push_str(&files.conf);
    }
    if let Some(net) = def.bridge_name().and_then(|b| firewall_net(&def, b)) {
        out.push_str("\nnftables transaction (nft -j -f -):\n");
        out.push_str(&describe(&add_network(&net)));
    }
    Ok(out)
}

/// The steps a command reports while it runs (empty for commands without steps).
pub fn progress_steps(cmd: &Command) -> Vec<String> {
    let plan_steps = |xml: &str| {
        parse(xml)
            .and_then(|d| plan_of(&d))
            .map(|p| p.steps.iter().map(ToString::to_string).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let steps = match cmd {
        Command::CreateNetwork { xml, start, .. } => {
            let mut s = vec!["write the definition".to_string()];
            if *start {
                s.extend(plan_steps(xml));
            }
            s
        }
        Command::EditNetwork { name, xml } => {
            let mut s = vec![format!("stop {name}"), "write the new definition".into()];
            s.extend(plan_steps(xml));
            s
        }
        _ => return Vec::new(),
    };
    match fails(cmd) {
        true => steps.into_iter().take(FAIL_AT).collect(),
        false => steps,
    }
}

fn fails(cmd: &Command) -> bool {
    match cmd {
        Command::CreateNetwork { xml, .. } | Command::EditNetwork { xml, .. } => {
            xml.contains("fail")
        }
        _ => false,
    }
}

fn failure(cmd: &Command) -> String {
    let step = progress_steps(cmd)
        .pop()
        .unwrap_or_else(|| "the first step".into());
    let rolled = match cmd {
        Command::EditNetwork { name, .. } => format!("rolled back: the old definition of {name} is restored and running again"),
        _ => "rolled back: every step done was undone and the definition removed; nothing is left on the host".into(),
    };
    format!(
        "step {FAIL_AT} failed: {step}\nkernel: RTNETLINK answers: File exists (EEXIST)\n{rolled}"
    )
}

/// A networks-view row for a definition.
fn row_of(def: &NetworkDef, autostart: bool, active: bool) -> NetworkRow {
    let range = def
        .dhcp_ranges()
        .first()
        .map(|(_, r)| format!("{}–{}", r.start, r.end));
    NetworkRow {
        name: def.name.clone(),
        active,
        autostart,
        mode: def.mode_name().into(),
        bridge: def.bridge_name().map(str::to_string),
        ipv4: def.ipv4().map(|n| n.to_string()),
        ipv6: def.ipv6().map(|n| n.to_string()),
        dnsmasq_pid: (active && range.is_some()).then_some(4100 + def.name.len() as i32),
        dhcp: range,
        firewall_rules: if active && def.uses_own_bridge() {
            7
        } else {
            0
        },
        xml: format_network_xml(def),
        ..NetworkRow::default()
    }
}

impl FakeHost {
    /// Run a wizard command; `None` for the other commands.
    pub(super) fn apply_wizard(&mut self, cmd: &Command) -> Option<Result<String, String>> {
        Some(match cmd {
            Command::PreviewStart { xml } => preview_text(xml),
            _ if fails(cmd) => Err(failure(cmd)),
            Command::CreateNetwork {
                xml,
                autostart,
                start,
            } => self.create(xml, *autostart, *start),
            Command::EditNetwork { name, xml } => self.edit(name, xml),
            Command::Attach { network, name, mac } => {
                self.attach(network, name.as_deref(), mac.as_deref())
            }
            Command::PinLease {
                network,
                mac,
                ip,
                hostname,
            } => self.pin(network, mac, ip, hostname.as_deref()),
            _ => return None,
        })
    }

    fn create(&mut self, xml: &str, autostart: bool, start: bool) -> Result<String, String> {
        let def = parse(xml)?;
        if self.networks.iter().any(|n| n.name == def.name) {
            return Err(format!("network '{}' is already defined", def.name));
        }
        self.networks.push(row_of(&def, autostart, start));
        let verb = if start {
            "defined and started"
        } else {
            "defined"
        };
        Ok(format!("network '{}' {verb}", def.name))
    }

    fn edit(&mut self, name: &str, xml: &str) -> Result<String, String> {
        let def = parse(xml)?;
        let row = self.row_mut(name)?;
        let active = row.active;
        *row = row_of(&def, row.autostart, active);
        Ok(match active {
            true => format!("network '{name}' redefined and restarted"),
            false => {
                format!("network '{name}' redefined; it uses the new definition at its next start")
            }
        })
    }

    fn row_mut(&mut self, name: &str) -> Result<&mut NetworkRow, String> {
        self.networks
            .iter_mut()
            .find(|n| n.name == name)
            .ok_or_else(|| format!("network '{name}' is not defined"))
    }

    fn attach(
        &mut self,
        network: &str,
        name: Option<&str>,
        mac: Option<&str>,
    ) -> Result<String, String> {
        let def = parse(&self.row_mut(network)?.xml)?;
        if !def.is_macvtap() {
            return Err(format!("network {network} is not a macvtap network"));
        }
        let parent = def
            .forward
            .iter()
            .flat_map(|f| f.interfaces.first())
            .next()
            .cloned()
            .ok_or("empty pool")?;
        let ifindex = self.next_ifindex();
        let ifname = name.map_or_else(|| format!("macvtap{ifindex}"), str::to_string);
        let mac: MacAddr = match mac {
            Some(m) => m
                .parse()
                .map_err(|e: crate::model::MacParseError| e.to_string())?,
            None => MacAddr([0x52, 0x54, 0x00, 0x10, 0x20, ifindex as u8]),
        };
        let port = PortRow {
            ifindex,
            ifname: ifname.clone(),
            kind: "macvtap".into(),
            mac: Some(mac.to_string()),
            mtu: 1500,
            up: true,
            ..PortRow::default()
        };
        self.ports.push((port, FakeLink::new(0, 0, 0)));
        let tap = format!("/dev/tap{ifindex}");
        Ok(format!(
            "{ifname} on {parent} (mode {}), MAC {mac}\ndevice {tap}\n-netdev tap,id=net0,fd=3 -device virtio-net-pci,netdev=net0,mac={mac} 3<>{tap}",
            def.mode_name()
        ))
    }

    fn next_ifindex(&self) -> u32 {
        let ports = self.ports.iter().map(|(p, _)| p.ifindex);
        let ifaces = self.ifaces.iter().map(|(i, _)| i.ifindex);
        ports.chain(ifaces).max().unwrap_or(0) + 1
    }

    fn pin(
        &mut self,
        network: &str,
        mac: &str,
        ip: &str,
        hostname: Option<&str>,
    ) -> Result<String, String> {
        let row = self.row_mut(network)?;
        let mut def = parse(&row.xml)?;
        let mac: MacAddr = mac
            .parse()
            .map_err(|e: crate::model::MacParseError| e.to_string())?;
        let addr = ip
            .parse()
            .map_err(|_| format!("'{ip}' is not an address"))?;
        let block = def
            .ips
            .iter_mut()
            .find(|i| i.address.is_ipv4())
            .ok_or("the network has no IPv4 address")?;
        block
            .dhcp
            .get_or_insert_with(Default::default)
            .hosts
            .push(DhcpHost {
                mac: Some(mac),
                name: hostname.map(str::to_string),
                ip: Some(addr),
                ..DhcpHost::default()
            });
        row.xml = format_network_xml(&def);
        Ok(format!(
            "{ip} reserved for {mac} in {network}; dnsmasq re-read its hosts (no restart)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAT: &str = "<network><name>lab</name><forward mode='nat'/><bridge name='sybr0' stp='off' delay='0'/>\
        <ip address='192.168.101.1' prefix='24'><dhcp><range start='192.168.101.2' end='192.168.101.254'/></dhcp></ip></network>";

    #[test]
    fn preview_has_steps_dnsmasq_and_rules() {
        let text = preview_text(NAT).expect("plans");
        assert!(text.contains("create bridge sybr0"), "{text}");
        assert!(
            text.contains("dhcp-range=192.168.101.2,192.168.101.254"),
            "{text}"
        );
        assert!(text.contains("table inet switchyard"), "{text}");
        assert!(preview_text("<network>").is_err());
    }

    #[test]
    fn failing_definitions_fail_at_their_fourth_step() {
        let cmd = Command::CreateNetwork {
            xml: NAT.replace("lab", "failing"),
            autostart: false,
            start: true,
        };
        assert_eq!(progress_steps(&cmd).len(), FAIL_AT);
        let mut host = FakeHost::new();
        let err = host
            .apply_wizard(&cmd)
            .expect("wizard command")
            .expect_err("fails");
        assert!(
            err.contains("step 4 failed") && err.contains("rolled back"),
            "{err}"
        );
        assert!(!host.snapshot().networks.iter().any(|n| n.name == "failing"));
    }
}
