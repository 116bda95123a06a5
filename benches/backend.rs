//! Start, stop and start-to-first-lease of a NAT network, inside a namespace of its own; then
//! start and stop again with 99 other NAT networks running (the cost must not grow with them).
//!
//! Run as root: `cargo bench --bench backend` (BENCH_RUNS=N for more rounds, BENCH_OTHERS=N
//! for another number of other networks). Prints medians. libvirt 9.0's anchors on the same
//! kind of machine: net-start 79 ms, net-destroy 374 ms, 7.3 s from start until a new guest
//! holds a lease.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::world::{dhcp, World};
use support::Guest;
use switchyard::backend::Backend;
use switchyard::host::RealHost;
use switchyard::store::Paths;

/// A backend on the world's host namespace (its netlink connection is opened there).
async fn backend(world: &World) -> Backend<RealHost> {
    let host = RealHost::connect().await.expect("netlink");
    Backend::new(Paths::under(world.home.path()), host)
}

/// The pause before each timed start and stop (see `rounds` in `main`).
const SETTLE: Duration = Duration::from_millis(100);

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

/// The CPU time `pids` have run so far, from `/proc/PID/schedstat` (nanoseconds).
fn cpu_ns(pids: &[i32]) -> u64 {
    pids.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// The pids of the other networks' dnsmasqs, from their pid files.
fn other_pids(world: &World, n: usize) -> Vec<i32> {
    let dir = world.home.path().join("run/dnsmasq");
    (0..n)
        .filter_map(|i| std::fs::read_to_string(dir.join(format!("other{i}.pid"))).ok())
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// Times one in-process start and stop in the world's host namespace; also returns the CPU
/// time `others` (the other networks' dnsmasqs) used while the start ran.
fn start_stop(world: &World, others: &[i32]) -> (Duration, Duration, Duration) {
    world.host.block_on(|| async {
        let backend = backend(world).await;
        let cpu0 = cpu_ns(others);
        let t0 = Instant::now();
        let mut marks = Vec::new();
        backend
            .start("lab", |_, step| marks.push((Instant::now(), step.kind())))
            .await
            .expect("start");
        let started = t0.elapsed();
        let others_cpu = Duration::from_nanos(cpu_ns(others).saturating_sub(cpu0));
        if std::env::var_os("BENCH_STEPS").is_some() {
            print_marks("start", t0, started, &marks);
        }
        std::thread::sleep(SETTLE);
        let t1 = Instant::now();
        let mut marks = Vec::new();
        backend
            .stop("lab", |_, step| marks.push((Instant::now(), step.kind())))
            .await
            .expect("stop");
        let stopped = t1.elapsed();
        if std::env::var_os("BENCH_STEPS").is_some() {
            print_marks("stop ", t1, stopped, &marks);
        }
        (started, stopped, others_cpu)
    })
}

/// `BENCH_PLAN=N`: the median of N plans of `lab`'s start (no change made), the part of a
/// start that looks at the host and the store.
fn plan_median(world: &World) -> Option<Duration> {
    let n: usize = std::env::var("BENCH_PLAN").ok()?.parse().ok()?;
    Some(world.host.block_on(|| async {
        let backend = backend(world).await;
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let t0 = Instant::now();
            backend.plan_start("lab").await.expect("plan");
            times.push(t0.elapsed());
        }
        median(times)
    }))
}

/// From the start of `start` until a guest that was already plugged in holds a lease.
fn first_lease(world: &World, round: usize) -> Duration {
    let t0 = Instant::now();
    world.host.block_on(|| async {
        backend(world)
            .await
            .start("lab", |_, _| {})
            .await
            .expect("start");
    });
    let guest = Guest::attach(&world.host, "sybr0", &format!("bg{round}"));
    dhcp(&guest, "bench").expect("lease");
    let took = t0.elapsed();
    drop(guest);
    world.host.block_on(|| async {
        backend(world)
            .await
            .stop("lab", |_, _| {})
            .await
            .expect("stop");
    });
    took
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists; nothing to list here.
    }
    let Some(mut world) = World::new("bnch") else {
        eprintln!("backend bench skipped: needs root, dnsmasq and nft");
        return;
    };
    // On a host, the records and dnsmasq's files live under /run, a tmpfs: a home there
    // (traversable, so dnsmasq's files stay in it) keeps the disk's fsync latency, which other
    // work on the machine can stretch tenfold, out of the figures.
    world.home = tempfile::Builder::new()
        .prefix("switchyard-bench-")
        .tempdir_in("/dev/shm")
        .expect("home on tmpfs");
    std::fs::set_permissions(
        world.home.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o711),
    )
    .expect("chmod home");
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
    let rounds = |world: &World, others: &[i32]| {
        let (mut starts, mut stops, mut cpus) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            // Each start and stop is timed from a quiet host: every dnsmasq wakes on the
            // previous operation's address and route changes, and that work, which is not the
            // next operation's, would otherwise land in its figure.
            std::thread::sleep(SETTLE);
            let (s, t, c) = start_stop(world, others);
            starts.push(s);
            stops.push(t);
            cpus.push(c);
        }
        (median(starts), median(stops), median(cpus))
    };
    let alone_plan = plan_median(&world);
    let (alone_start, alone_stop, _) = rounds(&world, &[]);
    let leases: Vec<Duration> = (0..runs.min(10)).map(|r| first_lease(&world, r)).collect();
    let (s, t, l) = (alone_start, alone_stop, median(leases));
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
    let others: usize = std::env::var("BENCH_OTHERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(99);
    start_others(&world, others);
    let pids = other_pids(&world, others);
    if let (Some(alone), Some(busy)) = (alone_plan, plan_median(&world)) {
        println!(
            "plan of a start: {} alone, {} with {others} others",
            ms(alone),
            ms(busy)
        );
    }
    let (busy_start, busy_stop, others_cpu) = rounds(&world, &pids);
    println!("with {others} other NAT networks running:");
    println!(
        "  start            {}  ({:.2}x the time alone)",
        ms(busy_start),
        busy_start.as_secs_f64() / alone_start.as_secs_f64()
    );
    println!(
        "  stop             {}  ({:.2}x the time alone)",
        ms(busy_stop),
        busy_stop.as_secs_f64() / alone_stop.as_secs_f64()
    );
    // Each running dnsmasq (bind-dynamic, as libvirt runs it) re-reads the host's addresses
    // when one is added: this is their CPU, on this machine's cores, during one start.
    println!(
        "  the {} other dnsmasqs' CPU during a start: {}",
        pids.len(),
        ms(others_cpu)
    );
    world.host.block_on(|| async {
        let backend = backend(&world).await;
        for i in 0..others {
            let _ = backend.stop(&format!("other{i}"), |_, _| {}).await;
        }
    });
}

/// Defines and starts `n` other NAT networks on 10.100.0.0/24, 10.100.1.0/24, ….
fn start_others(world: &World, n: usize) {
    for i in 0..n {
        let ipv4 = format!("10.{}.{}.1/24", 100 + i / 250, i % 250);
        world.sy_ok(&[
            "create",
            "--name",
            &format!("other{i}"),
            "--mode",
            "nat",
            "--ipv4",
            &ipv4,
            "--start",
        ]);
    }
}
