//! `ports [NETWORK]` and `watch [NETWORK]`: every guest port with its guest, address and
//! traffic, once (optionally with rates over a sample window) or as a stream for scripts.
//!
//! `watch` follows the batch modes of bmon and virt-top: text is one line per port per
//! interval, each starting with an RFC 3339 UTC timestamp; `--json` is one object per
//! interval per line.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use color_eyre::eyre::{Result, WrapErr};
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use tokio::sync::watch;

use super::table::Table;
use crate::backend::Backend;
use crate::telemetry::units::{bits_per_second, bytes, si, utc_timestamp};
use crate::telemetry::{
    Collector, CollectorOptions, LinkCounters, PortInfo, PortsSnapshot, Rates, SnapshotCause,
};

/// A collector of `backend`'s host; `follow` subscribes it to the host's events (for a stream
/// of snapshots), else every snapshot looks at the links afresh (one or two snapshots are
/// cheaper without a subscription).
async fn open_collector(
    backend: &Backend,
    interval: Duration,
    follow: bool,
) -> Result<Collector<crate::host::SystemHost>> {
    let (_, networks) = watch::channel(backend.network_ports());
    let options = CollectorOptions {
        interval,
        ports_only: true,
        ..CollectorOptions::default()
    };
    let host = backend.host_arc();
    let collector = if follow {
        Collector::open(host, networks, options).await
    } else {
        Collector::open_unsubscribed(host, networks, options)
    };
    collector.wrap_err("cannot start the collector")
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
    let mut collector = open_collector(backend, window, false).await?;
    let first = collector.cycle(SnapshotCause::Start).await?;
    // The collector measures rates from its second sample on.
    let (snap, rates) = match sample_ms {
        Some(_) => {
            tokio::time::sleep(window).await;
            (collector.cycle(SnapshotCause::Tick).await?, true)
        }
        None => (first, false),
    };
    report_errors(&snap);
    let ports = shown(&snap, network);
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    if json {
        // Streamed row by row: no document of every port is built first.
        let mut ser = serde_json::Serializer::pretty(&mut out);
        let mut seq = ser.serialize_seq(Some(ports.len()))?;
        for &(p, c) in &ports {
            seq.serialize_element(&PortJson::new(
                p,
                c,
                rates.then(|| snap.rate_of(p.ifindex)).flatten(),
            ))?;
        }
        seq.end()?;
        writeln!(out)?;
    } else {
        let mut table = Table::new(header(rates));
        for &(p, c) in &ports {
            table.push(row(p, c, rates.then(|| snap.rate_of(p.ifindex))));
        }
        write!(out, "{}", table.render())?;
    }
    out.flush()?;
    Ok(())
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
    let handle = open_collector(backend, interval, true)
        .await?
        .start()
        .await?;
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
        let lines = if json {
            watch_json(&prev, &snap, network)
        } else {
            watch_text(&snap, network, &mut widths, printed == 0)
        };
        // A reader that went away (`| head`) ends the stream: `main` exits quietly on EPIPE.
        io::stdout().lock().write_all(lines.as_bytes())?;
        prev = snap;
        printed += 1;
    }
    Ok(())
}

/// One line of `watch --json`: `{"interval_ms":…,"ports":[…],"time":"…"}`.
#[derive(Serialize)]
struct WatchLine<'a> {
    interval_ms: f64,
    #[serde(serialize_with = "serialize_ports")]
    ports: (Shown<'a>, &'a PortsSnapshot),
    time: String,
}

fn serialize_ports<S: Serializer>(
    (ports, snap): &(Shown<'_>, &PortsSnapshot),
    ser: S,
) -> Result<S::Ok, S::Error> {
    ser.collect_seq(
        ports
            .iter()
            .map(|&(p, c)| PortJson::new(p, c, snap.rate_of(p.ifindex))),
    )
}

fn watch_json(prev: &PortsSnapshot, snap: &PortsSnapshot, network: Option<&str>) -> String {
    let window = snap.at.saturating_sub(prev.at);
    let line = WatchLine {
        interval_ms: window.as_secs_f64() * 1000.0,
        ports: (shown(snap, network), snap),
        time: utc_timestamp(SystemTime::now()),
    };
    let mut text = serde_json::to_string(&line).expect("a watch line serializes");
    text.push('\n');
    text
}

/// One interval as text: a line per port, each starting with the time (the first interval
/// under a header line), or one line saying there are no ports.
fn watch_text(
    snap: &PortsSnapshot,
    network: Option<&str>,
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
        cells.extend(row(p, c, Some(snap.rate_of(p.ifindex))));
        table.push(cells);
    }
    let mut text = table.render_with(widths);
    if ports.is_empty() {
        let place = network.map_or(String::new(), |n| format!(" on network {n}"));
        text.push_str(&format!("{time}  no ports{place}\n"));
    }
    text
}

/// The JSON object of one port; counter and rate keys are `null` without a value. Keys are
/// in alphabetical order (as the earlier `serde_json::Value` printed them).
#[derive(Debug, Serialize)]
pub struct PortJson<'a> {
    bridge: &'a Option<String>,
    guest: &'a Option<String>,
    guest_mac: &'a Option<String>,
    ifindex: u32,
    ifname: &'a str,
    ip: &'a Option<String>,
    ip_source: Option<crate::telemetry::IpSource>,
    kind: &'a str,
    mac: &'a Option<String>,
    mtu: u32,
    multicast: Option<u64>,
    network: &'a Option<String>,
    oper_state: &'a str,
    parent: &'a Option<String>,
    rx_bps: Option<f64>,
    rx_bytes: Option<u64>,
    rx_dropped: Option<u64>,
    rx_errors: Option<u64>,
    rx_packets: Option<u64>,
    rx_pps: Option<f64>,
    tx_bps: Option<f64>,
    tx_bytes: Option<u64>,
    tx_dropped: Option<u64>,
    tx_errors: Option<u64>,
    tx_packets: Option<u64>,
    tx_pps: Option<f64>,
    up: bool,
}

impl<'a> PortJson<'a> {
    pub fn new(p: &'a PortInfo, c: Option<LinkCounters>, rate: Option<Rates>) -> PortJson<'a> {
        let counter = |f: fn(&LinkCounters) -> u64| c.as_ref().map(f);
        PortJson {
            bridge: &p.bridge,
            guest: &p.guest,
            guest_mac: &p.guest_mac,
            ifindex: p.ifindex,
            ifname: &p.ifname,
            ip: &p.ip,
            ip_source: p.ip_source,
            kind: &p.kind,
            mac: &p.mac,
            mtu: p.mtu,
            multicast: counter(|c| c.multicast),
            network: &p.network,
            oper_state: &p.oper_state,
            parent: &p.parent,
            rx_bps: rate.map(|r| r.rx_bps),
            rx_bytes: counter(|c| c.rx_bytes),
            rx_dropped: counter(|c| c.rx_dropped),
            rx_errors: counter(|c| c.rx_errors),
            rx_packets: counter(|c| c.rx_packets),
            rx_pps: rate.map(|r| r.rx_pps),
            tx_bps: rate.map(|r| r.tx_bps),
            tx_bytes: counter(|c| c.tx_bytes),
            tx_dropped: counter(|c| c.tx_dropped),
            tx_errors: counter(|c| c.tx_errors),
            tx_packets: counter(|c| c.tx_packets),
            tx_pps: rate.map(|r| r.tx_pps),
            up: p.up,
        }
    }
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
/// `move-port IFNAME NETWORK [--json]`: re-master a guest port onto another network's bridge.
pub async fn move_port(backend: &Backend, ifname: &str, network: &str, json: bool) -> Result<()> {
    let moved = backend.move_port(ifname, network).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&moved)?)?;
    } else {
        outln!("{moved}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_json_keys_come_sorted_as_a_value_prints_them() {
        let p = PortInfo {
            ifindex: 7,
            ifname: "vnet0".into(),
            kind: "tap".into(),
            bridge: Some("sybr0".into()),
            parent: None,
            network: Some("default".into()),
            mac: Some("fe:54:00:00:00:01".into()),
            guest_mac: Some("52:54:00:00:00:01".into()),
            mtu: 1500,
            up: true,
            oper_state: "up".into(),
            guest: Some("vm1".into()),
            ip: Some("10.0.0.7".into()),
            ip_source: Some(crate::telemetry::IpSource::Lease),
        };
        let c = LinkCounters {
            rx_bytes: 1,
            tx_bytes: 2,
            rx_packets: 3,
            tx_packets: 4,
            rx_errors: 5,
            tx_errors: 6,
            rx_dropped: 7,
            tx_dropped: 8,
            multicast: 9,
        };
        for (c, rate) in [(Some(c), None), (None, None)] {
            let row = PortJson::new(&p, c, rate);
            let text = serde_json::to_string(&row).expect("serializes");
            let value = serde_json::to_value(&row).expect("to value");
            assert_eq!(text, value.to_string(), "same keys, same order");
        }
    }
}
