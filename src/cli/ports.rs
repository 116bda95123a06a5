//! `ports [NETWORK]` and `watch [NETWORK]`: every guest port with its guest, address and
//! traffic, once (optionally with rates over a sample window) or as a stream for scripts.
//!
//! `watch` follows the batch modes of bmon and virt-top: text is one line per port per
//! interval, each starting with an RFC 3339 UTC timestamp; `--json` is one object per
//! interval per line.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use color_eyre::eyre::{Result, WrapErr};
use serde_json::{json, Value};
use tokio::sync::watch;

use super::table::Table;
use crate::backend::Backend;
use crate::telemetry::units::{bits_per_second, bytes, si, utc_timestamp};
use crate::telemetry::{
    rates_between, Collector, CollectorOptions, LinkCounters, PortInfo, PortKey, PortsSnapshot,
    Rates, SnapshotCause,
};

async fn open_collector(
    backend: &Backend,
    interval: Duration,
) -> Result<Collector<crate::host::RealHost>> {
    let (_, networks) = watch::channel(backend.network_ports());
    let options = CollectorOptions {
        interval,
        ..CollectorOptions::default()
    };
    Collector::open(backend.host_arc(), networks, options)
        .await
        .wrap_err("cannot start the collector")
}

/// Checks that a network named on the command line is defined.
fn check_network(backend: &Backend, network: Option<&str>) -> Result<()> {
    if let Some(name) = network {
        backend.load_def(name)?;
        if backend.record(name)?.is_none() {
            eprintln!("note: network {name} is not active");
        }
    }
    Ok(())
}

/// The ports to show, with their counters.
type Shown<'a> = Vec<(&'a PortInfo, Option<LinkCounters>)>;

fn shown<'a>(snap: &'a PortsSnapshot, network: Option<&str>) -> Shown<'a> {
    snap.ports_with_counters()
        .filter(|(p, _)| network.is_none() || p.network.as_deref() == network)
        .collect()
}

/// `ports`: one snapshot, or two `sample_ms` apart for rates.
pub async fn ports(
    backend: &Backend,
    network: Option<&str>,
    json: bool,
    sample_ms: Option<u64>,
) -> Result<()> {
    check_network(backend, network)?;
    let window = Duration::from_millis(sample_ms.unwrap_or(1000));
    let mut collector = open_collector(backend, window).await?;
    let first = collector.cycle(SnapshotCause::Start).await?;
    let (snap, rates) = match sample_ms {
        Some(_) => {
            tokio::time::sleep(window).await;
            let second = collector.cycle(SnapshotCause::Tick).await?;
            let rates = rates_between(&first, &second);
            (second, Some(rates))
        }
        None => (first, None),
    };
    report_errors(&snap);
    let ports = shown(&snap, network);
    let mut out = io::stdout().lock();
    if json {
        let rows: Vec<Value> = ports
            .iter()
            .map(|&(p, c)| port_json(p, c, rate_of(rates.as_ref(), p)))
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
    } else {
        let mut table = Table::new(header(rates.is_some()));
        for &(p, c) in &ports {
            table.push(row(p, c, rates.as_ref().map(|r| rate_of(Some(r), p))));
        }
        write!(out, "{}", table.render())?;
    }
    Ok(())
}

fn rate_of(rates: Option<&HashMap<PortKey, Rates>>, p: &PortInfo) -> Option<Rates> {
    rates?.get(&p.key()).copied()
}

fn report_errors(snap: &PortsSnapshot) {
    for e in &snap.errors {
        eprintln!("warning: {e}");
    }
}

/// `watch`: a line (or a JSON object) per interval until `count` intervals were printed.
pub async fn watch(
    backend: &Backend,
    network: Option<&str>,
    json: bool,
    interval_ms: u64,
    count: Option<u64>,
) -> Result<()> {
    check_network(backend, network)?;
    let interval = Duration::from_millis(interval_ms);
    let handle = open_collector(backend, interval).await?.start().await?;
    let mut snaps = handle.subscribe();
    let mut prev = handle.latest();
    let mut widths = Vec::new();
    let mut printed = 0;
    while count.is_none_or(|n| printed < n) {
        snaps.changed().await.wrap_err("the collector stopped")?;
        let snap = std::sync::Arc::clone(&snaps.borrow_and_update());
        if snap.cause != SnapshotCause::Tick {
            continue; // a link change between ticks: the next tick covers it
        }
        report_errors(&snap);
        let rates = rates_between(&prev, &snap);
        let lines = if json {
            watch_json(&prev, &snap, network, &rates)
        } else {
            watch_text(&snap, network, &rates, &mut widths, printed == 0)
        };
        // A reader that went away (`| head`) ends the stream: `main` exits quietly on EPIPE.
        io::stdout().lock().write_all(lines.as_bytes())?;
        prev = snap;
        printed += 1;
    }
    Ok(())
}

fn watch_json(
    prev: &PortsSnapshot,
    snap: &PortsSnapshot,
    network: Option<&str>,
    rates: &HashMap<PortKey, Rates>,
) -> String {
    let ports: Vec<Value> = shown(snap, network)
        .iter()
        .map(|&(p, c)| port_json(p, c, rate_of(Some(rates), p)))
        .collect();
    let window = snap.at.saturating_sub(prev.at);
    let line = json!({
        "time": utc_timestamp(SystemTime::now()),
        "interval_ms": window.as_secs_f64() * 1000.0,
        "ports": ports,
    });
    format!("{line}\n")
}

/// One interval as text: a line per port, each starting with the time (the first interval
/// under a header line), or one line saying there are no ports.
fn watch_text(
    snap: &PortsSnapshot,
    network: Option<&str>,
    rates: &HashMap<PortKey, Rates>,
    widths: &mut Vec<usize>,
    with_header: bool,
) -> String {
    let time = utc_timestamp(SystemTime::now());
    let header = if with_header {
        let mut h = vec![("TIME".to_owned(), false)];
        h.extend(header(true));
        h
    } else {
        Vec::new()
    };
    let mut table = Table::new(header);
    let ports = shown(snap, network);
    for &(p, c) in &ports {
        let mut cells = vec![(time.clone(), false)];
        cells.extend(row(p, c, Some(rate_of(Some(rates), p))));
        table.push(cells);
    }
    let mut text = table.render_with(widths);
    if ports.is_empty() {
        let place = network.map_or(String::new(), |n| format!(" on network {n}"));
        text.push_str(&format!("{time}  no ports{place}\n"));
    }
    text
}

/// The JSON object of one port; counter and rate keys are `null` without a value.
pub fn port_json(p: &PortInfo, c: Option<LinkCounters>, rate: Option<Rates>) -> Value {
    let counter = |f: fn(&LinkCounters) -> u64| c.as_ref().map(f);
    json!({
        "ifname": p.ifname, "ifindex": p.ifindex, "network": p.network, "bridge": p.bridge,
        "parent": p.parent, "kind": p.kind, "mac": p.mac, "guest_mac": p.guest_mac,
        "guest": p.guest, "ip": p.ip, "ip_source": p.ip_source, "mtu": p.mtu, "up": p.up,
        "oper_state": p.oper_state,
        "rx_bytes": counter(|c| c.rx_bytes), "tx_bytes": counter(|c| c.tx_bytes),
        "rx_packets": counter(|c| c.rx_packets), "tx_packets": counter(|c| c.tx_packets),
        "rx_dropped": counter(|c| c.rx_dropped), "tx_dropped": counter(|c| c.tx_dropped),
        "rx_errors": counter(|c| c.rx_errors), "tx_errors": counter(|c| c.tx_errors),
        "multicast": counter(|c| c.multicast),
        "rx_bps": rate.map(|r| r.rx_bps), "tx_bps": rate.map(|r| r.tx_bps),
        "rx_pps": rate.map(|r| r.rx_pps), "tx_pps": rate.map(|r| r.tx_pps),
    })
}

fn header(with_rates: bool) -> Vec<(String, bool)> {
    let mut h: Vec<(&str, bool)> = vec![
        ("NETWORK", false),
        ("BRIDGE", false),
        ("PORT", false),
        ("KIND", false),
        ("STATE", false),
        ("GUEST", false),
        ("IP", false),
        ("GUEST MAC", false),
    ];
    if with_rates {
        h.extend([
            ("RX", true),
            ("TX", true),
            ("RX PKT/S", true),
            ("TX PKT/S", true),
        ]);
    } else {
        let counters = ["RX", "TX", "RX PKTS", "TX PKTS", "DROPS", "ERRORS"];
        h.extend(counters.map(|c| (c, true)));
    }
    h.into_iter().map(|(t, r)| (t.to_owned(), r)).collect()
}

/// The cells of one port: rates when `rate` is `Some` (inner `None`: no rate yet), else
/// counters.
fn row(
    p: &PortInfo,
    counters: Option<LinkCounters>,
    rate: Option<Option<Rates>>,
) -> Vec<(String, bool)> {
    let text = |v: Option<&str>| v.unwrap_or("-").to_owned();
    let mut cells = vec![
        (text(p.network.as_deref()), false),
        (text(p.bridge.as_deref().or(p.parent.as_deref())), false),
        (p.ifname.clone(), false),
        (p.kind.clone(), false),
        (
            if p.up {
                p.oper_state.clone()
            } else {
                "admin-down".to_owned()
            },
            false,
        ),
        (text(p.guest.as_deref()), false),
        (text(p.ip.as_deref()), false),
        (text(p.guest_mac.as_deref()), false),
    ];
    let dash = || "-".to_owned();
    match (rate, counters) {
        (Some(r), _) => {
            let pps = |v: f64| si(v, "pkt/s");
            cells.extend(
                [
                    r.map_or_else(dash, |r| bits_per_second(r.rx_bps)),
                    r.map_or_else(dash, |r| bits_per_second(r.tx_bps)),
                    r.map_or_else(dash, |r| pps(r.rx_pps)),
                    r.map_or_else(dash, |r| pps(r.tx_pps)),
                ]
                .map(|c| (c, true)),
            );
        }
        (None, Some(c)) => cells.extend(
            [
                bytes(c.rx_bytes),
                bytes(c.tx_bytes),
                c.rx_packets.to_string(),
                c.tx_packets.to_string(),
                (c.rx_dropped + c.tx_dropped).to_string(),
                (c.rx_errors + c.tx_errors).to_string(),
            ]
            .map(|c| (c, true)),
        ),
        (None, None) => cells.extend((0..6).map(|_| (dash(), true))),
    }
    cells
}
