//! `switchyard ports` and `watch`, the real binary in a namespace world: a NAT network with a
//! veth guest that took a DHCP lease and a tap held by a stand-in for QEMU (this test binary
//! re-executed with `-name guest=vm1` in its argv), traffic at known rates between them.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, UdpSocket};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use support::traffic::{
    arp_request, mac_of, open_tap, paced, parse_mac, udp_frame, UDP_FRAME_OVERHEAD,
};
use support::world::{dhcp, World};
use support::Guest;

const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
/// The stand-in VM's address: outside the DHCP range, known to the host only by ARP.
const VM_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 20);
const VM_MAC: &str = "52:54:00:12:34:56";
const TAP: &str = "vmtap0";

/// Guest → gateway: 250 datagrams/s of 1000 bytes.
const A_PPS: u32 = 250;
const A_PAYLOAD: usize = 1000;
/// VM (through the tap) → guest: 100 frames/s carrying 400 bytes.
const B_PPS: u32 = 100;
const B_PAYLOAD: usize = 400;
const STREAM: Duration = Duration::from_secs(3);

/// Environment of the stand-in process.
const ENV_NETNS: &str = "SY_TEST_TAP_NETNS";
const ENV_DST: &str = "SY_TEST_TAP_DST"; // "MAC IP" of the guest it sends to

/// Not a test: the stand-in for QEMU that `ports_name_guests_and_measure_rates` starts. It
/// opens the tap in the given namespace, says "ready", and on "go" sends one ARP request to
/// the gateway and then the B stream to the guest; it keeps the tap open until stdin closes.
#[test]
#[ignore = "helper process started by ports_name_guests_and_measure_rates"]
fn qemu_stand_in() {
    let (Ok(netns), Ok(dst)) = (std::env::var(ENV_NETNS), std::env::var(ENV_DST)) else {
        return;
    };
    let (dst_mac, dst_ip) = dst.split_once(' ').expect("MAC IP");
    let dst = (parse_mac(dst_mac), dst_ip.parse::<Ipv4Addr>().expect("ip"));
    let ns = std::fs::File::open(&netns).expect("open netns");
    nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).expect("enter netns");
    let mut tap = open_tap(TAP);
    let mut stdout = std::io::stdout();
    writeln!(stdout, "ready")
        .and_then(|()| stdout.flush())
        .expect("stdout");
    let mut lines = std::io::stdin().lock().lines();
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("go"));
    let me = (parse_mac(VM_MAC), VM_IP);
    tap.write_all(&arp_request(me.0, VM_IP, GATEWAY))
        .expect("write ARP");
    let frame = udp_frame(me, dst, 7001, B_PAYLOAD);
    paced(B_PPS, STREAM, || {
        tap.write_all(&frame).expect("write frame");
    });
    for _ in lines {}
}

/// The stand-in process, killed on drop.
struct StandIn {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl StandIn {
    fn start(netns: &str, dst: &str) -> StandIn {
        let exe = std::env::current_exe().expect("test binary");
        let mut child = Command::new(exe)
            .args(["--ignored", "--exact", "qemu_stand_in", "--nocapture"])
            .args(["--", "-name", "guest=vm1,debug-threads=on"])
            .env(ENV_NETNS, format!("/run/netns/{netns}"))
            .env(ENV_DST, dst)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the stand-in");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped");
        let stand_in = StandIn { child, stdin };
        let ready = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|l| l == "ready");
        assert!(ready, "the stand-in did not open its tap");
        stand_in
    }

    fn go(&mut self) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "go").expect("tell the stand-in to send");
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Stops the network on drop, so dnsmasq does not outlive a failed test.
struct Network<'a> {
    world: &'a World,
    name: &'a str,
}

impl Drop for Network<'_> {
    fn drop(&mut self) {
        let _ = self.world.sy(&["stop", self.name]);
    }
}

fn start_network<'a>(world: &'a World, name: &'a str) -> Network<'a> {
    world.sy_ok(&[
        "create",
        "--name",
        name,
        "--mode",
        "nat",
        "--ipv4",
        "10.77.0.1/24",
        "--dhcp",
        "10.77.0.100-10.77.0.150",
        "--start",
    ]);
    Network { world, name }
}

/// Receives UDP on `addr` in the calling thread's namespace until the stream is over.
fn sink(addr: (Ipv4Addr, u16), ready: mpsc::Sender<()>) {
    let sock = UdpSocket::bind(addr).expect("bind sink");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    ready.send(()).expect("signal");
    let deadline = std::time::Instant::now() + STREAM + Duration::from_secs(2);
    let mut buf = [0u8; 2048];
    while std::time::Instant::now() < deadline {
        let _ = sock.recv_from(&mut buf);
    }
}

fn port<'a>(ports: &'a Value, name: &str) -> &'a Value {
    ports
        .as_array()
        .and_then(|a| a.iter().find(|p| p["ifname"] == name))
        .unwrap_or_else(|| panic!("{name} not in {ports:#}"))
}

fn assert_close(p: &Value, key: &str, want: f64) {
    let got = p[key].as_f64().unwrap_or_else(|| panic!("{key} in {p:#}"));
    let err = (got - want).abs() / want;
    assert!(
        err <= 0.10,
        "{} {key}: {got:.0}, sent {want:.0} ({:.1} % off)",
        p["ifname"],
        err * 100.0
    );
}

#[test]
fn ports_name_guests_and_measure_rates() {
    let Some(world) = World::new("pcli") else {
        return;
    };
    if !support::require_tool("busybox") {
        return;
    }
    let _net = start_network(&world, "lab");
    let bridge = world.bridge_of("lab");
    let guest = Guest::attach(&world.host, &bridge, "pcg1");
    let leased: Ipv4Addr = dhcp(&guest, "pcg1").expect("lease").parse().expect("ip");
    let guest_mac = mac_of(guest.netns().name(), "eth0");
    let guest_mac_text = switchyard::model::MacAddr(guest_mac).to_string();
    let mut vm = StandIn::start(world.host.name(), &format!("{guest_mac_text} {leased}"));
    world
        .host
        .ip(&["link", "set", TAP, "master", &bridge, "up"]);

    let out = std::thread::scope(|s| {
        let (ready_tx, ready) = mpsc::channel();
        let tx = ready_tx.clone();
        s.spawn(|| {
            world
                .host
                .run(move || sink((GATEWAY, 7000), tx))
                .expect("host ns")
        });
        s.spawn(|| {
            guest
                .netns()
                .run(move || sink((leased, 7001), ready_tx))
                .expect("guest ns")
        });
        ready
            .recv()
            .and_then(|()| ready.recv())
            .expect("sinks ready");
        vm.go();
        s.spawn(|| {
            guest.netns().run(|| {
                let sock = UdpSocket::bind("0.0.0.0:0").expect("bind");
                let datagram = vec![0u8; A_PAYLOAD];
                paced(A_PPS, STREAM, || {
                    let _ = sock.send_to(&datagram, (GATEWAY, 7000));
                });
            })
        });
        std::thread::sleep(Duration::from_millis(400));
        world.sy(&["ports", "--json", "--sample-ms", "1000"])
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ports: Value = serde_json::from_slice(&out.stdout).expect("json");

    let ve = port(&ports, guest.host_end());
    assert_eq!(
        ve["guest"],
        guest.netns().name(),
        "veth guest named by its namespace"
    );
    assert_eq!(ve["network"], "lab");
    assert_eq!(ve["bridge"], bridge.as_str());
    assert_eq!(ve["kind"], "veth");
    assert_eq!(ve["ip"], leased.to_string(), "leased address");
    assert_eq!(ve["ip_source"], "lease");
    assert_eq!(ve["guest_mac"], guest_mac_text.as_str());
    let a_frame = (A_PAYLOAD + UDP_FRAME_OVERHEAD) as f64;
    let b_frame = (B_PAYLOAD + UDP_FRAME_OVERHEAD) as f64;
    assert_close(ve, "rx_bps", f64::from(A_PPS) * a_frame * 8.0);
    assert_close(ve, "rx_pps", f64::from(A_PPS));
    assert_close(ve, "tx_bps", f64::from(B_PPS) * b_frame * 8.0);
    assert_close(ve, "tx_pps", f64::from(B_PPS));

    let tap = port(&ports, TAP);
    assert_eq!(tap["guest"], "vm1", "QEMU's -name guest=");
    assert_eq!(tap["kind"], "tap");
    assert_eq!(tap["network"], "lab");
    assert_eq!(
        tap["ip"],
        VM_IP.to_string(),
        "from the bridge's neighbour table"
    );
    assert_eq!(tap["ip_source"], "neighbour");
    assert_eq!(tap["guest_mac"], VM_MAC);
    assert_close(tap, "rx_bps", f64::from(B_PPS) * b_frame * 8.0);
    assert_close(tap, "rx_pps", f64::from(B_PPS));
    for key in [
        "rx_bytes",
        "tx_bytes",
        "rx_packets",
        "tx_packets",
        "rx_dropped",
        "tx_dropped",
        "rx_errors",
        "tx_errors",
        "mac",
        "ifindex",
    ] {
        assert!(!tap[key].is_null(), "{key} in {tap:#}");
    }
}

#[test]
fn watch_streams_one_line_per_interval() {
    let Some(world) = World::new("pwatch") else {
        return;
    };
    let _net = start_network(&world, "lab");
    let bridge = world.bridge_of("lab");
    let guest = Guest::attach(&world.host, &bridge, "pwg1");

    let out = world.sy_ok(&["watch", "--json", "--interval-ms", "200", "--count", "3"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for line in lines {
        let v: Value = serde_json::from_str(line).expect("one JSON object per line");
        let ms = v["interval_ms"].as_f64().expect("interval");
        assert!((150.0..600.0).contains(&ms), "{ms}");
        assert!(v["time"].as_str().is_some_and(|t| t.ends_with('Z')));
        let p = port(&v["ports"], guest.host_end());
        assert!(
            p["rx_bps"].as_f64().is_some(),
            "a rate on every line: {p:#}"
        );
    }

    let out = world.sy_ok(&["watch", "lab", "--interval-ms", "100", "--count", "2"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "a header, then one port, two intervals: {out}"
    );
    assert!(lines[0].starts_with("TIME "), "{out}");
    let lines = &lines[1..];
    for line in lines {
        assert!(
            line.starts_with("20") && line.contains("Z  lab  "),
            "{line}"
        );
        assert!(
            line.contains(guest.host_end()) && line.contains("bit/s"),
            "{line}"
        );
    }

    let text = world.sy_ok(&["ports", "lab"]);
    assert!(text.starts_with("NETWORK"), "{text}");
    assert!(text.contains(guest.host_end()), "{text}");
    let missing = world.sy(&["ports", "nosuch"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nosuch"));
}

/// `watch` reads only the bridges, their ports and the macvtaps: a port plugged in while it
/// runs still appears (a link event, then the port-only dump), and one unplugged goes.
#[test]
fn watch_follows_ports_plugged_in_and_out_while_it_runs() {
    let Some(world) = World::new("pwplug") else {
        return;
    };
    let _net = start_network(&world, "lab");
    let bridge = world.bridge_of("lab");
    let first = Guest::attach(&world.host, &bridge, "pwp1");
    let mut child = world
        .sy_command(&["watch", "--json", "--interval-ms", "150", "--count", "40"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start watch");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = || -> Value {
        let line = lines.next().expect("a line per interval").expect("read");
        serde_json::from_str(&line).expect("one JSON object per line")
    };
    let names = |v: &Value| -> Vec<String> {
        v["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .filter_map(|p| p["ifname"].as_str().map(str::to_owned))
            .collect()
    };
    let has = |v: &Value, name: &str| names(v).iter().any(|n| n == name);
    let before = next();
    assert!(has(&before, first.host_end()), "{before:#}");
    let second = Guest::attach(&world.host, &bridge, "pwp2");
    let mut seen = false;
    for _ in 0..20 {
        if has(&next(), second.host_end()) {
            seen = true;
            break;
        }
    }
    assert!(seen, "{} never appeared in 20 intervals", second.host_end());
    let gone = first.host_end().to_owned();
    drop(first);
    world.wait_link_gone(&gone);
    let mut left = false;
    for _ in 0..10 {
        let v = next();
        if !has(&v, &gone) {
            assert!(has(&v, second.host_end()), "{v:#}");
            left = true;
            break;
        }
    }
    assert!(
        left,
        "{gone} still listed 10 intervals after it was removed"
    );
    let _ = child.kill();
    let _ = child.wait();
}
