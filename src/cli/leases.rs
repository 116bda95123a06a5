//! `leases NAME`: the DHCP leases dnsmasq handed out on a network.

use std::time::{SystemTime, UNIX_EPOCH};

use color_eyre::eyre::{Result, WrapErr};
use serde_json::json;

use super::table::Table;
use crate::backend::Backend;
use crate::host::dnsmasq::read_leases;
use crate::tui::format::expires_in;

pub fn run(backend: &Backend, name: &str, json: bool) -> Result<()> {
    backend.load_def(name)?;
    let path = backend.live_dnsmasq_paths(name).lease_file;
    let file = read_leases(&path).wrap_err_with(|| format!("cannot read {}", path.display()))?;
    for s in &file.skipped {
        eprintln!(
            "warning: {}: line {} skipped: {}",
            path.display(),
            s.line,
            s.reason
        );
    }
    if json {
        let rows: Vec<_> = file
            .leases
            .iter()
            .map(|l| {
                json!({"mac": l.mac, "ip": l.ip.to_string(), "hostname": l.hostname,
                       "expiry": l.expiry, "client_id": l.client_id})
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let text = |s: &str| (s.to_owned(), false);
    let mut table = Table::new(vec![
        text("MAC"),
        text("IP"),
        text("HOSTNAME"),
        ("EXPIRES IN".to_owned(), true),
    ]);
    for l in &file.leases {
        table.push(vec![
            text(l.mac.as_deref().unwrap_or("-")),
            (l.ip.to_string(), false),
            text(l.hostname.as_deref().unwrap_or("-")),
            (expires_in(l.expiry, now), true),
        ]);
    }
    out!("{}", table.render())?;
    if file.leases.is_empty() {
        outln!("no leases on network {name}")?;
    }
    Ok(())
}
