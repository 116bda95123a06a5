//! Rendering cost of the ports view with 1,000 ports at 200×50 on a TestBackend (goal: under
//! 1 ms per frame), the cost of taking in one snapshot of that size, and of handing it over.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use switchyard::host::fake::FAKE_NETNS_ID;
use switchyard::live::demo::Demo;
use switchyard::model::MacAddr;
use switchyard::state::LinkKind;
use switchyard::telemetry::{LinkCounters, Rates};
use switchyard::tui::app::{App, Settings};
use switchyard::tui::{Event, PortRow, Snapshot};

const PORTS: u32 = 1_000;

/// The simulated host's snapshot at `step`, with 1,000 synthetic guest ports whose counters
/// grow.
fn big_snapshot(base: &Snapshot, step: u64) -> Snapshot {
    let ports = (0..PORTS)
        .map(|i| {
            let n = u64::from(i) + 1;
            let grow = |per_s: u64| per_s * n * step + (step * 7 + n) % 13 * 100;
            PortRow {
                netns: FAKE_NETNS_ID,
                ifindex: 100 + i,
                ifname: format!("vnet{i}"),
                kind: LinkKind::Tun,
                bridge: Some(format!("virbr{}", i % 8)),
                network: Some(format!("net{}", i % 8)),
                mac: Some(MacAddr([
                    0x52,
                    0x54,
                    0,
                    (i >> 16 & 0xff) as u8,
                    (i >> 8 & 0xff) as u8,
                    (i & 0xff) as u8,
                ])),
                mtu: 1500,
                up: true,
                guest: Some(format!("guest-{i:04}")),
                ip: Some(IpAddr::V4(Ipv4Addr::new(
                    10,
                    (i / 65_536) as u8,
                    (i / 256 % 256) as u8,
                    (i % 256) as u8,
                ))),
                counters: Some(LinkCounters {
                    rx_bytes: grow(1_000),
                    tx_bytes: grow(700),
                    rx_packets: grow(2),
                    tx_packets: grow(1),
                    ..LinkCounters::default()
                }),
                // As the collector measures it (step > 0: a second sample).
                rate: (step > 0).then(|| {
                    let r = |per_s: u64| (per_s * n) as f64;
                    Rates {
                        rx_bps: r(1_000) * 8.0,
                        tx_bps: r(700) * 8.0,
                        rx_pps: r(2),
                        tx_pps: r(1),
                        ..Rates::default()
                    }
                }),
            }
        })
        .collect();
    Snapshot {
        at: Duration::from_secs(step),
        now_unix: base.now_unix + step,
        ports,
        ..base.clone()
    }
}

fn app_with_history(width: u16, height: u16) -> App {
    let base = Demo::new().snapshot();
    let mut app = App::new(Settings::default(), (width, height));
    for step in 0..=60 {
        app.update(Event::Snapshot(Arc::new(big_snapshot(&base, step))));
    }
    app.update(Event::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('2'),
    )));
    app
}

fn render_ports(c: &mut Criterion) {
    let app = app_with_history(200, 50);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    c.bench_function("ports_view_1000_rows_200x50", |b| {
        b.iter(|| {
            terminal
                .draw(|f| switchyard::tui::views::draw(f, black_box(&app)))
                .expect("test backend draw");
        })
    });
}

fn take_snapshot(c: &mut Criterion) {
    let base = Demo::new().snapshot();
    let mut app = app_with_history(200, 50);
    let mut step = 61;
    c.bench_function("update_snapshot_1000_ports", |b| {
        b.iter_batched(
            || {
                step += 1;
                big_snapshot(&base, step)
            },
            |snap| app.update(Event::Snapshot(Arc::new(snap))),
            criterion::BatchSize::SmallInput,
        )
    });
}

/// What the run loop pays to hand a 1,000-port snapshot from the source to the App: an `Arc`
/// clone now, against the deep copy it made before snapshots were shared.
fn hand_over(c: &mut Criterion) {
    let snap = Arc::new(big_snapshot(&Demo::new().snapshot(), 5));
    c.bench_function("hand_over_1000_ports_shared", |b| {
        b.iter(|| Arc::clone(black_box(&snap)))
    });
    c.bench_function("hand_over_1000_ports_deep_copy", |b| {
        b.iter(|| Snapshot::clone(black_box(&snap)))
    });
}

criterion_group!(benches, render_ports, take_snapshot, hand_over);
criterion_main!(benches);
