//! `list`: the defined networks, like `virsh net-list`, with drift.

use color_eyre::eyre::Result;
use serde_json::{json, Value};

use super::table::Table;
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
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
    } else {
        out!("{}", table(&statuses))?;
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

/// The text table: what `list --json` says, one network a line (several subnets or DHCP
/// ranges of a network separated by commas).
pub fn table(statuses: &[NetworkStatus]) -> String {
    let cell = |s: &str| (s.to_owned(), false);
    let mut table = Table::new(
        [
            "Name",
            "State",
            "Autostart",
            "Mode",
            "Bridge",
            "IPv4",
            "DHCP",
            "IPv6",
            "Drift",
        ]
        .map(cell)
        .to_vec(),
    );
    for s in statuses {
        let def = s.def.as_ref().ok();
        let subnets = |v4: bool| -> String {
            let nets: Vec<String> = def
                .iter()
                .flat_map(|d| d.ips.iter())
                .filter(|ip| ip.address.is_ipv4() == v4)
                .filter_map(|ip| ip.net())
                .map(|n| n.to_string())
                .collect();
            or_dash(nets.join(","))
        };
        let ranges: Vec<String> = def
            .map(|d| {
                d.dhcp_ranges()
                    .into_iter()
                    .map(|(_, r)| format!("{}-{}", r.start, r.end))
                    .collect()
            })
            .unwrap_or_default();
        let mut notes: Vec<String> = s.drift.iter().map(ToString::to_string).collect();
        if let Some(e) = s
            .record_error
            .as_ref()
            .filter(|e| !notes.iter().any(|d| d.contains(*e)))
        {
            notes.push(format!("runtime record unreadable: {e}"));
        }
        let drift = match &s.def {
            Err(e) => format!("definition unreadable: {e}"),
            Ok(_) => notes.join("; "),
        };
        table.push(vec![
            cell(&s.name),
            cell(if s.active { "active" } else { "inactive" }),
            cell(if s.autostart { "yes" } else { "no" }),
            cell(def.map_or("?", |d| d.mode_name())),
            cell(def.and_then(|d| d.bridge_name()).unwrap_or("-")),
            (subnets(true), false),
            (or_dash(ranges.join(",")), false),
            (subnets(false), false),
            (drift, false),
        ]);
    }
    let text = table.render();
    // A rule under the header, as `virsh net-list` draws one.
    let (header, rows) = text.split_once('\n').unwrap_or((&text, ""));
    format!("{header}\n{}\n{rows}", "-".repeat(header.chars().count()))
}

fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        text
    }
}
