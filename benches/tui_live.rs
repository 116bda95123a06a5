//! The running TUI (release binary, in a pseudo-terminal) watching a namespace with 1,000 veth
//! pairs on a bridge at a 1 s refresh with the ports view open: CPU share of one core and
//! resident memory. Anchors on the same world: bmon 10.1 %, bottom 13.6 %, nload 14.4 %.
//!
//! Run as root: `cargo bench --bench tui_live` (BENCH_SECS=60 by default, BENCH_PAIRS=1000).

#[path = "support/big_world.rs"]
mod big_world;
#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::pty::PtyApp;
use switchyard::host::NetnsGuard;

fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// utime + stime of `pid`, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let rest = stat.rsplit_once(')').expect("comm").1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    ticks as f64 / hz
}

/// CPU seconds so far of each thread of `pid`, by thread name (for finding where time goes).
fn thread_cpu(pid: u32) -> Vec<(String, f64)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| {
            let tid: u32 = t.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).ok()?;
            let rest = stat.rsplit_once(')')?.1.to_owned();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some((comm.trim().to_owned(), ticks / 100.0))
        })
        .collect()
}

fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if !nix::unistd::geteuid().is_root() {
        eprintln!("tui_live bench skipped: needs root");
        return;
    }
    let pairs = env_num("BENCH_PAIRS", 1000) as usize;
    let secs = env_num("BENCH_SECS", 60);
    let ns = NetnsGuard::create("tuib").expect("namespace");
    big_world::build_world(&ns, pairs);
    let home = tempfile::tempdir().expect("home");
    let mut cmd = Command::new("ip");
    cmd.args([
        "netns",
        "exec",
        ns.name(),
        env!("CARGO_BIN_EXE_switchyard"),
        "--home",
    ])
    .arg(home.path())
    .args(["--interval-ms", "1000"]);
    let mut app = PtyApp::spawn(cmd, 200, 50);
    let pid = app.child.id();
    app.wait_text("Networks", Duration::from_secs(30));
    app.send("2");
    app.wait_text(&format!("Ports ({pairs})"), Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(5)); // warm-up: first dumps, guest scan
    let (c0, t0) = (cpu_secs(pid), Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let (c1, elapsed) = (cpu_secs(pid), t0.elapsed().as_secs_f64());
    for (name, cpu) in thread_cpu(pid) {
        eprintln!(
            "  thread {name}: {:.2} % of one core",
            cpu / elapsed * 100.0
        );
    }
    let rss = status_kib(pid, "VmRSS:");
    let hwm = status_kib(pid, "VmHWM:");
    let (anon, file) = (status_kib(pid, "RssAnon:"), status_kib(pid, "RssFile:"));
    if let Ok(smaps) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) {
        // The biggest resident mappings, to see what the memory is.
        let mut maps: Vec<(u64, String)> = Vec::new();
        let mut name = String::new();
        for line in smaps.lines() {
            if let Some(kib) = line.strip_prefix("Rss:") {
                let kib = kib.split_whitespace().next().and_then(|v| v.parse().ok());
                maps.push((kib.unwrap_or(0), name.clone()));
            } else if line
                .split_whitespace()
                .next()
                .is_some_and(|f| f.contains('-'))
            {
                name = line
                    .split_whitespace()
                    .nth(5)
                    .unwrap_or("[anon]")
                    .to_owned();
            }
        }
        maps.sort_by_key(|m| std::cmp::Reverse(m.0));
        for (kib, name) in maps.iter().take(6) {
            eprintln!("  mapping {name}: {:.1} MiB", *kib as f64 / 1024.0);
        }
    }
    app.send("q");
    let _ = app.wait_exit(Duration::from_secs(5));
    let share = (c1 - c0) / elapsed * 100.0;
    // The anchor in the same run: polling `ip -s -j link show` once a second as long.
    let (_, ip_cpu, ip_wall) = ns
        .run(|| big_world::ip_every_second(Duration::from_secs(secs)))
        .expect("enter the namespace");
    let ip_share = ip_cpu.as_secs_f64() / ip_wall.as_secs_f64() * 100.0;
    println!(
        "TUI on {pairs} veth pairs ({} links), ports view, 1 s refresh, {secs} s:",
        2 * pairs + 1
    );
    println!("  CPU     {share:.2} % of one core (bmon 10.1 %, bottom 13.6 %, nload 14.4 %)");
    println!(
        "  ip -s -j link show once a second: {ip_share:.2} % of one core; TUI/ip = {:.2}x",
        share / ip_share
    );
    println!(
        "  memory  {:.1} MiB resident ({:.1} anonymous, {:.1} file), peak {:.1} MiB",
        rss as f64 / 1024.0,
        anon as f64 / 1024.0,
        file as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
}
