//! Per-tick costs of the telemetry building blocks: the collector runs each once a second.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use switchyard::host::procscan::scan_processes;
use switchyard::telemetry::leases::parse_leases;
use switchyard::telemetry::{LinkCounters, PortKey, RateTracker};

const PORTS: u32 = 300;
/// A namespace identity for the ports' keys (any value does).
const NETNS: u64 = 4_026_531_840;

fn batch(tick: u64) -> Vec<(PortKey, LinkCounters)> {
    (0..PORTS)
        .map(|i| {
            let c = LinkCounters {
                rx_bytes: tick * 1_000_000 + u64::from(i),
                tx_bytes: tick * 2_000_000,
                rx_packets: tick * 1000,
                tx_packets: tick * 2000,
                ..Default::default()
            };
            (PortKey::new(NETNS, i + 1), c)
        })
        .collect()
}

fn rate_tracker(c: &mut Criterion) {
    let mut tracker = RateTracker::new();
    let mut tick = 0u64;
    c.bench_function("rate_tracker_update_300_ports", |b| {
        b.iter_batched(
            || {
                tick += 1;
                (tick, batch(tick))
            },
            |(t, samples)| tracker.update(Duration::from_secs(t), samples),
            BatchSize::SmallInput,
        )
    });
    black_box(tracker.len());
}

fn proc_scan(c: &mut Criterion) {
    c.bench_function("scan_processes_this_machine", |b| {
        b.iter(|| black_box(scan_processes()))
    });
}

fn leases(c: &mut Criterion) {
    let text: String = (0..1000)
        .map(|i| {
            format!(
                "1700000000 52:54:00:00:{:02x}:{:02x} 10.0.{}.{} host{i} *\n",
                i / 256,
                i % 256,
                i / 250,
                i % 250 + 2
            )
        })
        .collect();
    c.bench_function("parse_leases_1000_lines", |b| {
        b.iter(|| black_box(parse_leases(black_box(&text))))
    });
}

criterion_group!(benches, rate_tracker, proc_scan, leases);
criterion_main!(benches);
