//! Pinning a lease (`p` in the leases view): the confirmation says exactly which `<host>`
//! entry goes into the network's DHCP, and that dnsmasq only re-reads its hosts.

use crate::tui::app::Confirm;
use crate::tui::data::{Command, LeaseRow, NetworkRow};

/// The confirmation for pinning `lease`, or why it cannot be pinned.
pub fn pin_confirm(lease: &LeaseRow, network: Option<&NetworkRow>) -> Result<Confirm, String> {
    let Some(mac) = lease.mac else {
        return Err(format!(
            "{}: the lease has no MAC to reserve it for",
            lease.ip
        ));
    };
    let ip = lease.ip;
    if ip.is_ipv6() {
        return Err(format!("{ip}: only IPv4 leases can be pinned to a MAC"));
    }
    let net = network.ok_or_else(|| format!("network '{}' is not defined", lease.network))?;
    let def = net.def.as_deref().ok_or_else(|| {
        let why = net.error.as_deref().unwrap_or("unknown error");
        format!("{}: the stored definition cannot be read: {why}", net.name)
    })?;
    let v4 = def.ips.iter().find(|i| i.address.is_ipv4());
    if let Some(h) = v4
        .into_iter()
        .flat_map(|i| i.hosts())
        .find(|h| h.mac == Some(mac) || h.ip == Some(ip))
    {
        let ip = h.ip.map_or("an address".to_string(), |a| a.to_string());
        return Err(format!(
            "{}: {ip} is already reserved for this MAC or address",
            net.name
        ));
    }
    let hostname = lease.hostname.clone().filter(|h| usable_hostname(h));
    let name_attr = hostname
        .as_ref()
        .map_or(String::new(), |h| format!(" name='{h}'"));
    let mut lines = vec![
        format!("Reserve {ip} for {mac} in network '{}'?", net.name),
        "This entry is added to the network's DHCP:".into(),
        format!("  <host mac='{mac}'{name_attr} ip='{ip}'/>"),
        "dnsmasq re-reads its hosts: no restart, guests stay connected.".into(),
    ];
    if lease.hostname.is_some() && hostname.is_none() {
        lines.push("The lease's host name is not a valid DNS name and is left out.".into());
    }
    Ok(Confirm {
        title: "Pin DHCP lease".into(),
        lines,
        command: Command::PinLease {
            network: net.name.clone(),
            mac: mac.to_string(),
            ip: ip.to_string(),
            hostname,
        },
    })
}

fn usable_hostname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::demo::Demo;

    #[test]
    fn pins_a_lease_and_refuses_twice() {
        let snap = Demo::new().snapshot();
        let lease = snap
            .leases
            .iter()
            .find(|l| l.hostname.as_deref() == Some("web01"))
            .expect("web01 has a lease");
        let net = snap.networks.iter().find(|n| n.name == lease.network);
        let confirm = pin_confirm(lease, net).expect("pinnable");
        assert!(confirm.lines[2]
            .contains("<host mac='52:54:00:6b:3c:01' name='web01' ip='192.168.122.4'/>"));
        let mut pinned = net.expect("network").clone();
        let xml = pinned.xml().replace(
            "<dhcp>",
            "<dhcp><host mac='52:54:00:6b:3c:01' ip='192.168.122.4'/>",
        );
        let def = crate::model::parse_network_xml(&xml).expect("parses");
        pinned.def = Some(std::sync::Arc::new(def));
        assert!(pin_confirm(lease, Some(&pinned)).is_err());
        let no_mac = LeaseRow {
            mac: None,
            ..lease.clone()
        };
        assert!(pin_confirm(&no_mac, net).is_err());
    }
}
