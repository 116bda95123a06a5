//! Steady, varied traffic inside the sandbox: guests send UDP to echo servers (upstream, or a
//! peer guest on the isolated network), each at its own rate and rhythm, so the TUI has
//! something real to show. Every packet stays inside the sandbox's namespaces.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::host::NetnsGuard;

pub const ECHO_PORT: u16 = 7;

/// One sender: from a guest namespace to `target`, `size`-byte datagrams at a rate that swings
/// between `low_pps` and `high_pps` over `period`.
#[derive(Debug, Clone, Copy)]
pub struct Flow {
    pub target: SocketAddr,
    pub size: usize,
    pub low_pps: f64,
    pub high_pps: f64,
    pub period: Duration,
}

impl Flow {
    /// Pure: packets per second at `t` (a smooth swing, so rates and sparklines move).
    pub fn pps_at(&self, t: Duration) -> f64 {
        let phase = t.as_secs_f64() / self.period.as_secs_f64().max(0.001);
        let swing = 0.5 - 0.5 * (phase * std::f64::consts::TAU).cos();
        self.low_pps + (self.high_pps - self.low_pps) * swing
    }
}

/// The traffic threads; they stop when this is dropped.
pub struct Traffic {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Traffic {
    pub fn new() -> Traffic {
        Traffic {
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
        }
    }

    /// An echo server on `bind` inside `ns`.
    pub fn echo(&mut self, ns: &NetnsGuard, bind: SocketAddr) -> std::io::Result<()> {
        let stop = self.stop.clone();
        let file = ns.open().map_err(std::io::Error::other)?;
        self.threads.push(std::thread::spawn(move || {
            if enter(&file).is_err() {
                return;
            }
            let Ok(sock) = UdpSocket::bind(bind) else {
                return;
            };
            let _ = sock.set_read_timeout(Some(Duration::from_millis(200)));
            let mut buf = vec![0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                if let Ok((n, from)) = sock.recv_from(&mut buf) {
                    let _ = sock.send_to(&buf[..n], from);
                }
            }
        }));
        Ok(())
    }

    /// A sender inside `ns` following `flow`; it also drains the echoes.
    pub fn send(&mut self, ns: &NetnsGuard, flow: Flow) -> std::io::Result<()> {
        self.spawn(ns, flow, false)
    }

    /// A sender inside `ns` following `flow` from a new socket (a new source port) for each
    /// datagram: each one a new connection to conntrack, as through a port forward.
    pub fn send_new_flows(&mut self, ns: &NetnsGuard, flow: Flow) -> std::io::Result<()> {
        self.spawn(ns, flow, true)
    }

    fn spawn(&mut self, ns: &NetnsGuard, flow: Flow, fresh: bool) -> std::io::Result<()> {
        let stop = self.stop.clone();
        let file = ns.open().map_err(std::io::Error::other)?;
        self.threads.push(std::thread::spawn(move || {
            if enter(&file).is_err() {
                return;
            }
            run_flow(&stop, flow, fresh);
        }));
        Ok(())
    }
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic::new()
    }
}

fn enter(file: &std::fs::File) -> nix::Result<()> {
    use std::os::fd::AsFd;
    nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
}

fn run_flow(stop: &AtomicBool, flow: Flow, fresh: bool) {
    let payload = vec![0x5au8; flow.size];
    let start = Instant::now();
    let mut sock: Option<UdpSocket> = None;
    let mut sent = 0.0f64;
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20));
        // The guest may not have its lease yet: (re)open until sending works.
        let s = match &sock {
            Some(s) => s,
            None => match UdpSocket::bind("0.0.0.0:0") {
                Ok(s) => {
                    let _ = s.set_nonblocking(true);
                    sock.insert(s)
                }
                Err(_) => continue,
            },
        };
        let t = start.elapsed();
        let due = flow.pps_at(t) * 0.02;
        sent += due;
        let mut sent_one = false;
        while sent >= 1.0 {
            sent -= 1.0;
            if s.send_to(&payload, flow.target).is_err() {
                sent = 0.0;
                break;
            }
            sent_one = true;
            if fresh {
                // One datagram per socket; the rest goes in the next rounds.
                break;
            }
        }
        while s.recv_from(&mut buf).is_ok() {}
        if fresh && sent_one {
            // The next datagram leaves from a new port: a new connection to conntrack.
            sock = None;
        }
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_swings_between_low_and_high() {
        let flow = Flow {
            target: "198.51.100.1:7".parse().expect("addr"),
            size: 500,
            low_pps: 10.0,
            high_pps: 110.0,
            period: Duration::from_secs(20),
        };
        assert!((flow.pps_at(Duration::ZERO) - 10.0).abs() < 1e-9);
        assert!((flow.pps_at(Duration::from_secs(10)) - 110.0).abs() < 1e-9);
        assert!((flow.pps_at(Duration::from_secs(5)) - 60.0).abs() < 1e-6);
    }
}
