//! `why`'s kernel work: a throwaway probe port on a network's bridge, the tracer's chains in
//! our own table (see [`crate::model::why::trace_doc`]), `nft -a monitor` as a child reading
//! the kernel's trace events, one probe packet, and everything removed again.
//!
//! The probe port is a veth whose far end lives in an anonymous network namespace held only
//! by a thread of ours: it needs no name under /run/netns, and if the process dies the kernel
//! removes the namespace and the veth with it. Everything else is undone by drop guards, on
//! success, on error, on a panic, and when a signal asks the verb to end (the wait polls
//! [`crate::host::apply::interrupted`]).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ipnet::{IpNet, Ipv4Net};
use serde_json::Value;

use super::error::HostError;
use super::netlink::Netlink;
use crate::model::why::{
    self, Legacy, Probe, Ruleset, WhyProto, DONE_CHAIN, MARK_CHAIN, OUR_FAMILY, OUR_TABLE,
    POST_CHAIN,
};

/// Where the probe port is plugged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attach {
    /// A port of the network's bridge (`probe.bridge`), as a guest: the probe's address is
    /// on the network, its default route the network's gateway.
    Bridge {
        gateway: Ipv4Addr,
        /// The port's MAC (a chosen guest's), else a random local one.
        mac: Option<[u8; 6]>,
    },
    /// A link of its own into the host, as the outside world: the host end gets `host`, the
    /// probe `probe.src` (in `host`'s subnet, or else with a host route to it through the
    /// link for the probe's life — the route goes with the link).
    Outside { host: Ipv4Net },
}

/// What to probe, and how.
#[derive(Debug, Clone)]
pub struct TraceRequest {
    pub probe: Probe,
    pub attach: Attach,
    /// How long to wait for the probe's trace.
    pub timeout: Duration,
    /// Hold, with the probe port and the trace rule in place, until a signal comes, and send
    /// nothing: set only by the tests' fault wrapper ([`super::faults`]), to check that an
    /// interrupted trace leaves nothing behind.
    pub hold_before_send: bool,
}

/// What the kernel said, for [`crate::model::why::report`].
#[derive(Debug, Clone, Default)]
pub struct TraceCapture {
    /// `nft -j list ruleset` while the tracer's chains were in.
    pub ruleset_json: String,
    /// Every `trace id …` line the monitor printed.
    pub lines: Vec<String>,
    pub legacy: Legacy,
    pub br_netfilter: bool,
    pub ip_forward: bool,
}

/// Traces under way in this process (a signal then lets them clean up before it ends).
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Whether a trace is under way.
pub fn in_flight() -> bool {
    IN_FLIGHT.load(Ordering::SeqCst) > 0
}

struct Counted;

impl Counted {
    fn new() -> Counted {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs one trace on a thread of its own (its guards build small runtimes of their own, which
/// must not happen on a runtime's thread) and waits for it.
pub async fn trace(req: TraceRequest) -> Result<TraceCapture, HostError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("why-trace".into())
        .spawn(move || {
            let _ = tx.send(run(&req));
        })
        .map_err(|e| HostError::from_io("start the trace thread", &e))?;
    rx.await.unwrap_or_else(|_| {
        Err(HostError::Invalid {
            op: "trace".into(),
            reason: "the trace thread ended without an answer".into(),
        })
    })
}

fn interrupted_error() -> HostError {
    HostError::Invalid {
        op: "trace".into(),
        reason: "interrupted; the probe and the trace rule were removed".into(),
    }
}

/// The trace itself, blocking.
pub fn run(req: &TraceRequest) -> Result<TraceCapture, HostError> {
    let _counted = Counted::new();
    let rt = runtime()?;
    let nl = rt.block_on(Netlink::connect())?;
    // Our table must be there (a network is running); tracer chains a killed run left behind
    // go first (the caller holds the store lock, so no other trace is under way).
    let before = Ruleset::from_value(&ruleset_doc()?);
    if !before
        .tables
        .iter()
        .any(|(f, t)| f == OUR_FAMILY && t == OUR_TABLE)
    {
        return Err(HostError::Invalid {
            op: "trace".into(),
            reason: "table inet switchyard does not exist (no network is running)".into(),
        });
    }
    if let Some(doc) = why::untrace_doc(&before) {
        load_json(&doc).map_err(|e| nft_error("remove a previous trace's chains", e))?;
    }

    let tag = format!("{:06x}", super::random_u64() & 0xff_ffff);
    let (host_end, peer) = (format!("sywh{tag}"), format!("sywp{tag}"));
    // The host learns the probe's address on the bridge while answering it: that
    // neighbour entry is the probe's too, and goes after the port (unless it was there
    // before).
    let _neighbour = match &req.attach {
        Attach::Bridge { .. } => {
            let bridge = rt.block_on(nl.link_index(&req.probe.bridge))?;
            let known = rt
                .block_on(nl.dump_neighbours())
                .unwrap_or_default()
                .iter()
                .any(|n| {
                    matches!(n, crate::state::Neighbour::Ip { ifindex, ip, .. }
                    if *ifindex == bridge && *ip == std::net::IpAddr::V4(req.probe.src))
                });
            (!known).then_some(NeighbourGuard {
                ifindex: bridge,
                ip: req.probe.src,
            })
        }
        Attach::Outside { .. } => None,
    };
    let ns = ProbeNs::start()?;
    rt.block_on(nl.create_veth(&host_end, &peer))?;
    // From here on the port goes on every way out (its peer with it).
    let _veth = VethGuard(host_end.clone());
    let bad_net = |e: ipnet::PrefixLenError| HostError::Invalid {
        op: "probe address".into(),
        reason: e.to_string(),
    };
    let setup = match &req.attach {
        Attach::Bridge { gateway, mac } => {
            rt.block_on(async {
                nl.move_to_netns(&peer, &ns.fd).await?;
                nl.set_master(&host_end, &req.probe.bridge).await?;
                nl.set_up(&host_end).await
            })?;
            Cmd::Setup {
                ifname: peer.clone(),
                net: Ipv4Net::new(req.probe.src, req.probe.subnet.prefix_len()).map_err(bad_net)?,
                gateway: *gateway,
                mac: *mac,
            }
        }
        Attach::Outside { host } => {
            let inside = host.contains(&req.probe.src);
            rt.block_on(async {
                nl.move_to_netns(&peer, &ns.fd).await?;
                nl.add_addr(&host_end, IpNet::V4(*host)).await?;
                nl.set_up(&host_end).await?;
                if !inside {
                    let to = Ipv4Net::new(req.probe.src, 32).map_err(bad_net)?;
                    nl.add_route(IpNet::V4(to), None, Some(&host_end)).await?;
                }
                Ok::<(), HostError>(())
            })?;
            Cmd::Setup {
                ifname: peer.clone(),
                net: Ipv4Net::new(req.probe.src, if inside { host.prefix_len() } else { 32 })
                    .map_err(bad_net)?,
                gateway: host.addr(),
                mac: None,
            }
        }
    };
    ns.call(setup)?;
    // Under spanning tree a new port listens, then learns, for a forward delay each before
    // it forwards anything (the kernel's STP takes at least 2 s for each).
    if let Attach::Bridge { .. } = req.attach {
        let attrs = rt
            .block_on(nl.link_by_name(&req.probe.bridge))?
            .and_then(|l| l.bridge);
        if let Some(b) = attrs.filter(|b| b.stp) {
            let delay = Duration::from_millis(u64::from(b.forward_delay_cs.max(200)) * 10);
            let until = Instant::now() + delay * 2 + Duration::from_millis(200);
            while Instant::now() < until {
                if super::apply::interrupted() {
                    return Err(interrupted_error());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    let mut monitor = Monitor::start()?;
    monitor.wait_subscribed()?;
    let _chains = TraceChains::add(&req.probe)?;
    let doc = ruleset_doc()?;
    let ruleset = Ruleset::from_value(&doc);

    if req.hold_before_send {
        eprintln!("why: paused with the probe port and the trace rule in place");
        while !super::apply::interrupted() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    if super::apply::interrupted() {
        return Err(interrupted_error());
    }
    ns.call(Cmd::Send(req.probe.clone()))?;
    let lines = monitor.collect(&ruleset, req.timeout)?;

    let sysctl = |path: &str| std::fs::read_to_string(path).is_ok_and(|v| v.trim() == "1");
    Ok(TraceCapture {
        ruleset_json: doc.to_string(),
        lines,
        legacy: legacy(),
        br_netfilter: sysctl("/proc/sys/net/bridge/bridge-nf-call-iptables"),
        ip_forward: sysctl("/proc/sys/net/ipv4/ip_forward"),
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, HostError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| HostError::from_io("start a runtime for the trace", &e))
}

fn nft_error(op: &str, message: String) -> HostError {
    HostError::Other {
        op: op.into(),
        errno: None,
        message,
    }
}

/// The iptables-legacy tables of this namespace, and their rules when the program is there.
pub fn legacy() -> Legacy {
    let tables: Vec<String> = std::fs::read_to_string("/proc/net/ip_tables_names")
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let save = if tables.is_empty() {
        None
    } else {
        super::find_program("iptables-legacy-save").and_then(|p| {
            Command::new(p)
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        })
    };
    Legacy { tables, save }
}

/// The whole ruleset (`nft -j list ruleset`), as JSON.
fn ruleset_doc() -> Result<Value, HostError> {
    super::nft::ruleset().map_err(|e| nft_error("list the ruleset", e.to_string()))
}

fn load_json(doc: &Value) -> Result<(), String> {
    super::nft::load_json(doc).map_err(|e| e.to_string())
}

/// The tracer's chains, deleted on drop.
struct TraceChains;

impl TraceChains {
    fn add(probe: &Probe) -> Result<TraceChains, HostError> {
        load_json(&why::trace_doc(probe)).map_err(|e| nft_error("add the trace rule", e))?;
        Ok(TraceChains)
    }
}

impl Drop for TraceChains {
    fn drop(&mut self) {
        if let Err(e) = load_json(&why::untrace_all_doc()) {
            eprintln!("warning: removing the trace chains from inet switchyard failed: {e}");
        }
    }
}

/// The probe port's host end, deleted on drop (its peer goes with it).
struct VethGuard(String);

impl Drop for VethGuard {
    fn drop(&mut self) {
        let gone = runtime().and_then(|rt| {
            rt.block_on(async { Netlink::connect().await?.delete_link(&self.0).await })
        });
        if let Err(e) = gone {
            // Already gone with its namespace is fine.
            if !matches!(e, HostError::NoSuchDevice { .. }) {
                eprintln!("warning: removing probe port {} failed: {e}", self.0);
            }
        }
    }
}

/// The host's neighbour entry for the probe's address on the bridge, deleted on drop (after
/// the port: it is declared before it).
struct NeighbourGuard {
    ifindex: u32,
    ip: Ipv4Addr,
}

impl Drop for NeighbourGuard {
    fn drop(&mut self) {
        use rtnetlink::packet_route::neighbour::{
            NeighbourAddress, NeighbourAttribute, NeighbourMessage,
        };
        use rtnetlink::packet_route::AddressFamily;
        let (ifindex, ip) = (self.ifindex, self.ip);
        let gone = runtime().and_then(|rt| {
            rt.block_on(async move {
                let (conn, handle, _) = rtnetlink::new_connection()
                    .map_err(|e| HostError::from_io("open rtnetlink", &e))?;
                tokio::spawn(conn);
                let mut msg = NeighbourMessage::default();
                msg.header.family = AddressFamily::Inet;
                msg.header.ifindex = ifindex;
                msg.attributes
                    .push(NeighbourAttribute::Destination(NeighbourAddress::Inet(ip)));
                handle
                    .neighbours()
                    .del(msg)
                    .execute()
                    .await
                    .map_err(|e| HostError::from_netlink(format!("forget neighbour {ip}"), e))
            })
        });
        // No entry (the host never needed one) is fine.
        if let Err(e) = gone {
            if e.errno() != Some(libc::ENOENT) {
                eprintln!("warning: {e}");
            }
        }
    }
}

/// `nft -a monitor` as a child, its lines read by a thread; ended (by its pid) on drop.
struct Monitor {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Monitor {
    fn start() -> Result<Monitor, HostError> {
        let mut child = Command::new("nft")
            .args(["-a", "monitor"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| HostError::from_io("run nft -a monitor", &e))?;
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("why-monitor".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| HostError::from_io("start the monitor reader", &e))?;
        Ok(Monitor { child, lines: rx })
    }

    /// Waits until the monitor sees ruleset events (so it sees the trace too): a chain added
    /// and deleted in one transaction, again every 100 ms, until its event comes.
    fn wait_subscribed(&mut self) -> Result<(), HostError> {
        let sync = serde_json::json!({"nftables": [
            {"add": {"chain": {"family": OUR_FAMILY, "table": OUR_TABLE, "name": "why_sync"}}},
            {"delete": {"chain": {"family": OUR_FAMILY, "table": OUR_TABLE, "name": "why_sync"}}},
        ]});
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if super::apply::interrupted() {
                return Err(interrupted_error());
            }
            load_json(&sync).map_err(|e| nft_error("reach the monitor", e))?;
            let until = Instant::now() + Duration::from_millis(100);
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                match self.lines.recv_timeout(left) {
                    Ok(line) if line.contains("why_sync") => return Ok(()),
                    Ok(_) => {}
                    Err(mpsc::RecvTimeoutError::Timeout) => break,
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        return Err(nft_error("nft monitor", "it ended early".into()))
                    }
                }
            }
        }
        Err(nft_error(
            "nft monitor",
            "it showed no events within 5 s".into(),
        ))
    }

    /// The trace lines until the probe's packet is decided (it passed our last chains, or a
    /// chain dropped it) and 50 ms more, or until `timeout`.
    fn collect(&mut self, ruleset: &Ruleset, timeout: Duration) -> Result<Vec<String>, HostError> {
        let mut out = Vec::new();
        let start = Instant::now();
        let mut until = start + timeout;
        let mut decided = false;
        loop {
            if super::apply::interrupted() {
                return Err(interrupted_error());
            }
            let now = Instant::now();
            let Some(left) = until.checked_duration_since(now) else {
                break;
            };
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                Ok(line) if line.starts_with("trace id ") => {
                    if !decided {
                        if let Some(e) = why::parse_trace_line(&line, ruleset) {
                            let ours = e.family == OUR_FAMILY && e.table == OUR_TABLE;
                            let end = ours && (e.chain == POST_CHAIN || e.chain == DONE_CHAIN);
                            let dropped = matches!(&e.kind,
                                why::EventKind::Rule { verdict, .. } if verdict == "drop")
                                || matches!(&e.kind, why::EventKind::Policy(p) if p == "drop");
                            if (end || dropped) && e.chain != MARK_CHAIN {
                                decided = true;
                                until = Instant::now() + Duration::from_millis(50);
                            }
                        }
                    }
                    out.push(line);
                }
                Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        Ok(out)
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the probe namespace's thread is asked to do.
enum Cmd {
    Setup {
        ifname: String,
        net: Ipv4Net,
        gateway: Ipv4Addr,
        mac: Option<[u8; 6]>,
    },
    Send(Probe),
}

/// A request to the probe thread, with where its answer goes.
type Request = (Cmd, mpsc::Sender<Result<(), HostError>>);

/// An anonymous network namespace held by a thread of ours; it (and the probe port's far end
/// in it) goes when the thread ends, which dropping this makes it do.
struct ProbeNs {
    fd: File,
    tx: Option<mpsc::Sender<Request>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProbeNs {
    fn start() -> Result<ProbeNs, HostError> {
        let (tx, rx) = mpsc::channel::<Request>();
        let (fd_tx, fd_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("why-probe".into())
            .spawn(move || {
                let entered = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(|e| HostError::from_errno("create the probe namespace", e as i32))
                    .and_then(|()| {
                        File::open("/proc/thread-self/ns/net")
                            .map_err(|e| HostError::from_io("open the probe namespace", &e))
                    });
                let ok = entered.is_ok();
                let _ = fd_tx.send(entered);
                if !ok {
                    return;
                }
                while let Ok((cmd, reply)) = rx.recv() {
                    if let Cmd::Send(probe) = &cmd {
                        if probe.proto == WhyProto::Tcp {
                            // The SYN leaves at once; waiting for the connection to end
                            // would only delay the reading of its trace.
                            let _ = reply.send(Ok(()));
                            let _ = send(probe);
                            continue;
                        }
                    }
                    let _ = reply.send(match cmd {
                        Cmd::Setup {
                            ifname,
                            net,
                            gateway,
                            mac,
                        } => setup(&ifname, net, gateway, mac),
                        Cmd::Send(probe) => send(&probe),
                    });
                }
            })
            .map_err(|e| HostError::from_io("start the probe thread", &e))?;
        let fd = fd_rx.recv().map_err(|_| HostError::Invalid {
            op: "probe namespace".into(),
            reason: "its thread ended".into(),
        })??;
        Ok(ProbeNs {
            fd,
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    fn call(&self, cmd: Cmd) -> Result<(), HostError> {
        let (reply_tx, reply_rx) = mpsc::channel();
        let gone = || HostError::Invalid {
            op: "probe namespace".into(),
            reason: "its thread ended".into(),
        };
        self.tx
            .as_ref()
            .ok_or_else(gone)?
            .send((cmd, reply_tx))
            .map_err(|_| gone())?;
        reply_rx.recv().map_err(|_| gone())?
    }
}

impl Drop for ProbeNs {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// In the probe namespace: the port's address (and MAC), up, and a default route via the
/// network's gateway.
fn setup(
    ifname: &str,
    net: Ipv4Net,
    gateway: Ipv4Addr,
    mac: Option<[u8; 6]>,
) -> Result<(), HostError> {
    let rt = runtime()?;
    rt.block_on(async {
        let nl = Netlink::connect().await?;
        nl.set_up("lo").await?;
        if let Some(mac) = mac {
            nl.set_address(ifname, mac).await?;
        }
        nl.add_addr(ifname, IpNet::V4(net)).await?;
        nl.set_up(ifname).await?;
        if !net.contains(&gateway) {
            // A /32 probe address: the gateway is reached on the link itself.
            let to = Ipv4Net::new(gateway, 32).map_err(|e| HostError::Invalid {
                op: "probe route".into(),
                reason: e.to_string(),
            })?;
            nl.add_route(IpNet::V4(to), None, Some(ifname)).await?;
        }
        nl.add_route(
            IpNet::V4(Ipv4Net::default()),
            Some(gateway.into()),
            Some(ifname),
        )
        .await
    })
}

/// In the probe namespace: one packet of the probe's flow.
fn send(probe: &Probe) -> Result<(), HostError> {
    let dst = SocketAddrV4::new(probe.dst, probe.port());
    match probe.proto {
        WhyProto::Udp => {
            let sock = UdpSocket::bind(SocketAddrV4::new(probe.src, 0))
                .map_err(|e| HostError::from_io("bind the probe's UDP socket", &e))?;
            sock.send_to(b"switchyard why", dst)
                .map_err(|e| HostError::from_io(format!("send the probe to {dst}"), &e))?;
        }
        WhyProto::Tcp => {
            // The SYN is what is traced; its answer (or none) does not matter here.
            let _ = TcpStream::connect_timeout(&dst.into(), Duration::from_millis(300));
        }
        WhyProto::Icmp => icmp_echo(probe.dst)?,
    }
    Ok(())
}

/// One ICMP echo request to `dst` on a raw socket.
fn icmp_echo(dst: Ipv4Addr) -> Result<(), HostError> {
    // SAFETY: plain socket calls on a descriptor this function owns and closes.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP);
        if fd < 0 {
            return Err(HostError::from_io(
                "open a raw ICMP socket",
                &std::io::Error::last_os_error(),
            ));
        }
        let mut packet = [8u8, 0, 0, 0, 0x53, 0x59, 0, 1, b'w', b'h', b'y', 0];
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from(dst).to_be(),
            },
            sin_zero: [0; 8],
        };
        let sent = libc::sendto(
            fd,
            packet.as_ptr().cast(),
            packet.len(),
            0,
            (&addr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        let err = std::io::Error::last_os_error();
        libc::close(fd);
        if sent < 0 {
            return Err(HostError::from_io(
                format!("send an echo request to {dst}"),
                &err,
            ));
        }
    }
    Ok(())
}

/// The Internet checksum.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_checksum_verifies() {
        let mut packet = [8u8, 0, 0, 0, 0x53, 0x59, 0, 1, b'w', b'h', b'y', 0];
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(checksum(&packet), 0);
    }
}
