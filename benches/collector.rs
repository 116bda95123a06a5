//! The collector in the world of issue 4: 1,000 veth pairs on one bridge (2,002 links) plus
//! one tap held by this process (so the periodic guest scan has work), in a namespace of its
//! own with IPv6 off.
//!
//! Once every veth reports carrier, it measures, in this order:
//! (b) a steady collector at a 1 s interval, once with a consumer that only takes the
//!     snapshots and once with one feeding a `RateTracker` as the TUI does: CPU time
//!     (getrusage, whole process) over the run and peak RSS (VmHWM, reset before each run);
//! (c) `ip -s -j link show` run once a second for as long, its CPU time (the 2.3 %
//!     anchor, measured on this machine);
//! (a) one collector cycle with the topology unchanged (counter dump, snapshot, rate update;
//!     guest maps reused) against `ip -s -j link show` run in the same namespace, medians and
//!     ratio; the stats dump and a full link dump alone for context;
//! (d) the `switchyard ports --json` process (release binary, empty home) against
//!     `ip -s -j link show`, both run in the namespace with output to a pipe that is read and
//!     thrown away: median wall time of each and their ratio, and the median peak RSS of each
//!     in separate runs under `/usr/bin/time -f %M` (Debian's `time`; skipped without it). Not
//!     `ru_maxrss` of a child the bench spawns: Linux carries the peak of the process image an
//!     exec replaces into it, and that image is a copy of the bench, tens of MiB, so both
//!     commands came out at the bench's own size.
//!
//! `cargo bench --bench collector` runs the full world for 60 s; `SWITCHYARD_BENCH_SECS`,
//! `SWITCHYARD_BENCH_PAIRS` and `SWITCHYARD_BENCH_TAP=0` change it; `SWITCHYARD_BENCH_PARTS`
//! picks the measurements by letter (default `abcd`). Without `--bench` (as
//! `cargo test --benches` runs it) it is a quick smoke run: 20 pairs, 2 s. Needs root; the
//! namespace is deleted on exit and on panic.

#[path = "support/big_world.rs"]
mod big_world;
use big_world::build_world;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use switchyard::host::{Netlink, NetnsGuard, RealHost};

use switchyard::host::netlink::stats::StatsSocket;
use switchyard::telemetry::{
    Collector, CollectorOptions, NetworkPorts, RateTracker, SnapshotCause,
};
use tokio::sync::watch;

/// The real host, in the namespace the calling thread is in.
async fn real_host() -> std::sync::Arc<RealHost> {
    std::sync::Arc::new(RealHost::connect().await.expect("connect"))
}

struct Config {
    pairs: usize,
    steady: Duration,
    runs: usize,
    tap: bool,
    parts: String,
}

impl Config {
    fn from_env() -> Config {
        let full = std::env::args().any(|a| a == "--bench");
        let num = |key: &str, default: u64| {
            std::env::var(key)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Config {
            pairs: num("SWITCHYARD_BENCH_PAIRS", if full { 1000 } else { 20 }) as usize,
            steady: Duration::from_secs(num("SWITCHYARD_BENCH_SECS", if full { 60 } else { 2 })),
            runs: if full { 101 } else { 11 },
            tap: std::env::var("SWITCHYARD_BENCH_TAP").as_deref() != Ok("0"),
            parts: std::env::var("SWITCHYARD_BENCH_PARTS").unwrap_or_else(|_| "abcd".into()),
        }
    }
}

fn main() {
    if !nix::unistd::geteuid().is_root() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the collector bench needs root (network namespaces)"
        );
        eprintln!("collector bench skipped: needs root");
        return;
    }
    let cfg = Config::from_env();
    let ns = NetnsGuard::create("bench").expect("create bench namespace");
    build_world(&ns, cfg.pairs);
    let tap = cfg
        .tap
        .then(|| ns.run(|| open_tap("bvnet0")).expect("enter ns"));
    if tap.is_some() {
        ip(&ns, &["link", "set", "bvnet0", "master", "br0", "up"]);
    }
    let links = ns.run(wait_settled).expect("enter ns");
    println!(
        "world: namespace {}, {} veth pairs on br0{}, {links} links, all up, IPv6 off",
        ns.name(),
        cfg.pairs,
        if tap.is_some() { " + 1 tap" } else { "" }
    );
    let part = |c: char| cfg.parts.contains(c);
    if part('b') {
        ns.run(|| steady(&cfg, Consumer::Latest)).expect("enter ns");
        ns.run(|| steady(&cfg, Consumer::Rates)).expect("enter ns");
    }
    if part('c') {
        ns.run(|| ip_every_second(&cfg)).expect("enter ns");
    }
    if part('a') {
        ns.run(|| one_cycle(&cfg)).expect("enter ns");
    }
    if part('d') {
        ns.run(|| ports_cli(&cfg)).expect("enter ns");
    }
    drop(tap);
}

/// Waits until every link reports carrier and then no link event comes for 3 s: the kernel
/// announces carrier in a burst of events that can come many seconds after the links were
/// made, and a steady state starts after it. Returns the number of links.
fn wait_settled() -> usize {
    use futures::StreamExt;
    runtime().block_on(async {
        let (conn, _, mut events) =
            rtnetlink::new_multicast_connection(&[rtnetlink::MulticastGroup::Link])
                .expect("subscribe to link events");
        tokio::spawn(conn);
        let nl = Netlink::connect().await.expect("netlink");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let links = nl.dump_links().await.expect("dump links");
            let down = links
                .iter()
                .filter(|l| l.name != "lo" && !matches!(l.oper_state.as_str(), "up" | "unknown"))
                .count();
            let quiet = tokio::time::timeout(Duration::from_secs(3), events.next())
                .await
                .is_err();
            if down == 0 && quiet {
                return links.len();
            }
            assert!(Instant::now() < deadline, "{down} links still not up");
            while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, events.next()).await {}
        }
    })
}

/// `ip -n NS ARGS…`, panicking on failure.
fn ip(ns: &NetnsGuard, args: &[&str]) {
    let status = Command::new("ip")
        .args(["-n", ns.name()])
        .args(args)
        .status()
        .expect("run ip");
    assert!(status.success(), "ip {args:?}: {status}");
}

fn open_tap(name: &str) -> std::fs::File {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .expect("open /dev/net/tun");
    // SAFETY: ifreq is plain old data, so all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF reads and writes one ifreq that lives for the whole call.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) };
    assert_eq!(rc, 0, "TUNSETIFF: {}", std::io::Error::last_os_error());
    file
}

fn networks() -> watch::Receiver<Vec<NetworkPorts>> {
    let (tx, rx) = watch::channel(vec![NetworkPorts {
        network: "bench".into(),
        bridge: Some("br0".into()),
        ..NetworkPorts::default()
    }]);
    std::mem::forget(tx); // the list never changes
    rx
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Minor page faults of the process so far.
fn minor_faults() -> i64 {
    // SAFETY: as in `cpu_time`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer to an owned rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    usage.ru_minflt
}

/// Process CPU time (user + system) so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct we pass; all-zero is a valid initial value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer to an owned rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// A `kB` line of /proc/self/status, e.g. `VmHWM`.
fn status_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// What reads the snapshots during a steady run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Consumer {
    /// Only takes each snapshot (the collector's own cost).
    Latest,
    /// Feeds a `RateTracker` with each, as the TUI does (rates and 10-minute histories).
    Rates,
}

/// (b): a 1 s collector and a consumer, for `cfg.steady`.
fn steady(cfg: &Config, consumer: Consumer) {
    // "5" resets the peak RSS to the current RSS (proc(5), clear_refs).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let hwm0 = status_kb("VmHWM");
    runtime().block_on(async {
        let handle = Collector::open(real_host().await, networks(), CollectorOptions::default())
            .await
            .expect("open")
            .start()
            .await
            .expect("start");
        let mut snaps = handle.subscribe();
        let (cpu0, t0, faults0) = (cpu_time(), Instant::now(), minor_faults());
        let mut tracker = RateTracker::new();
        let (mut count, mut last) = (0u32, handle.latest());
        let _ = tokio::time::timeout(cfg.steady, async {
            while snaps.changed().await.is_ok() {
                last = std::sync::Arc::clone(&snaps.borrow_and_update());
                if consumer == Consumer::Rates {
                    tracker.update(last.at, last.samples());
                }
                count += 1;
            }
        })
        .await;
        let (cpu, wall) = (cpu_time() - cpu0, t0.elapsed());
        let faults = minor_faults() - faults0;
        let what = match consumer {
            Consumer::Latest => "collector alone",
            Consumer::Rates => "collector + RateTracker consumer",
        };
        println!(
            "(b) {what}, 1 s interval, {:.0} s: {count} snapshots of {} ports ({} link dumps \
             in all, errors {:?}); CPU {:.3} s = {:.2} % of one core, {:.0} page faults per \
             snapshot; peak RSS (VmHWM) {} kB, \
             RSS at the end {} kB (process at start of run {hwm0} kB)",
            wall.as_secs_f64(),
            last.ports.len(),
            last.topology,
            last.errors,
            cpu.as_secs_f64(),
            100.0 * cpu.as_secs_f64() / wall.as_secs_f64(),
            faults as f64 / f64::from(count.max(1)),
            status_kb("VmHWM"),
            status_kb("VmRSS"),
        );
    });
}

/// (c): the anchor on this machine: `ip -s -j link show` once a second.
fn ip_every_second(cfg: &Config) {
    let (runs, cpu, wall) = big_world::ip_every_second(cfg.steady);
    println!(
        "(c) `ip -s -j link show` once a second, {:.0} s: {runs} runs, CPU {:.3} s = {:.2} % \
         of one core",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    );
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// (a): one cycle with the topology unchanged against `ip -s -j link show`.
fn one_cycle(cfg: &Config) {
    let (cycle, ports) = runtime().block_on(async {
        let mut c = Collector::open(real_host().await, networks(), CollectorOptions::default())
            .await
            .expect("open");
        let mut tracker = RateTracker::new();
        let first = c.cycle(SnapshotCause::Start).await.expect("cycle");
        tracker.update(first.at, first.samples());
        let mut times = Vec::with_capacity(cfg.runs);
        for _ in 0..cfg.runs {
            let t0 = Instant::now();
            let s = c.cycle(SnapshotCause::Tick).await.expect("cycle");
            tracker.update(s.at, s.samples());
            times.push(t0.elapsed());
            assert_eq!(s.topology, first.topology, "the topology stayed put");
        }
        (median(times), first.ports.len())
    });
    let ip_runs: Vec<Duration> = (0..cfg.runs)
        .map(|_| {
            let t0 = Instant::now();
            let status = Command::new("ip")
                .args(["-s", "-j", "link", "show"])
                .stdout(Stdio::null())
                .status()
                .expect("run ip");
            assert!(status.success());
            t0.elapsed()
        })
        .collect();
    let ip = median(ip_runs);
    let (stats, dump) = parts(cfg.runs);
    println!(
        "(a) one collector cycle ({ports} ports: counter dump, snapshot, rate update), \
         median of {}: {}; `ip -s -j link show` (output to /dev/null): {}; ratio {:.3}",
        cfg.runs,
        ms(cycle),
        ms(ip),
        cycle.as_secs_f64() / ip.as_secs_f64()
    );
    println!(
        "    parts: RTM_GETSTATS counter dump alone {}; full RTM_GETLINK dump (what a topology \
         change costs) {}",
        ms(stats),
        ms(dump)
    );
}

/// Medians of the counter dump alone and of a full link dump.
fn parts(runs: usize) -> (Duration, Duration) {
    let mut sock = StatsSocket::open().expect("stats socket");
    let stats = median(
        (0..runs)
            .map(|_| {
                let t0 = Instant::now();
                sock.dump().expect("stats dump");
                t0.elapsed()
            })
            .collect(),
    );
    let dump = runtime().block_on(async {
        let nl = Netlink::connect().await.expect("netlink");
        let mut times = Vec::new();
        for _ in 0..runs.min(31) {
            let t0 = Instant::now();
            nl.dump_links().await.expect("dump");
            times.push(t0.elapsed());
        }
        median(times)
    });
    (stats, dump)
}

/// Runs `cmd` with stdout read (and dropped) through a pipe; its wall time (spawn to reaped).
fn run_child(cmd: &mut Command) -> Duration {
    use std::io::Read;
    let t0 = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut sink = Vec::with_capacity(1 << 20);
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_end(&mut sink)
        .expect("read output");
    let status = child.wait().expect("wait");
    let wall = t0.elapsed();
    assert!(status.success(), "{cmd:?} failed: {status}");
    assert!(!sink.is_empty(), "{cmd:?} printed nothing");
    wall
}

/// Peak RSS in kB of `program args`, by `/usr/bin/time` (a small process that forks the
/// command, so the figure is the command's own); `None` without it.
fn peak_rss_kb(program: &std::path::Path, args: &[&str]) -> Option<u64> {
    let time = std::path::Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let out = tempfile::NamedTempFile::new().expect("temp file");
    let status = Command::new(time)
        .args(["-f", "%M", "-o"])
        .arg(out.path())
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn time");
    assert!(status.success(), "{program:?} {args:?} failed: {status}");
    std::fs::read_to_string(out.path())
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// (d): `switchyard ports --json` against `ip -s -j link show`, alternating.
fn ports_cli(cfg: &Config) {
    let home = tempfile::tempdir().expect("home");
    let home_arg = home.path().to_str().expect("utf-8 home");
    let ours_args = ["--home", home_arg, "ports", "--json"];
    let ip_args = ["-s", "-j", "link", "show"];
    let ours_bin = std::path::Path::new(env!("CARGO_BIN_EXE_switchyard"));
    let ip_bin = switchyard::host::find_program("ip").expect("ip");
    let runs = cfg.runs.min(41);
    let (mut ours, mut ip) = (vec![], vec![]);
    for _ in 0..runs {
        ours.push(run_child(Command::new(ours_bin).args(ours_args)));
        ip.push(run_child(Command::new(&ip_bin).args(ip_args)));
    }
    let (ours, ip) = (median(ours), median(ip));
    println!(
        "(d) `switchyard ports --json` (whole process), median of {runs}: {}; \
         `ip -s -j link show`: {}; time ratio {:.3}",
        ms(ours),
        ms(ip),
        ours.as_secs_f64() / ip.as_secs_f64()
    );
    let rss = |bin: &std::path::Path, args: &[&str]| {
        let mut v: Vec<u64> = (0..5).filter_map(|_| peak_rss_kb(bin, args)).collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied()
    };
    match (rss(ours_bin, &ours_args), rss(&ip_bin, &ip_args)) {
        (Some(a), Some(b)) => println!(
            "    peak RSS, median of 5 under /usr/bin/time: ours {a} kB, ip {b} kB ({:.2}x)",
            a as f64 / b as f64
        ),
        _ => println!("    peak RSS not measured: /usr/bin/time (Debian package time) is missing"),
    }
}
