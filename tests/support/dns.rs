//! DNS for parity tests: a recorder that stands in for an upstream resolver (it notes every
//! question it receives and answers NXDOMAIN), and the per-namespace `resolv.conf` that
//! `ip netns exec` shows the programs it starts.
//!
//! Sockets are opened inside namespaces the test made and keep belonging to them.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use switchyard::host::NetnsGuard;

/// A resolver on UDP port 53 inside a namespace that records the name of every question and
/// answers each with NXDOMAIN. It stops when dropped.
pub struct Recorder {
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    /// Listens on `addr`:53 inside `ns`.
    pub fn start(ns: &NetnsGuard, addr: &str) -> Recorder {
        let sock = ns
            .run(|| UdpSocket::bind((addr, 53)))
            .expect("enter the recorder's namespace")
            .expect("bind the recorder to port 53");
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("recorder read timeout");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (Arc::clone(&seen), Arc::clone(&stop));
        let thread = std::thread::spawn(move || serve(&sock, &seen2, &stop2));
        Recorder {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// The question names received so far, lower-cased, in order of arrival.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("recorder lock").clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The recorder's loop: note the question, send the query back as an NXDOMAIN answer.
fn serve(sock: &UdpSocket, seen: &Mutex<Vec<String>>, stop: &AtomicBool) {
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let query = &buf[..n];
        let Some(name) = question_name(query) else {
            continue;
        };
        seen.lock()
            .expect("recorder lock")
            .push(name.to_lowercase());
        let mut reply = query.to_vec();
        reply[2] |= 0x80; // QR: a response
        reply[3] = 0x83; // RA, RCODE 3 (NXDOMAIN)
        let _ = sock.send_to(&reply, from);
    }
}

/// The name of a query's (first) question, which follows the 12-byte header uncompressed.
fn question_name(msg: &[u8]) -> Option<String> {
    let (mut labels, mut pos) = (Vec::new(), 12);
    loop {
        let len = usize::from(*msg.get(pos)?);
        if len == 0 {
            return Some(labels.join("."));
        }
        let label = msg.get(pos + 1..pos + 1 + len)?;
        labels.push(String::from_utf8_lossy(label).into_owned());
        pos += 1 + len;
    }
}

/// `/etc/netns/NAME/resolv.conf`: `ip netns exec NAME` bind-mounts it over `/etc/resolv.conf`
/// for the programs it starts (and what they start, such as dnsmasq), so a namespace's
/// resolver can be chosen without touching the machine's own file. Removed on drop, with the
/// `/etc/netns` folder if this made it and it is empty.
pub struct NetnsResolvConf {
    dir: PathBuf,
    made_parent: bool,
}

impl NetnsResolvConf {
    /// Makes `nameserver SERVER` the resolver of namespace `netns`.
    pub fn new(netns: &str, server: &str) -> NetnsResolvConf {
        let parent = Path::new("/etc/netns");
        let made_parent = !parent.exists();
        let dir = parent.join(netns);
        let guard = NetnsResolvConf { dir, made_parent };
        std::fs::create_dir_all(&guard.dir).expect("make /etc/netns/NAME");
        std::fs::write(
            guard.dir.join("resolv.conf"),
            format!("nameserver {server}\n"),
        )
        .expect("write /etc/netns/NAME/resolv.conf");
        guard
    }
}

impl Drop for NetnsResolvConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.dir.join("resolv.conf"));
        let _ = std::fs::remove_dir(&self.dir);
        if self.made_parent {
            // Fails, and is meant to, when someone else put a namespace's files there since.
            let _ = std::fs::remove_dir("/etc/netns");
        }
    }
}
