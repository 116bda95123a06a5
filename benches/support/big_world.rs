//! The benchmarks' big world: one bridge with N veth pairs (2N+1 links) in a namespace of the
//! bench's own, IPv6 off so the ports do not flood each other with RS/MLD/DAD.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use switchyard::host::NetnsGuard;

/// Builds the world in `ns` with `ip -batch` (one process for thousands of links).
pub fn build_world(ns: &NetnsGuard, pairs: usize) {
    ns.run(|| {
        for key in ["all", "default"] {
            let path = format!("/proc/sys/net/ipv6/conf/{key}/disable_ipv6");
            std::fs::write(&path, "1").unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    })
    .expect("enter the bench namespace");
    let mut batch = String::from("link add br0 type bridge forward_delay 0\nlink set br0 up\n");
    for i in 0..pairs {
        batch.push_str(&format!(
            "link add vb{i} type veth peer name vp{i}\nlink set vb{i} master br0 up\nlink set vp{i} up\n"
        ));
    }
    let t0 = Instant::now();
    let mut child = Command::new("ip")
        .args(["-n", ns.name(), "-batch", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("run ip -batch");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(batch.as_bytes())
        .expect("feed ip -batch");
    let status = child.wait().expect("wait for ip -batch");
    assert!(status.success(), "ip -batch: {status}");
    eprintln!(
        "built {pairs} veth pairs on br0 in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

/// CPU time of the waited-for children of this process.
pub fn children_cpu_time() -> Duration {
    // SAFETY: rusage is plain data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_CHILDREN with a valid pointer to an owned rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// `ip -s -j link show` once a second for `span`, in the calling thread's namespace: the
/// issue's anchor for a live view. Returns the runs, their CPU time and the wall time.
pub fn ip_every_second(span: Duration) -> (u64, Duration, Duration) {
    let (cpu0, t0) = (children_cpu_time(), Instant::now());
    let mut runs = 0;
    while t0.elapsed() < span {
        let next = t0 + Duration::from_secs(runs + 1);
        let status = Command::new("ip")
            .args(["-s", "-j", "link", "show"])
            .stdout(Stdio::null())
            .status()
            .expect("run ip");
        assert!(status.success());
        runs += 1;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    (runs, children_cpu_time() - cpu0, t0.elapsed())
}
