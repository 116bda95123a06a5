//! `leases NAME`: the DHCP leases dnsmasq handed out on a network.

use color_eyre::eyre::{Result, WrapErr};
use serde_json::json;

use crate::backend::Backend;
use crate::telemetry::leases::read_leases;

pub fn run(backend: &Backend, name: &str, json: bool) -> Result<()> {
    backend.load_def(name)?;
    let path = backend.live_dnsmasq_paths(name).lease_file;
    let file = read_leases(&path).wrap_err_with(|| format!("cannot read {}", path.display()))?;
    if json {
        let rows: Vec<_> = file
            .leases
            .iter()
            .map(|l| {
                json!({"mac": l.mac, "ip": l.ip.to_string(), "hostname": l.hostname,
                       "expiry": l.expiry, "client_id": l.client_id})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<19} {:<40} {:<20} Expiry (unix s)",
        "MAC", "IP", "Hostname"
    );
    for l in &file.leases {
        let expiry = l.expiry.map_or("never".to_owned(), |e| e.to_string());
        println!(
            "{:<19} {:<40} {:<20} {expiry}",
            l.mac.as_deref().unwrap_or("-"),
            l.ip,
            l.hostname.as_deref().unwrap_or("-")
        );
    }
    for s in &file.skipped {
        eprintln!(
            "warning: {}: line {} skipped: {}",
            path.display(),
            s.line,
            s.reason
        );
    }
    Ok(())
}
