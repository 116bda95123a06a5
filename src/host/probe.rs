//! `forward test`'s probes on the real kernel: one TCP SYN or UDP datagram to a host address,
//! sent from the host itself, or from a throwaway namespace joined to the host by a probe
//! veth (outside), or by a port on a network's bridge (hairpin).
//!
//! Everything a probe sets up is held by a guard whose `Drop` removes it, on success, error
//! and panic alike: the namespace ([`NetnsGuard`]), the veth pair (deleted from the host's
//! side at once, which takes its peer along, so nothing waits for the kernel's asynchronous
//! namespace cleanup), and the neighbour entry the host learns for a hairpin probe's address.
//! A probe only ever sends to an address of the host itself.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use ipnet::{IpNet, Ipv4Net};

use super::error::HostError;
use super::netlink::{delete_link_now, neigh, Netlink};
use super::netns::NetnsGuard;
use crate::model::forward::Proto;

/// Where a probe is sent from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeFrom {
    /// A throwaway namespace joined to the host by a probe veth on `link`, a /30: the host's
    /// end takes its first address, the namespace's end the second.
    Outside { link: Ipv4Net },
    /// The host itself (the namespace the host was opened in).
    Host,
    /// A throwaway namespace with a port on `bridge`, holding `addr` (with the network's
    /// prefix), its route to the probed address via `gateway`.
    Bridge {
        bridge: String,
        addr: Ipv4Net,
        gateway: Ipv4Addr,
    },
}

/// One probe: a TCP SYN or a UDP datagram from `from` to `to`, waiting `timeout` for an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub from: ProbeFrom,
    pub proto: Proto,
    pub to: SocketAddrV4,
    pub timeout: Duration,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// TCP: the connection was accepted.
    SynAck,
    /// TCP: the connection was refused.
    Rst,
    /// UDP: a datagram came back.
    Datagram,
    /// An ICMP error was reported on the socket ("port unreachable", …).
    Icmp(String),
    /// The kernel refused to send it (a firewall of this host dropping it on the way out,
    /// no route), in its words.
    NotSent(String),
    /// Nothing within the timeout.
    Nothing,
}

/// What a probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSeen {
    pub reply: Reply,
    /// The probe socket's own address, as the kernel chose it.
    pub source: Option<SocketAddrV4>,
    /// The host end of the probe's link (veth or bridge port), for messages.
    pub link: Option<String>,
    /// How long the path took to set up (a bridge port under STP waits to forward).
    pub setup: Duration,
}

/// The payload of a UDP probe.
pub const UDP_PAYLOAD: &[u8] = b"switchyard forward test\n";
/// How long a bridge port may take to reach the forwarding state (STP: listening and
/// learning take the bridge's forward delay each, at least 2 s with STP on).
const PORT_FORWARDING_WAIT: Duration = Duration::from_secs(6);
/// How long a veth may take to get its carrier.
const CARRIER_WAIT: Duration = Duration::from_secs(2);

/// Runs `probe` on a thread of its own (sockets block up to the timeout; guards clean up
/// synchronously), in the namespace of the calling thread.
pub async fn run(probe: Probe) -> Result<ProbeSeen, HostError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("forward-probe".into())
        .spawn(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| blocking(&probe)));
            let _ = tx.send(out);
        })
        .map_err(|e| HostError::from_io("start the probe thread", &e))?;
    match rx.await {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => Err(HostError::invalid(
            "probe",
            "the probe thread ended without a word",
        )),
    }
}

/// The probe, on the current thread.
pub fn blocking(probe: &Probe) -> Result<ProbeSeen, HostError> {
    match &probe.from {
        ProbeFrom::Host => {
            let (reply, source) = send(probe.proto, probe.to, probe.timeout);
            Ok(ProbeSeen {
                reply,
                source,
                link: None,
                setup: Duration::ZERO,
            })
        }
        ProbeFrom::Outside { link } => outside(probe, *link),
        ProbeFrom::Bridge {
            bridge,
            addr,
            gateway,
        } => hairpin(probe, bridge, *addr, *gateway),
    }
}

/// A link of the host namespace, deleted when dropped (a veth with its peer).
struct LinkGuard {
    ifindex: u32,
}

impl Drop for LinkGuard {
    fn drop(&mut self) {
        let _ = delete_link_now(self.ifindex);
    }
}

/// The neighbour entry the host learns for a probe's address, deleted when dropped.
struct NeighbourGuard {
    ifindex: u32,
    ip: Ipv4Addr,
}

impl Drop for NeighbourGuard {
    fn drop(&mut self) {
        let _ = neigh::delete_ipv4_now(self.ifindex, self.ip);
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, HostError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| HostError::from_io("start the probe's runtime", &e))
}

/// Two fresh interface names, `syp<hex>h` (host end) and `syp<hex>n` (namespace end).
fn link_names() -> (String, String) {
    let tag = super::random_u64() & 0xff_ffff_ffff;
    (format!("syp{tag:010x}h"), format!("syp{tag:010x}n"))
}

/// Turns IPv6 off on a probe link (no link-local address, no router solicitations, no
/// duplicate address detection on the network's bridge). Best effort: without IPv6 there is
/// nothing to turn off.
fn quiet_ipv6(dev: &str) {
    let _ = super::sysctl::write_sysctl(&format!("net.ipv6.conf.{dev}.disable_ipv6"), "1");
}

/// A veth pair made in the host namespace, its peer moved into `ns`: the guard of the host end.
async fn veth_into(
    nl: &Netlink,
    ns: &NetnsGuard,
    host_end: &str,
    ns_end: &str,
) -> Result<LinkGuard, HostError> {
    nl.create_veth(host_end, ns_end).await?;
    let guard = LinkGuard {
        ifindex: match nl.link_index(host_end).await {
            Ok(i) => i,
            Err(e) => {
                let _ = nl.delete_link(host_end).await;
                return Err(e);
            }
        },
    };
    quiet_ipv6(host_end);
    nl.move_to_netns(ns_end, &ns.open()?).await?;
    Ok(guard)
}

/// Inside the probe namespace: `lo` and `dev` up with `addr`, a route to the probed address
/// via `via`, the carrier of both ends awaited (and, for a bridge port, the host end
/// forwarding); then the probe, and how long the setup took.
fn inside(
    ns: &NetnsGuard,
    dev: &str,
    addr: Ipv4Net,
    via: Ipv4Addr,
    probe: &Probe,
    host_end: &str,
    bridge_port: bool,
) -> Result<(Reply, Option<SocketAddrV4>, Duration), HostError> {
    let dev = dev.to_owned();
    let probe = probe.clone();
    let host_end = host_end.to_owned();
    ns.block_on(move || async move {
        let nl = Netlink::connect().await?;
        nl.set_up("lo").await?;
        quiet_ipv6(&dev);
        nl.add_addr(&dev, IpNet::V4(addr)).await?;
        nl.set_up(&dev).await?;
        let dest = IpNet::V4(Ipv4Net::new(*probe.to.ip(), 32).unwrap_or_default());
        nl.add_route(dest, Some(via.into()), Some(&dev)).await?;
        let start = Instant::now();
        while start.elapsed() < CARRIER_WAIT {
            let up = nl.link_by_name(&dev).await?;
            if up.is_some_and(|l| l.oper_state == "up") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // sysfs shows the namespace it was mounted for (the host's), whatever this thread's:
        // the host end must be up too (else its answers to ARP are dropped, and the probe
        // would wait for a retry it has no time for), and a bridge port forwarding.
        wait_host_end(&host_end);
        if bridge_port {
            wait_forwarding(&host_end);
        }
        let setup = start.elapsed();
        let (reply, source) = send(probe.proto, probe.to, probe.timeout);
        Ok((reply, source, setup))
    })?
}

fn outside(probe: &Probe, link: Ipv4Net) -> Result<ProbeSeen, HostError> {
    let start = Instant::now();
    let mut hosts = link.hosts();
    let (Some(host_addr), Some(ns_addr)) = (hosts.next(), hosts.next()) else {
        return Err(HostError::invalid(
            "probe from outside",
            format!("{link} has no room for two addresses"),
        ));
    };
    let rt = runtime()?;
    let ns = NetnsGuard::create("probe")?;
    let (host_end, ns_end) = link_names();
    let nl = rt.block_on(Netlink::connect())?;
    let _veth = rt.block_on(async {
        let guard = veth_into(&nl, &ns, &host_end, &ns_end).await?;
        let net = Ipv4Net::new(host_addr, link.prefix_len()).unwrap_or(link);
        nl.add_addr(&host_end, IpNet::V4(net)).await?;
        nl.set_up(&host_end).await?;
        Ok::<_, HostError>(guard)
    })?;
    let net = Ipv4Net::new(ns_addr, link.prefix_len()).unwrap_or(link);
    let before = start.elapsed();
    let (reply, source, inside_setup) =
        inside(&ns, &ns_end, net, host_addr, probe, &host_end, false)?;
    Ok(ProbeSeen {
        reply,
        source,
        link: Some(host_end),
        setup: before + inside_setup,
    })
}

fn hairpin(
    probe: &Probe,
    bridge: &str,
    addr: Ipv4Net,
    gateway: Ipv4Addr,
) -> Result<ProbeSeen, HostError> {
    let rt = runtime()?;
    let nl = rt.block_on(Netlink::connect())?;
    let bridge_index = rt.block_on(nl.link_index(bridge))?;
    let ns = NetnsGuard::create("probe")?;
    let (host_end, ns_end) = link_names();
    // Dropped after the port: the entry the host learns for the probe's address.
    let _neighbour = NeighbourGuard {
        ifindex: bridge_index,
        ip: addr.addr(),
    };
    let _veth = rt.block_on(async {
        let guard = veth_into(&nl, &ns, &host_end, &ns_end).await?;
        // A MAC starting fe, as libvirt gives taps: a bridge whose own MAC was never set
        // takes its ports' lowest, and the probe port must not change the guests' gateway.
        let r = super::random_u64().to_be_bytes();
        nl.set_address(&host_end, [0xfe, r[0], r[1], r[2], r[3], r[4]])
            .await?;
        nl.set_master(&host_end, bridge).await?;
        nl.set_up(&host_end).await?;
        Ok::<_, HostError>(guard)
    })?;
    let (reply, source, waited) = inside(&ns, &ns_end, addr, gateway, probe, &host_end, true)?;
    Ok(ProbeSeen {
        reply,
        source,
        link: Some(host_end),
        setup: waited,
    })
}

/// Waits (up to [`CARRIER_WAIT`]) until the host's end of a probe link is operationally up.
fn wait_host_end(dev: &str) {
    let path = format!("/sys/class/net/{dev}/operstate");
    let start = Instant::now();
    while start.elapsed() < CARRIER_WAIT {
        match std::fs::read_to_string(&path) {
            Ok(s) if s.trim() == "up" => return,
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => return,
        }
    }
}

/// Waits (up to [`PORT_FORWARDING_WAIT`]) until bridge port `port` forwards: at once without
/// STP; after the bridge's forward delay twice with it.
fn wait_forwarding(port: &str) {
    let path = format!("/sys/class/net/{port}/brport/state");
    let start = Instant::now();
    while start.elapsed() < PORT_FORWARDING_WAIT {
        match std::fs::read_to_string(&path) {
            // 3: BR_STATE_FORWARDING.
            Ok(s) if s.trim() == "3" => return,
            Ok(_) => std::thread::sleep(Duration::from_millis(20)),
            // No sysfs view of this namespace: nothing to wait on.
            Err(_) => return,
        }
    }
}

/// Sends the probe and waits for its answer.
pub fn send(proto: Proto, to: SocketAddrV4, timeout: Duration) -> (Reply, Option<SocketAddrV4>) {
    match proto {
        Proto::Tcp => tcp(to, timeout),
        Proto::Udp => udp(to, timeout),
    }
}

fn local(addr: io::Result<std::net::SocketAddr>) -> Option<SocketAddrV4> {
    match addr.ok()? {
        std::net::SocketAddr::V4(a) => Some(a),
        std::net::SocketAddr::V6(_) => None,
    }
}

fn tcp(to: SocketAddrV4, timeout: Duration) -> (Reply, Option<SocketAddrV4>) {
    match TcpStream::connect_timeout(&to.into(), timeout) {
        Ok(stream) => {
            let source = local(stream.local_addr());
            abort(&stream);
            (Reply::SynAck, source)
        }
        Err(e) => (tcp_error(&e), None),
    }
}

/// Closes with a RST rather than a FIN (`SO_LINGER` 0): the guest's service sees the
/// connection end at once, with no data.
fn abort(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the fd is the open socket `stream` owns; the option points to a linger that
    // lives for the call, with its exact size.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

fn tcp_error(e: &io::Error) -> Reply {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => Reply::Rst,
        Some(libc::ETIMEDOUT) | Some(libc::EAGAIN) | Some(libc::EINPROGRESS) => Reply::Nothing,
        _ if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::WouldBlock => {
            Reply::Nothing
        }
        Some(libc::EHOSTUNREACH) => Reply::Icmp("host unreachable".into()),
        Some(libc::ENETUNREACH) => Reply::Icmp("network unreachable".into()),
        _ => Reply::NotSent(e.to_string()),
    }
}

fn udp(to: SocketAddrV4, timeout: Duration) -> (Reply, Option<SocketAddrV4>) {
    let sock = match UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)) {
        Ok(s) => s,
        Err(e) => return (Reply::NotSent(e.to_string()), None),
    };
    // Connected: the kernel reports ICMP errors for it on the socket.
    if let Err(e) = sock.connect(to) {
        return (Reply::NotSent(e.to_string()), None);
    }
    let source = local(sock.local_addr());
    if let Err(e) = sock.send(UDP_PAYLOAD) {
        return (udp_error(&e), source);
    }
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || sock.set_read_timeout(Some(left)).is_err() {
            return (Reply::Nothing, source);
        }
        match sock.recv(&mut buf) {
            Ok(_) => return (Reply::Datagram, source),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return (udp_error(&e), source),
        }
    }
}

fn udp_error(e: &io::Error) -> Reply {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => Reply::Icmp("port unreachable".into()),
        Some(libc::EHOSTUNREACH) => Reply::Icmp("host unreachable".into()),
        Some(libc::ENETUNREACH) => Reply::Icmp("network unreachable".into()),
        Some(libc::EAGAIN) | Some(libc::ETIMEDOUT) => Reply::Nothing,
        _ if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::WouldBlock => {
            Reply::Nothing
        }
        _ => Reply::NotSent(e.to_string()),
    }
}
