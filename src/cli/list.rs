//! `list`: the defined networks, like `virsh net-list`, with drift.

use color_eyre::eyre::Result;
use serde_json::{json, Value};

use crate::backend::{Backend, NetworkStatus, Observation};

pub async fn run(backend: &Backend, all: bool, json: bool) -> Result<()> {
    let obs = Observation::take(backend.host()).await?;
    let statuses: Vec<NetworkStatus> = backend
        .statuses(&obs)?
        .into_iter()
        .filter(|s| all || s.active)
        .collect();
    if json {
        let rows: Vec<Value> = statuses.iter().map(to_json).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", table(&statuses));
    }
    Ok(())
}

/// The JSON object of one network (`list --json`).
pub fn to_json(s: &NetworkStatus) -> Value {
    let def = s.def.as_ref().ok();
    let ranges: Vec<Value> = def
        .map(|d| {
            d.dhcp_ranges()
                .into_iter()
                .map(|(_, r)| json!({"start": r.start.to_string(), "end": r.end.to_string()}))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "name": s.name,
        "uuid": def.and_then(|d| d.uuid).map(|u| u.to_string()),
        "active": s.active,
        "autostart": s.autostart,
        "mode": def.map(|d| d.mode_name()),
        "bridge": def.and_then(|d| d.bridge_name()),
        "ipv4": def.and_then(|d| d.ipv4()).map(|n| n.to_string()),
        "ipv6": def.and_then(|d| d.ipv6()).map(|n| n.to_string()),
        "dhcp_ranges": ranges,
        "drift": s.drift,
        "dnsmasq_pid": s.dnsmasq_pid,
        "taints": def.map(|d| d.taints()).unwrap_or_default(),
        "error": s.def.as_ref().err().or(s.record_error.as_ref()),
    })
}

fn table(statuses: &[NetworkStatus]) -> String {
    let mut out = format!(
        "{:<16} {:<9} {:<9} {:<9} {:<15} {:<18} {}\n",
        "Name", "State", "Autostart", "Mode", "Bridge", "IPv4", "Drift"
    );
    out.push_str(&"-".repeat(86));
    out.push('\n');
    for s in statuses {
        let def = s.def.as_ref().ok();
        let state = if s.active { "active" } else { "inactive" };
        let auto = if s.autostart { "yes" } else { "no" };
        let mode = def.map_or("?", |d| d.mode_name());
        let bridge = def.and_then(|d| d.bridge_name()).unwrap_or("-");
        let ipv4 = def
            .and_then(|d| d.ipv4())
            .map_or("-".to_owned(), |n| n.to_string());
        let drift = match (&s.def, s.drift.is_empty()) {
            (Err(e), _) => format!("definition unreadable: {e}"),
            (Ok(_), true) => String::new(),
            (Ok(_), false) => s.drift.join("; "),
        };
        out.push_str(&format!(
            "{:<16} {:<9} {:<9} {:<9} {:<15} {:<18} {}\n",
            s.name, state, auto, mode, bridge, ipv4, drift
        ));
    }
    out
}
