//! `leases NAME`: the DHCP leases dnsmasq handed out on a network.

use std::time::{SystemTime, UNIX_EPOCH};

use color_eyre::eyre::{Result, WrapErr};
use serde_json::json;

use super::table::Table;
use crate::backend::Backend;
use crate::host::dnsmasq::read_leases;

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

/// Pure: how long a lease expiring at `expiry` (unix seconds; `None` for an infinite lease)
/// has left at `now`: "59m 12s", "expired" or "never", as the TUI's Leases view says it.
pub fn expires_in(expiry: Option<u64>, now: u64) -> String {
    match expiry {
        None => "never".to_owned(),
        Some(at) if at <= now => "expired".to_owned(),
        Some(at) => crate::tui::format::duration(at - now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_reads_as_time_left() {
        let now = 1_700_000_000;
        for (expiry, want) in [
            (None, "never"),
            (Some(now - 5), "expired"),
            (Some(now), "expired"),
            (Some(now + 1), "1s"),
            (Some(now + 59 * 60 + 12), "59m 12s"),
            (Some(now + 3 * 3600 + 4 * 60), "3h 04m"),
            (Some(now + 2 * 86_400 + 3600), "2d 01h"),
        ] {
            assert_eq!(expires_in(expiry, now), want, "{expiry:?}");
        }
    }
}
