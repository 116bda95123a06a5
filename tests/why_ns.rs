//! `why` against the real kernel, in namespaces this test makes: a NAT network `lab` runs in a
//! host namespace with an upstream behind its uplink, and other firewalls' rule sets are
//! loaded beside switchyard's table with `nft -f` — Docker's, ufw's and firewalld's (from the
//! fixtures in tests/fixtures/why/, written from their documentation and source), and plain
//! nftables tables with a drop policy or a drop rule. `why` must name the table, chain and
//! rule (or policy) that stops the probe, print the fix for this bridge, say "delivered" when
//! nothing stops it (and the upstream must then really receive the probe), and leave the
//! host namespace exactly as it was: links, addresses, routes, the ruleset and `ip netns
//! list` are compared before and after every `why`.

mod support;

use std::net::UdpSocket;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::world::{World, UPSTREAM};
use support::{ip_netns_list, run_ok, stdout, Guest};

const XML: &str = "<network><name>lab</name><forward mode='nat'/><bridge name='sybr0' stp='off' delay='0'/>\
    <ip address='192.168.150.1' prefix='24'><dhcp><range start='192.168.150.100' end='192.168.150.200'/>\
    </dhcp></ip></network>";

/// The tests compare `ip netns list` before and after: one at a time in this process.
static SERIAL: Mutex<()> = Mutex::new(());

/// A world running `lab`, with one guest on its bridge (a network in use: the bridge has a
/// port and carrier before the probe's port comes and after it goes).
struct Lab {
    guest: Guest,
    world: World,
}

fn lab_world(tag: &str) -> Option<Lab> {
    let world = World::new(tag)?;
    let xml = world.home.path().join("lab.xml");
    std::fs::write(&xml, XML).expect("write xml");
    world.sy_ok(&["define", xml.to_str().expect("path")]);
    world.sy_ok(&["start", "lab"]);
    let guest = Guest::attach(&world.host, "sybr0", &format!("{tag}g"));
    Some(Lab { guest, world })
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/why")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// `nft ARGS…` inside the world's host namespace.
fn nft(world: &World, args: &[&str]) -> String {
    let mut full = vec!["netns", "exec", world.host.name(), "nft"];
    full.extend_from_slice(args);
    stdout(&run_ok("ip", &full))
}

/// Named namespaces of this process (the probe must add none, even for a moment after).
fn our_netns() -> Vec<String> {
    let pid = format!("-{}-", std::process::id());
    let mut names: Vec<String> = ip_netns_list()
        .into_iter()
        .filter(|n| n.contains(&pid))
        .collect();
    names.sort();
    names
}

/// The host's neighbour entries on the bridge above the DHCP range, where the probe takes
/// its address (entries for where the probe went — the guest, the upstream — are what any
/// packet there makes, and are not compared).
fn probe_neighbours(world: &World) -> Vec<String> {
    stdout(&run_ok(
        "ip",
        &["-n", world.host.name(), "neigh", "show", "dev", "sybr0"],
    ))
    .lines()
    .filter(|l| {
        l.split_whitespace()
            .next()
            .and_then(|a| a.strip_prefix("192.168.150."))
            .and_then(|n| n.parse::<u8>().ok())
            .is_some_and(|n| n > 200)
    })
    .map(|l| l.split_whitespace().next().unwrap_or("").to_owned())
    .collect()
}

/// Everything `why` could leave behind. Counters are scrubbed (the probe passes them, as any
/// packet would: a forward's hit counter counts an inbound probe through it).
fn state(world: &World) -> String {
    let snap = world.snapshot();
    let mut out = String::with_capacity(snap.len());
    let mut rest = snap.as_str();
    while let Some(at) = rest.find("counter packets ") {
        out.push_str(&rest[..at + "counter".len()]);
        let tail = &rest[at + "counter packets ".len()..];
        let end = tail.find(" bytes ").map_or(0, |b| b + " bytes ".len());
        let tail = &tail[end..];
        let digits = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        rest = &tail[digits..];
    }
    out.push_str(rest);
    // Named counters (a forward's) list their numbers on a line of their own. Under
    // spanning tree a port coming or going is a topology change, which the kernel marks
    // (with a short ageing time) and clears by itself after forward delay + max age: those
    // three fields are not compared.
    let out: String = out
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("packets ") && l.contains(" bytes ") {
                "\t\tpackets - bytes -\n".to_owned()
            } else {
                let words: Vec<&str> = l.split(' ').collect();
                let mut kept = Vec::with_capacity(words.len());
                let mut skip = false;
                for w in words {
                    if skip {
                        kept.push("-");
                        skip = false;
                        continue;
                    }
                    skip = matches!(
                        w,
                        "ageing_time" | "topology_change" | "topology_change_detected"
                    );
                    kept.push(w);
                }
                format!("{}\n", kept.join(" "))
            }
        })
        .collect();
    format!(
        "{out}# netns {:?}\n# probe neighbours {:?}\n",
        our_netns(),
        probe_neighbours(world)
    )
}

/// Runs `why lab ARGS… --json`, checks the host namespace is unchanged by it, and returns the
/// report.
fn why(world: &World, args: &[&str]) -> Value {
    let before = state(world);
    let mut full = vec!["why", "lab"];
    full.extend_from_slice(args);
    full.push("--json");
    let started = Instant::now();
    let raw = world.sy(&full);
    assert!(
        raw.status.success(),
        "why {args:?} failed: {}",
        String::from_utf8_lossy(&raw.stderr)
    );
    let out = stdout(&raw);
    eprintln!("why {args:?}: {} ms", started.elapsed().as_millis());
    // The bridge's carrier follows its last port going a moment later (linkwatch): look
    // again for up to 3 s before calling a difference a leftover.
    let mut after = state(world);
    let settle = Instant::now();
    while after != before && settle.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(100));
        after = state(world);
    }
    assert_eq!(before, after, "why {args:?} left something behind");
    let report: Value = serde_json::from_str(&out).expect("why --json prints JSON");
    let mut keys: Vec<&str> = report
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["by", "fix", "path", "verdict"], "{report:#}");
    report
}

fn by(report: &Value) -> (&str, &str, &str) {
    let b = &report["by"];
    (
        b["family"].as_str().unwrap_or(""),
        b["table"].as_str().unwrap_or(""),
        b["chain"].as_str().unwrap_or(""),
    )
}

fn fix(report: &Value) -> &str {
    report["fix"].as_str().unwrap_or("")
}

/// Whether the upstream receives the probe's datagram while `f` runs.
fn upstream_receives(world: &World, port: u16, f: impl FnOnce()) -> bool {
    let sock = world
        .up
        .run(move || UdpSocket::bind((UPSTREAM, port)).expect("bind upstream"))
        .expect("enter upstream");
    sock.set_read_timeout(Some(Duration::from_millis(1500)))
        .expect("timeout");
    f();
    let mut buf = [0u8; 64];
    matches!(sock.recv_from(&mut buf), Ok((n, _)) if &buf[..n] == b"switchyard why")
}

#[test]
fn docker_forward_policy_drop_is_named_and_fixed_and_removed_is_delivered() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = lab_world("whyd") else {
        return;
    };
    let world = &lab.world;
    let to = format!("{UPSTREAM}:9000");
    let clean = nft(world, &["list", "ruleset"]);

    // Nothing in the way: delivered, and the probe really arrives upstream.
    let mut report = Value::Null;
    assert!(
        upstream_receives(world, 9000, || {
            report = why(world, &["--to", &to, "--proto", "udp"]);
        }),
        "the upstream did not receive the probe"
    );
    assert_eq!(report["verdict"], "delivered", "{report:#}");
    assert!(
        report["by"].is_null() && report["fix"].is_null(),
        "{report:#}"
    );
    let path = report["path"].as_array().expect("path");
    assert!(
        path.iter()
            .any(|h| h["hook"] == "forward" && h["table"] == "switchyard"),
        "our forward chain is on the path: {report:#}"
    );

    // Docker's rules: its FORWARD policy drops the guest's traffic.
    nft(world, &["-f", &fixture("docker.nft")]);
    let report = why(world, &["--to", &to, "--proto", "udp"]);
    assert_eq!(report["verdict"], "dropped", "{report:#}");
    assert_eq!(by(&report), ("ip", "filter", "FORWARD"), "{report:#}");
    assert_eq!(report["by"]["policy"], "drop", "{report:#}");
    assert!(
        path_has(&report, "forward", "filter", "DOCKER-USER"),
        "{report:#}"
    );
    assert!(
        fix(&report).contains("iptables -I DOCKER-USER -i sybr0 -j ACCEPT"),
        "{report:#}"
    );

    // The fix, as nft writes what that iptables command adds: delivered again.
    nft(
        world,
        &[
            "insert",
            "rule",
            "ip",
            "filter",
            "DOCKER-USER",
            "iifname",
            "sybr0",
            "accept",
        ],
    );
    let report = why(world, &["--to", &to, "--proto", "udp"]);
    assert_eq!(report["verdict"], "delivered", "{report:#}");

    // TCP and ICMP probes are traced as well.
    nft(world, &["flush", "chain", "ip", "filter", "DOCKER-USER"]);
    let report = why(world, &["--to", &format!("{UPSTREAM}:443")]);
    assert_eq!(report["verdict"], "dropped", "tcp: {report:#}");
    let report = why(world, &["--to", UPSTREAM, "--proto", "icmp"]);
    assert_eq!(report["verdict"], "dropped", "icmp: {report:#}");

    // Docker gone: delivered.
    nft(world, &["delete", "table", "ip", "filter"]);
    nft(world, &["delete", "table", "ip", "nat"]);
    assert_eq!(nft(world, &["list", "ruleset"]), clean);
    let report = why(world, &["--to", &format!("{UPSTREAM}:443")]);
    assert_eq!(report["verdict"], "delivered", "tcp: {report:#}");
}

#[test]
fn dhcp_dropped_by_a_foreign_input_rule_is_named_there_and_doctor_names_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = lab_world("whyi") else {
        return;
    };
    let world = &lab.world;
    let report = why(world, &["--to", "192.168.150.1:67", "--proto", "udp"]);
    assert_eq!(report["verdict"], "delivered", "{report:#}");

    nft(
        world,
        &[
            "add table inet filter; add chain inet filter input { type filter hook input \
             priority 0; policy accept; }; add rule inet filter input udp dport 67 counter drop",
        ],
    );
    let report = why(world, &["--to", "192.168.150.1:67", "--proto", "udp"]);
    assert_eq!(report["verdict"], "dropped", "{report:#}");
    assert_eq!(by(&report), ("inet", "filter", "input"), "{report:#}");
    assert!(
        report["by"]["rule"]
            .as_str()
            .is_some_and(|r| r.contains("udp dport 67")),
        "{report:#}"
    );
    assert!(report["by"]["handle"].is_u64(), "{report:#}");
    assert!(
        fix(&report)
            .contains("insert rule inet filter input iifname \"sybr0\" udp dport 67 accept"),
        "{report:#}"
    );

    // doctor reads the same from the ruleset alone.
    let out = world.sy(&["doctor", "--json"]);
    let findings: Value = serde_json::from_slice(&out.stdout).expect("doctor --json");
    let lab = findings
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check"] == "firewall paths of lab" && f["status"] == "fail")
        .unwrap_or_else(|| panic!("doctor names no blocker: {findings:#}"));
    let detail = lab["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("DHCP") && detail.contains("inet filter") && detail.contains("input"),
        "{lab:#}"
    );

    // A drop policy in a foreign forward chain (as Docker makes) blocks forwarding too.
    nft(
        world,
        &["add chain inet filter forward { type filter hook forward priority 0; policy drop; }"],
    );
    let report = why(
        world,
        &["--to", &format!("{UPSTREAM}:53"), "--proto", "udp"],
    );
    assert_eq!(report["verdict"], "dropped", "{report:#}");
    assert_eq!(by(&report), ("inet", "filter", "forward"), "{report:#}");
    assert!(
        fix(&report).contains("insert rule inet filter forward iifname \"sybr0\" accept"),
        "{report:#}"
    );
    nft(world, &["delete", "table", "inet", "filter"]);
}

#[test]
fn ufw_drops_dhcp_and_forwarding_and_says_ufw() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = lab_world("whyu") else {
        return;
    };
    let world = &lab.world;
    nft(world, &["-f", &fixture("ufw.nft")]);
    let report = why(world, &["--to", "192.168.150.1:67", "--proto", "udp"]);
    assert_eq!(report["verdict"], "dropped", "{report:#}");
    assert_eq!(
        by(&report),
        ("ip", "filter", "ufw-skip-to-policy-input"),
        "{report:#}"
    );
    assert!(
        fix(&report).contains("ufw allow in on sybr0 to any port 67 proto udp"),
        "{report:#}"
    );
    let report = why(world, &["--to", &format!("{UPSTREAM}:80")]);
    assert_eq!(report["verdict"], "dropped", "{report:#}");
    assert_eq!(by(&report), ("ip", "filter", "FORWARD"), "{report:#}");
    assert_eq!(fix(&report), "ufw route allow in on sybr0", "{report:#}");
    // What `ufw route allow in on sybr0` adds (ufw-user-forward: -i sybr0 -j ACCEPT).
    nft(
        world,
        &[
            "add",
            "rule",
            "ip",
            "filter",
            "ufw-user-forward",
            "iifname",
            "sybr0",
            "accept",
        ],
    );
    let report = why(world, &["--to", &format!("{UPSTREAM}:80")]);
    assert_eq!(report["verdict"], "delivered", "{report:#}");
}

#[test]
fn firewalld_rejects_dhcp_of_a_bridge_in_no_zone() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = lab_world("whyf") else {
        return;
    };
    let world = &lab.world;
    nft(world, &["-f", &fixture("firewalld.nft")]);
    let report = why(world, &["--to", "192.168.150.1:67", "--proto", "udp"]);
    assert_eq!(report["verdict"], "rejected", "{report:#}");
    assert_eq!(
        by(&report),
        ("inet", "firewalld", "filter_INPUT"),
        "{report:#}"
    );
    assert!(
        path_has(&report, "input", "firewalld", "filter_IN_public_allow"),
        "{report:#}"
    );
    assert!(
        fix(&report).contains("in no firewalld zone")
            && fix(&report).contains("firewall-cmd --zone=trusted --change-interface=sybr0"),
        "{report:#}"
    );
    // Forwarding out of the uplink is allowed by the default zone (forward enabled).
    let report = why(world, &["--to", &format!("{UPSTREAM}:80")]);
    assert_eq!(report["verdict"], "delivered", "{report:#}");
}

fn path_has(report: &Value, hook: &str, table: &str, chain: &str) -> bool {
    report["path"].as_array().is_some_and(|p| {
        p.iter()
            .any(|h| h["hook"] == hook && h["table"] == table && h["chain"] == chain)
    })
}

/// A finding of `doctor --json` whose check is `check` and whose detail holds `words`.
fn doctor_has(world: &World, args: &[&str], check: &str, words: &[&str]) -> Value {
    let mut full = vec!["doctor", "--json"];
    full.extend_from_slice(args);
    let out = world.sy(&full);
    let findings: Value = serde_json::from_slice(&out.stdout).expect("doctor --json");
    findings
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| {
            f["check"] == check
                && words
                    .iter()
                    .all(|w| f["detail"].as_str().is_some_and(|d| d.contains(w)))
        })
        .cloned()
        .unwrap_or_else(|| panic!("doctor has no {check} with {words:?}: {findings:#}"))
}

#[test]
fn doctor_names_the_tables_of_docker_ufw_and_firewalld() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = lab_world("whyc") else {
        return;
    };
    let world = &lab.world;
    let ok = doctor_has(
        world,
        &[],
        "firewall paths of lab",
        &["no other table drops"],
    );
    assert_eq!(ok["status"], "ok", "{ok:#}");

    nft(world, &["-f", &fixture("docker.nft")]);
    let f = doctor_has(
        world,
        &[],
        "firewall paths of lab",
        &[
            "forwarding",
            "Docker",
            "ip filter",
            "FORWARD",
            "policy drop",
        ],
    );
    assert_eq!(f["status"], "fail", "{f:#}");
    assert!(
        f["fix"]
            .as_str()
            .is_some_and(|x| x.contains("DOCKER-USER -i sybr0")),
        "{f:#}"
    );
    // --probe traces the same from the network, and DHCP and DNS get through.
    let before = state(world);
    doctor_has(
        world,
        &["--probe"],
        "probe forwarding of lab",
        &["dropped by ip filter chain FORWARD"],
    );
    let dhcp = doctor_has(world, &["--probe"], "probe DHCP of lab", &["delivered"]);
    assert_eq!(dhcp["status"], "ok", "{dhcp:#}");
    assert_eq!(before, state(world), "doctor --probe left something behind");
    nft(world, &["delete", "table", "ip", "filter"]);
    nft(world, &["delete", "table", "ip", "nat"]);

    nft(world, &["-f", &fixture("ufw.nft")]);
    for (need, chain) in [
        ("DHCP", "ufw-skip-to-policy-input"),
        ("DNS", "INPUT"),
        ("forwarding", "FORWARD"),
    ] {
        doctor_has(
            world,
            &[],
            "firewall paths of lab",
            &[need, "ufw", &format!("chain {chain} ")],
        );
    }
    nft(world, &["delete", "table", "ip", "filter"]);

    nft(world, &["-f", &fixture("firewalld.nft")]);
    let f = doctor_has(
        world,
        &[],
        "firewall paths of lab",
        &[
            "DHCP",
            "firewalld",
            "inet firewalld",
            "filter_INPUT",
            "reject",
        ],
    );
    assert!(
        f["fix"]
            .as_str()
            .is_some_and(|x| x.contains("--change-interface=sybr0")),
        "{f:#}"
    );
}

#[test]
fn br_netfilter_sends_guest_to_guest_traffic_through_dockers_forward_chain() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = lab_world("whyb") else {
        return;
    };
    let world = &lab.world;
    let ns = lab.guest.netns().name().to_owned();
    run_ok(
        "ip",
        &["-n", &ns, "addr", "add", "192.168.150.10/24", "dev", "eth0"],
    );
    let sysctl = "/proc/sys/net/bridge/bridge-nf-call-iptables";
    let has_br_netfilter = world
        .host
        .run(move || std::path::Path::new(sysctl).exists())
        .expect("enter host namespace");
    // Without br_netfilter the bridge switches it below every IP hook.
    nft(world, &["-f", &fixture("docker.nft")]);
    if has_br_netfilter {
        run_ok(
            "ip",
            &[
                "netns",
                "exec",
                world.host.name(),
                "sysctl",
                "-qw",
                "net.bridge.bridge-nf-call-iptables=0",
            ],
        );
    }
    let report = why(world, &["--to", "192.168.150.10:80"]);
    assert_eq!(report["verdict"], "delivered", "{report:#}");
    if !has_br_netfilter {
        assert!(!support::in_ci(), "this kernel has no br_netfilter");
        eprintln!("skipped the br_netfilter half: the kernel has no br_netfilter");
        return;
    }
    // With it (as Docker loads it), the packet passes iptables' FORWARD, which drops it.
    run_ok(
        "ip",
        &[
            "netns",
            "exec",
            world.host.name(),
            "sysctl",
            "-qw",
            "net.bridge.bridge-nf-call-iptables=1",
        ],
    );
    let report = why(world, &["--to", "192.168.150.10:80"]);
    assert_eq!(report["verdict"], "dropped", "{report:#}");
    assert_eq!(by(&report), ("ip", "filter", "FORWARD"), "{report:#}");
    assert!(
        fix(&report).contains("iptables -I DOCKER-USER -i sybr0 -o sybr0 -j ACCEPT")
            && fix(&report).contains("br_netfilter"),
        "{report:#}"
    );
}

#[test]
fn an_interrupted_why_removes_its_probe_and_trace_rule() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = lab_world("whyx") else {
        return;
    };
    let world = &lab.world;
    let before = state(world);
    let mut cmd = world.sy_command(&["why", "lab", "--to", &format!("{UPSTREAM}:80")]);
    cmd.env("SWITCHYARD_WHY_PAUSE", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("run why");
    // Wait until the probe port and the tracer's chains are in place.
    let start = Instant::now();
    loop {
        let links = stdout(&run_ok("ip", &["-n", world.host.name(), "-o", "link"]));
        let rules = nft(world, &["list", "table", "inet", "switchyard"]);
        if links.contains("sywh") && rules.contains("why_mark") && rules.contains("nftrace") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the probe never appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // `ip netns exec` runs switchyard as its child after exec: signal the process itself.
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("signal why");
    let out = child.wait_with_output().expect("why ends");
    assert!(!out.status.success(), "an interrupted why fails");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("interrupted"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut after = state(world);
    let settle = Instant::now();
    while after != before && settle.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(100));
        after = state(world);
    }
    assert_eq!(before, after, "an interrupted why left something behind");
}

#[test]
fn why_refuses_a_stopped_network_and_bad_targets() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = lab_world("whye") else {
        return;
    };
    let world = &lab.world;
    for (args, words) in [
        (vec!["--to", "203.0.113.1:x"], "--to"),
        (vec!["--to", "203.0.113.1:80", "--proto", "sctp"], "--proto"),
        (
            vec!["--to", "203.0.113.1:80", "--proto", "icmp"],
            "icmp has no port",
        ),
        (
            vec!["--to", "203.0.113.1", "--from-guest", "not-a-mac"],
            "neither a MAC",
        ),
    ] {
        let before = state(world);
        let mut full = vec!["why", "lab"];
        full.extend(args.iter().copied());
        let out = world.sy(&full);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(words), "{args:?}: {err}");
        assert_eq!(before, state(world), "{args:?}");
    }
    world.sy_ok(&["stop", "lab"]);
    let out = world.sy(&["why", "lab", "--to", "203.0.113.1:80"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not active"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn inbound_to_a_nat_guest_needs_a_forward_and_then_passes_or_meets_docker() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(lab) = lab_world("whyn") else {
        return;
    };
    let world = &lab.world;
    let ns = lab.guest.netns().name().to_owned();
    run_ok(
        "ip",
        &[
            "-n",
            &ns,
            "link",
            "set",
            "eth0",
            "address",
            "52:54:00:aa:00:10",
        ],
    );
    run_ok(
        "ip",
        &["-n", &ns, "addr", "add", "192.168.150.10/24", "dev", "eth0"],
    );

    // No forward: a NAT network's own forward chain refuses it, and the fix says to add one.
    let report = why(world, &["--inbound", "--to", "192.168.150.10:80"]);
    assert_eq!(report["verdict"], "rejected", "{report:#}");
    assert_eq!(
        by(&report),
        ("inet", "switchyard", "net_lab_to"),
        "{report:#}"
    );
    assert!(
        fix(&report)
            .contains("switchyard forward add lab --proto tcp --port 80 --to 192.168.150.10"),
        "{report:#}"
    );

    // Through a forward: DNAT to the guest, out onto the bridge (the guest named by the MAC
    // its reservation has).
    world.sy_ok(&["pin", "lab", "52:54:00:aa:00:10", "192.168.150.10"]);
    world.sy_ok(&[
        "forward",
        "add",
        "lab",
        "--proto",
        "tcp",
        "--port",
        "8080",
        "--to",
        "192.168.150.10:80",
    ]);
    let report = why(world, &["--inbound", "--to", "52:54:00:aa:00:10:80"]);
    assert_eq!(report["verdict"], "delivered", "{report:#}");
    assert!(
        path_has(&report, "prerouting", "switchyard", "base_prerouting"),
        "the forward's DNAT is on the path: {report:#}"
    );
    // From a given outside address too.
    let report = why(
        world,
        &[
            "--inbound",
            "--to",
            "192.168.150.10:80",
            "--from",
            "198.51.100.7",
        ],
    );
    assert_eq!(report["verdict"], "delivered", "{report:#}");

    // Docker's FORWARD policy drops it after the DNAT; the fix opens the guest's port.
    nft(world, &["-f", &fixture("docker.nft")]);
    let report = why(world, &["--inbound", "--to", "192.168.150.10:80"]);
    assert_eq!(report["verdict"], "dropped", "{report:#}");
    assert_eq!(by(&report), ("ip", "filter", "FORWARD"), "{report:#}");
    assert_eq!(
        fix(&report),
        "iptables -I DOCKER-USER -o sybr0 -p tcp --dport 80 -j ACCEPT",
        "{report:#}"
    );
}

#[test]
fn under_spanning_tree_the_probe_waits_for_its_port_to_forward() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(world) = World::new("whys") else {
        return;
    };
    let xml = world.home.path().join("lab.xml");
    std::fs::write(&xml, XML.replace("stp='off'", "stp='on'")).expect("write xml");
    world.sy_ok(&["define", xml.to_str().expect("path")]);
    world.sy_ok(&["start", "lab"]);
    let _guest = Guest::attach(&world.host, "sybr0", "whysg");
    // The guest's own port first gets through listening and learning.
    let wait = Instant::now();
    while !stdout(&run_ok(
        "ip",
        &["-n", world.host.name(), "-d", "link", "show", "ve-whysg"],
    ))
    .contains("state forwarding")
    {
        assert!(
            wait.elapsed() < Duration::from_secs(10),
            "the guest's port never forwards"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let started = Instant::now();
    let report = why(&world, &["--to", "192.168.150.1:67", "--proto", "udp"]);
    assert_eq!(report["verdict"], "delivered", "{report:#}");
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "the port cannot forward before listening and learning"
    );
}
