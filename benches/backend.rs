//! Start, stop and start-to-first-lease of a NAT network, inside a namespace of its own.
//!
//! Run as root: `cargo bench --bench backend` (BENCH_RUNS=N for more rounds). Prints medians.
//! libvirt 9.0's anchors on the same kind of machine: net-start 79 ms, net-destroy 374 ms,
//! 7.3 s from start until a new guest holds a lease.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::world::{dhcp, World};
use support::Guest;
use switchyard::backend::Backend;
use switchyard::host::apply::Faults;
use switchyard::host::Netlink;
use switchyard::store::Paths;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Prints how long each step took (`BENCH_STEPS=1`): the planning before the first step,
/// then each step's own time.
fn print_marks(what: &str, t0: Instant, total: Duration, marks: &[(Instant, &'static str)]) {
    let mut line = format!(
        "{what}: plan {:.1}",
        ms_f(marks.first().map_or(total, |m| m.0 - t0))
    );
    for (i, (at, kind)) in marks.iter().enumerate() {
        let end = marks.get(i + 1).map_or(t0 + total, |m| m.0);
        line.push_str(&format!(", {kind} {:.1}", ms_f(end - *at)));
    }
    eprintln!("{line} (ms)");
}

fn ms_f(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Times one in-process start and stop in the world's host namespace.
fn start_stop(world: &World, backend: &Backend) -> (Duration, Duration) {
    world.host.block_on(|| async {
        let nl = Netlink::connect().await.expect("netlink");
        let t0 = Instant::now();
        let mut marks = Vec::new();
        backend
            .start(nl, "lab", Faults::default(), |_, step| {
                marks.push((Instant::now(), step.kind()))
            })
            .await
            .expect("start");
        let started = t0.elapsed();
        if std::env::var_os("BENCH_STEPS").is_some() {
            print_marks("start", t0, started, &marks);
        }
        let nl = Netlink::connect().await.expect("netlink");
        let t1 = Instant::now();
        let mut marks = Vec::new();
        backend
            .stop(nl, "lab", |_, step| {
                marks.push((Instant::now(), step.kind()))
            })
            .await
            .expect("stop");
        let stopped = t1.elapsed();
        if std::env::var_os("BENCH_STEPS").is_some() {
            print_marks("stop ", t1, stopped, &marks);
        }
        (started, stopped)
    })
}

/// From the start of `start` until a guest that was already plugged in holds a lease.
fn first_lease(world: &World, backend: &Backend, round: usize) -> Duration {
    let t0 = Instant::now();
    world.host.block_on(|| async {
        let nl = Netlink::connect().await.expect("netlink");
        backend
            .start(nl, "lab", Faults::default(), |_, _| {})
            .await
            .expect("start");
    });
    let guest = Guest::attach(&world.host, "sybr0", &format!("bg{round}"));
    dhcp(&guest, "bench").expect("lease");
    let took = t0.elapsed();
    drop(guest);
    world.host.block_on(|| async {
        let nl = Netlink::connect().await.expect("netlink");
        backend.stop(nl, "lab", |_, _| {}).await.expect("stop");
    });
    took
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists; nothing to list here.
    }
    let Some(world) = World::new("bnch") else {
        eprintln!("backend bench skipped: needs root, dnsmasq and nft");
        return;
    };
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    world.sy_ok(&[
        "create",
        "--name",
        "lab",
        "--mode",
        "nat",
        "--ipv4",
        "10.42.0.1/24",
    ]);
    let backend = Backend::new(Paths::under(world.home.path()));
    let (mut starts, mut stops) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (s, t) = start_stop(&world, &backend);
        starts.push(s);
        stops.push(t);
    }
    let leases: Vec<Duration> = (0..runs.min(10))
        .map(|r| first_lease(&world, &backend, r))
        .collect();
    let (s, t, l) = (median(starts), median(stops), median(leases));
    println!("NAT network, {runs} rounds, medians (libvirt 9.0: 79 ms / 374 ms / 7.3 s):");
    println!(
        "  start            {}  ({:.0}x faster than libvirt)",
        ms(s),
        79.0 / (s.as_secs_f64() * 1e3)
    );
    println!(
        "  stop             {}  ({:.0}x faster than libvirt)",
        ms(t),
        374.0 / (t.as_secs_f64() * 1e3)
    );
    println!(
        "  start→lease      {}  ({:.0}x faster than libvirt)",
        ms(l),
        7300.0 / (l.as_secs_f64() * 1e3)
    );
}
