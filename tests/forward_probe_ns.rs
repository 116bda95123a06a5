//! `forward test` against the real kernel, in namespaces this test makes: a guest serving TCP
//! and UDP is reached through its forwards on all three paths (outside, host, hairpin) with
//! the forward's counter moving; a forward to a port nothing serves is answered with RSTs; a
//! foreign table dropping the forwarded traffic makes the outside probe report no answer,
//! naming the table; and the host namespace is the same before and after a test (links,
//! addresses, routes, neighbours, the ruleset, named namespaces, processes).

mod support;

use std::net::{TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::world::World;
use support::{ip_netns_list, run_ok, stdout, Guest};

const XML: &str = "<network><name>lab</name><forward mode='nat'/><bridge name='sybr0' stp='off' delay='0'/>\
    <ip address='192.168.150.1' prefix='24'><dhcp><range start='192.168.150.100' end='192.168.150.200'/>\
    <host mac='52:54:00:aa:00:01' name='web' ip='192.168.150.10'/></dhcp></ip></network>";

/// A guest at 192.168.150.10 listening on TCP 80 and echoing UDP on 5353, until dropped.
struct Server {
    _guest: Guest,
    _tcp: TcpListener,
    stop: Arc<AtomicBool>,
    echo: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.echo.take() {
            let _ = t.join();
        }
    }
}

fn server(world: &World) -> Server {
    let guest = Guest::attach(&world.host, "sybr0", "probeweb");
    let ns = guest.netns().name().to_owned();
    run_ok(
        "ip",
        &[
            "-n",
            &ns,
            "link",
            "set",
            "eth0",
            "address",
            "52:54:00:aa:00:01",
        ],
    );
    run_ok(
        "ip",
        &["-n", &ns, "addr", "add", "192.168.150.10/24", "dev", "eth0"],
    );
    run_ok(
        "ip",
        &["-n", &ns, "route", "add", "default", "via", "192.168.150.1"],
    );
    let (tcp, udp) = guest
        .netns()
        .run(|| {
            let tcp = TcpListener::bind("0.0.0.0:80").expect("tcp listener");
            let udp = UdpSocket::bind("0.0.0.0:5353").expect("udp socket");
            udp.set_read_timeout(Some(Duration::from_millis(100)))
                .expect("timeout");
            (tcp, udp)
        })
        .expect("enter guest");
    let stop = Arc::new(AtomicBool::new(false));
    let halt = Arc::clone(&stop);
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !halt.load(Ordering::Relaxed) {
            if let Ok((n, from)) = udp.recv_from(&mut buf) {
                let _ = udp.send_to(&buf[..n], from);
            }
        }
    });
    Server {
        _guest: guest,
        _tcp: tcp,
        stop,
        echo: Some(echo),
    }
}

fn lab_world(tag: &str) -> Option<World> {
    let world = World::new(tag)?;
    let xml = world.home.path().join("lab.xml");
    std::fs::write(&xml, XML).expect("write xml");
    world.sy_ok(&["define", xml.to_str().expect("path")]);
    world.sy_ok(&["start", "lab"]);
    Some(world)
}

fn add(world: &World, args: &[&str]) -> String {
    let mut full = vec!["forward", "add", "lab"];
    full.extend_from_slice(args);
    world.sy_ok(&full)
}

/// `forward test --json`: the report and whether the command succeeded.
fn test(world: &World, proto: &str, port: &str) -> (Value, bool) {
    let out = world.sy(&[
        "forward", "test", "lab", "--proto", proto, "--port", port, "--json",
    ]);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "forward test printed no JSON ({e}): {}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (report, out.status.success())
}

fn path<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["paths"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["path"] == name))
        .unwrap_or_else(|| panic!("no {name} path in {report:#}"))
}

fn answered(report: &Value, name: &str, how: &str) {
    let p = path(report, name);
    assert_eq!(p["outcome"]["result"], "answered", "{name}: {report:#}");
    assert_eq!(p["outcome"]["how"], how, "{name}: {report:#}");
    assert_eq!(p["counter_hit"], true, "{name}: {report:#}");
}

#[test]
fn every_path_reaches_a_serving_guest_and_counts() {
    let Some(world) = lab_world("fpt") else {
        return;
    };
    let _web = server(&world);
    let said = add(
        &world,
        &[
            "--proto",
            "tcp",
            "--port",
            "8080",
            "--to",
            "192.168.150.10:80",
        ],
    );
    assert!(
        said.contains("self-test: forward tcp/8080 of lab"),
        "{said}"
    );
    assert!(
        said.contains("outside") && said.contains("ok, the guest answered (SYN-ACK)"),
        "{said}"
    );
    add(
        &world,
        &[
            "--proto",
            "udp",
            "--port",
            "5353",
            "--to-guest",
            "52:54:00:aa:00:01",
            "--no-test",
        ],
    );

    let (tcp, ok) = test(&world, "tcp", "8080");
    assert!(ok, "{tcp:#}");
    assert_eq!(tcp["ok"], true);
    for name in ["outside", "host", "hairpin"] {
        answered(&tcp, name, "SYN-ACK");
    }
    let note = path(&tcp, "outside")["note"].as_str().expect("a note");
    assert!(note.contains("not on the uplink uplink"), "{note}");
    let (udp, ok) = test(&world, "udp", "5353");
    assert!(ok, "{udp:#}");
    for name in ["outside", "host", "hairpin"] {
        answered(&udp, name, "reply");
    }
    let list: Vec<Value> =
        serde_json::from_str(&world.sy_ok(&["forward", "list", "--json"])).expect("json");
    let hits = |proto: &str| {
        list.iter()
            .find(|f| f["proto"] == proto)
            .and_then(|f| f["hits"].as_u64())
            .unwrap_or(0)
    };
    assert!(
        hits("tcp") >= 6,
        "three probes at add, three at test: {list:?}"
    );
    assert!(hits("udp") >= 3, "{list:?}");

    // The text report, and how long a test takes (median of three).
    let mut took = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let text = world.sy_ok(&["forward", "test", "lab", "--proto", "tcp", "--port", "8080"]);
        took.push(start.elapsed());
        assert!(
            text.starts_with("forward tcp/8080 of lab to 192.168.150.10:80\n"),
            "{text}"
        );
        assert_eq!(
            text.matches("ok, the guest answered (SYN-ACK)").count(),
            3,
            "{text}"
        );
    }
    took.sort();
    eprintln!("forward test (tcp, all answered): median {:?}", took[1]);
    eprintln!(
        "{}",
        world.sy_ok(&["forward", "test", "lab", "--proto", "udp", "--port", "5353"])
    );
}

#[test]
fn a_port_nothing_serves_answers_rst() {
    let Some(world) = lab_world("fprst") else {
        return;
    };
    let _web = server(&world);
    add(
        &world,
        &[
            "--proto",
            "tcp",
            "--port",
            "8081",
            "--to",
            "192.168.150.10:81",
            "--no-test",
        ],
    );
    let (report, ok) = test(&world, "tcp", "8081");
    assert!(ok, "a RST is the guest's answer: {report:#}");
    for name in ["outside", "host", "hairpin"] {
        answered(&report, name, "RST");
    }
}

#[test]
fn a_foreign_table_dropping_the_traffic_is_named() {
    let Some(world) = lab_world("fpdrop") else {
        return;
    };
    let _web = server(&world);
    add(
        &world,
        &[
            "--proto",
            "tcp",
            "--port",
            "8080",
            "--to",
            "192.168.150.10:80",
            "--no-test",
        ],
    );
    let h = world.host.name().to_owned();
    let nft = |args: &[&str]| {
        let mut full = vec!["netns", "exec", h.as_str(), "nft"];
        full.extend_from_slice(args);
        run_ok("ip", &full);
    };
    nft(&["add", "table", "inet", "blocker"]);
    nft(&[
        "add",
        "chain",
        "inet",
        "blocker",
        "toguests",
        "{ type filter hook forward priority 0; }",
    ]);
    nft(&[
        "add",
        "rule",
        "inet",
        "blocker",
        "toguests",
        "ip",
        "daddr",
        "192.168.150.10",
        "tcp",
        "dport",
        "80",
        "drop",
    ]);
    let (report, ok) = test(&world, "tcp", "8080");
    assert!(!ok, "a dropped path fails the test: {report:#}");
    let outside = path(&report, "outside");
    assert_eq!(outside["outcome"]["result"], "no_answer", "{report:#}");
    assert_eq!(
        outside["counter_hit"], true,
        "DNAT happened before the drop"
    );
    let why = outside["outcome"]["stopped_by"].as_str().expect("a reason");
    assert!(
        why.contains("table inet blocker (chain toguests at forward: a rule drops)"),
        "{why}"
    );
    assert_eq!(path(&report, "hairpin")["outcome"]["result"], "no_answer");
    // From the host itself the packet does not cross the forward hook.
    answered(&report, "host", "SYN-ACK");
    nft(&["delete", "table", "inet", "blocker"]);
    let (report, ok) = test(&world, "tcp", "8080");
    assert!(ok, "{report:#}");
}

/// Everything in the host namespace a probe could leave behind, as text: links, addresses,
/// routes, neighbours (address and device; their states age by themselves), the ruleset
/// (counter values aside), the probe namespaces `ip netns list` shows, and the processes
/// inside the host namespace.
fn state(world: &World) -> String {
    let h = world.host.name();
    let ip = |args: &[&str]| {
        let mut full = vec!["-n", h];
        full.extend_from_slice(args);
        stdout(&run_ok("ip", &full))
    };
    let neighbours: Vec<String> = ip(&["neigh", "show"])
        .lines()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .collect();
    let ruleset = stdout(&run_ok(
        "ip",
        &["netns", "exec", h, "nft", "list", "ruleset"],
    ));
    let ruleset: Vec<String> = ruleset
        .lines()
        .map(|l| match l.find("packets ") {
            Some(at) => l[..at].to_owned(),
            None => l.to_owned(),
        })
        .collect();
    // Probe namespaces are named sy-probe-PID-N after the switchyard process that made them;
    // those of processes still running belong to tests running beside this one.
    let probes: Vec<String> = ip_netns_list()
        .into_iter()
        .filter(|n| {
            let pid = n
                .strip_prefix("sy-probe-")
                .and_then(|rest| rest.split('-').next());
            pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
        })
        .collect();
    format!(
        "# links\n{}# addrs\n{}# routes\n{}# neighbours\n{neighbours:#?}\n# ruleset\n{}\n\
         # probe namespaces left by ended processes {probes:?}\n# processes {:?}\n",
        ip(&["-br", "link"]),
        ip(&["-br", "addr"]),
        ip(&["route", "show", "table", "all"]),
        ruleset.join("\n"),
        processes_in(world.host.path()),
    )
}

/// The pids whose network namespace is the one at `path`.
fn processes_in(path: &std::path::Path) -> Vec<u32> {
    use std::os::unix::fs::MetadataExt;
    let ns = std::fs::metadata(path).expect("namespace file");
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|pid: &u32| {
            std::fs::metadata(format!("/proc/{pid}/ns/net"))
                .is_ok_and(|m| m.ino() == ns.ino() && m.dev() == ns.dev())
        })
        .collect();
    pids.sort();
    pids
}

#[test]
fn a_test_leaves_the_host_as_it_was() {
    let Some(world) = lab_world("fpdiff") else {
        return;
    };
    let _web = server(&world);
    add(
        &world,
        &[
            "--proto",
            "tcp",
            "--port",
            "8080",
            "--to",
            "192.168.150.10:80",
            "--no-test",
        ],
    );
    add(
        &world,
        &[
            "--proto",
            "udp",
            "--port",
            "5353",
            "--to",
            "192.168.150.10",
            "--no-test",
        ],
    );
    // A first test makes the host learn the guest's address, as any traffic would.
    let (report, ok) = test(&world, "tcp", "8080");
    assert!(ok, "{report:#}");
    let before = state(&world);
    assert!(ok, "{report:#}");
    let (report, ok) = test(&world, "tcp", "8080");
    assert!(ok, "{report:#}");
    let (report, ok) = test(&world, "udp", "5353");
    assert!(ok, "{report:#}");
    let after = state(&world);
    assert_eq!(before, after);
    assert!(!after.contains("syp"), "{after}");
    assert!(!after.contains("198.18."), "{after}");
}

#[test]
fn a_probe_that_fails_half_way_leaves_nothing() {
    use switchyard::host::probe::{blocking, Probe, ProbeFrom};
    use switchyard::model::forward::Proto;
    let Some(world) = World::new("fphalf") else {
        return;
    };
    let before = stdout(&world.host.ip(&["-br", "link"]));
    // `uplink` is a veth, not a bridge: the probe's port is made, then cannot be enslaved.
    let probe = Probe {
        from: ProbeFrom::Bridge {
            bridge: "uplink".into(),
            addr: "203.0.113.200/24".parse().expect("literal"),
            gateway: "203.0.113.2".parse().expect("literal"),
        },
        proto: Proto::Tcp,
        to: "203.0.113.2:8080".parse().expect("literal"),
        timeout: Duration::from_secs(1),
    };
    let result = world.host.run(|| blocking(&probe)).expect("enter host");
    let err = result.expect_err("no port on a veth");
    assert!(err.to_string().contains("set master of syp"), "{err}");
    assert_eq!(stdout(&world.host.ip(&["-br", "link"])), before);
    let mine = format!("sy-probe-{}-", std::process::id());
    let left: Vec<String> = ip_netns_list()
        .into_iter()
        .filter(|n| n.starts_with(&mine))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
