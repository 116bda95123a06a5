//! The real backend over the fake host: the same planner, transactions and step logic as on the
//! kernel, against an in-memory one. These need no root; the real-kernel tests (`*_ns.rs`) prove
//! the same behaviours on the kernel, so the two stay honest with each other.

use std::sync::Arc;

use switchyard::backend::{host_facts, Backend, Observation};
use switchyard::host::fake::{FakeHost, GuestKind, Traffic, FAKE_EPOCH_UNIX};
use switchyard::host::Host;
use switchyard::state::LinkKind;
use switchyard::store::Paths;

const NAT: &str = "<network>
  <name>lab</name>
  <uuid>0b8a3f8e-8d6e-4a4a-9a38-2f6a7c1c0a01</uuid>
  <forward mode='nat'/>
  <bridge name='sybr0' stp='on' delay='0'/>
  <mac address='52:54:00:aa:00:01'/>
  <ip address='192.168.150.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.150.10' end='192.168.150.20'/>
      <host mac='52:54:00:00:00:09' name='fixed' ip='192.168.150.99'/>
    </dhcp>
  </ip>
</network>";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A fake host with an uplink, and a backend over it in a fresh home.
fn world() -> (tempfile::TempDir, Backend<FakeHost>) {
    let home = tempfile::tempdir().expect("home");
    let host = FakeHost::manual("fake", FAKE_EPOCH_UNIX);
    host.add_link("eth0", LinkKind::Physical, None, Traffic::Idle)
        .expect("eth0");
    host.set_admin("eth0", true).expect("up");
    host.add_address("eth0", "198.51.100.10/24".parse().unwrap())
        .expect("address");
    let backend = Backend::new(Paths::under(home.path()), host);
    (home, backend)
}

async fn define(backend: &Backend<FakeHost>, xml: &str) {
    let state = backend.host().observe().await.expect("observe");
    backend
        .define_xml(xml, &host_facts(&state))
        .expect("defines");
}

async fn drift(backend: &Backend<FakeHost>, name: &str) -> Vec<String> {
    let obs = Observation::take(backend.host()).await.expect("look");
    let statuses = backend.statuses(&obs).expect("statuses");
    let s = statuses.iter().find(|s| s.name == name).expect("listed");
    assert!(s.active, "{name} is active");
    s.drift.iter().map(ToString::to_string).collect()
}

/// Everything a start may change, to compare before and after.
fn fingerprint(h: &FakeHost) -> String {
    format!(
        "{:?}\n{:?}\n{:?}",
        h.state(),
        h.nft_tables(),
        h.dnsmasq_pids()
    )
}

#[test]
fn start_gives_guests_leases_and_stop_leaves_the_host_as_it_was() {
    let (home, backend) = world();
    runtime().block_on(async {
        define(&backend, NAT).await;
        let before = fingerprint(backend.host());
        backend.start("lab", |_, _| {}).await.expect("starts");
        assert_eq!(drift(&backend, "lab").await, Vec::<String>::new());

        let h = backend.host();
        let bridge = h.state().link_by_name("sybr0").cloned().expect("bridge");
        assert_eq!(bridge.oper_state, "down", "no port yet: no carrier");
        h.add_guest(
            "web",
            GuestKind::Tap,
            "vnet0",
            Some("sybr0"),
            "52:54:00:00:00:01",
            Some(Some("web")),
            Traffic::steady(1000.0, 500.0, 0.0),
        )
        .expect("guest");
        h.add_guest(
            "fixed",
            GuestKind::Tap,
            "vnet1",
            Some("sybr0"),
            "52:54:00:00:00:09",
            Some(None),
            Traffic::Idle,
        )
        .expect("guest");
        let leases =
            std::fs::read_to_string(backend.dnsmasq_paths("lab").lease_file).expect("lease file");
        let expiry = FAKE_EPOCH_UNIX + 3600;
        assert!(
            leases.contains(&format!("{expiry} 52:54:00:00:00:01 192.168.150.10 web *")),
            "{leases}"
        );
        assert!(
            leases.contains("52:54:00:00:00:09 192.168.150.99 fixed"),
            "the reservation: {leases}"
        );
        let up = h.state().link_by_name("sybr0").cloned().expect("bridge");
        assert_eq!(up.oper_state, "up");

        backend.stop("lab", |_, _| {}).await.expect("stops");
        h.remove_link("vnet0").expect("guest gone");
        h.remove_link("vnet1").expect("guest gone");
        assert_eq!(fingerprint(h), before, "the host is as it was");
    });
    drop(home);
}

#[test]
fn a_failure_at_any_step_of_a_start_leaves_nothing_behind() {
    let (_home, backend) = world();
    let rt = runtime();
    let plan = rt.block_on(async {
        define(&backend, NAT).await;
        backend.plan_start("lab").await.expect("plans").1
    });
    let before = fingerprint(backend.host());
    let mut kinds: Vec<&str> = plan.steps.iter().map(|s| s.kind()).collect();
    kinds.dedup();
    for kind in kinds {
        backend.host().fail_step(kind, libc::EPERM);
        let err = rt
            .block_on(backend.start("lab", |_, _| {}))
            .expect_err("fails");
        let text = err.to_string();
        assert!(
            text.contains("needs root or CAP_NET_ADMIN"),
            "{kind}: {text}"
        );
        assert_eq!(fingerprint(backend.host()), before, "after a failed {kind}");
    }
}

#[test]
fn drift_is_seen_and_start_repairs_it() {
    let (_home, backend) = world();
    runtime().block_on(async {
        define(&backend, NAT).await;
        backend.start("lab", |_, _| {}).await.expect("starts");
        let h = backend.host();
        let healthy = fingerprint(h);

        // A rule planted in one of the network's chains, and its dnsmasq gone.
        h.tamper_chain("inet", "switchyard", "net_lab_to", |rules| {
            rules.insert(0, serde_json::json!([{ "accept": null }]))
        })
        .expect("tampered");
        assert!(h.kill_dnsmasq(&backend.dnsmasq_paths("lab").conf));
        let seen = drift(&backend, "lab").await;
        assert!(seen.iter().any(|d| d.starts_with("firewall: ")), "{seen:?}");
        assert!(seen.iter().any(|d| d.contains("dnsmasq")), "{seen:?}");

        backend.start("lab", |_, _| {}).await.expect("repairs");
        assert_eq!(drift(&backend, "lab").await, Vec::<String>::new());
        // Same links and rules; dnsmasq came back under a new pid.
        let strip = |s: String| s.rsplit_once('\n').map(|(a, _)| a.to_owned()).unwrap();
        assert_eq!(strip(fingerprint(h)), strip(healthy));
    });
}

#[test]
fn a_bridge_we_did_not_make_is_never_taken_over() {
    let (_home, backend) = world();
    runtime().block_on(async {
        backend
            .host()
            .add_link("sybr0", LinkKind::Bridge, None, Traffic::Idle)
            .expect("someone's bridge");
        define(&backend, NAT).await;
        let before = fingerprint(backend.host());
        let err = backend.start("lab", |_, _| {}).await.expect_err("refused");
        assert!(err.to_string().contains("sybr0"), "{err}");
        assert_eq!(fingerprint(backend.host()), before);
    });
}

#[test]
fn the_fake_is_shared_like_the_real_host() {
    // The live views hold the host in an Arc beside the backend.
    let (_home, backend) = world();
    let arc: Arc<FakeHost> = backend.host_arc();
    assert!(arc.summary().simulated);
}

/// `NAT` as network number `i` (its own name, bridge, MAC and subnet).
fn nat_number(i: u8) -> String {
    NAT.replace("<name>lab", &format!("<name>lab{i}"))
        .replace("<uuid>0b8a3f8e-8d6e-4a4a-9a38-2f6a7c1c0a01</uuid>", "")
        .replace("sybr0", &format!("sybr{}", i + 1))
        .replace("aa:00:01", &format!("aa:00:{:02x}", i + 2))
        .replace("192.168.150.", &format!("192.168.{}.", 160 + i))
}

#[test]
fn start_raises_the_inotify_limit_when_our_dnsmasqs_approach_it_and_stop_leaves_it() {
    let (_home, backend) = world();
    let key = "fs.inotify.max_user_instances";
    // Room for two dnsmasqs besides the reserve for the rest of the machine.
    let limit = switchyard::plan::start::INOTIFY_RESERVE + 2;
    backend.host().set_sysctl(key, &limit.to_string());
    runtime().block_on(async {
        for i in 0..3 {
            define(&backend, &nat_number(i)).await;
        }
        for i in 0..2 {
            let plan = backend
                .start(&format!("lab{i}"), |_, _| {})
                .await
                .expect("starts");
            assert!(!plan.to_string().contains(key), "no raise yet: {plan}");
        }
        let plan = backend.start("lab2", |_, _| {}).await.expect("starts");
        let raised = (limit + 1) * 2;
        let line = format!("sysctl {key}={raised} (was {limit})");
        assert!(plan.to_string().contains(&line), "{plan}");
        let kinds: Vec<&str> = plan.steps.iter().map(|s| s.kind()).collect();
        let at = kinds
            .iter()
            .position(|k| *k == "start-dnsmasq")
            .expect("dnsmasq");
        assert_eq!(
            kinds[at - 1],
            "set-sysctl",
            "raised just before dnsmasq: {kinds:?}"
        );
        assert_eq!(backend.host().sysctl(key), Some(raised.to_string()));
        let stopped = backend.stop("lab2", |_, _| {}).await.expect("stops");
        assert!(!stopped.to_string().contains(key), "{stopped}");
        assert_eq!(backend.host().sysctl(key), Some(raised.to_string()), "kept");
    });
}

/// The collector counts the host's ruleset-change notifications in its snapshots (the live
/// source lists the table again only when that count moves): one when it subscribed, and one
/// more for a change made behind switchyard's back.
#[test]
fn ruleset_changes_reach_the_snapshots_as_a_count() {
    use switchyard::telemetry::{Collector, CollectorOptions, SnapshotCause};
    let (_home, backend) = world();
    runtime().block_on(async {
        let (_nets, rx) = tokio::sync::watch::channel(backend.network_ports());
        let mut c = Collector::open(backend.host_arc(), rx, CollectorOptions::default())
            .await
            .expect("collector");
        let first = c.cycle(SnapshotCause::Start).await.expect("cycle");
        assert_eq!(first.firewall, 1, "subscribed");
        let again = c.cycle(SnapshotCause::Tick).await.expect("cycle");
        assert_eq!(again.firewall, 1, "nothing changed");
        backend
            .host()
            .nft_apply(&serde_json::json!({"nftables": [
                {"add": {"table": {"family": "inet", "name": "someone_else"}}}
            ]}))
            .expect("a foreign table");
        let after = c.cycle(SnapshotCause::Tick).await.expect("cycle");
        assert_eq!(after.firewall, 2, "the change was noticed");
    });
}

/// The move step re-checks at the host what the backend decided on: it moves the very port
/// (index, name, MAC) from the bridge it was on, to the bridge of that name and index, and
/// refuses — changing nothing — when the port left that bridge meanwhile, was re-created
/// under its name, or the target bridge was re-created. Its undo moves it back.
#[test]
fn a_port_move_refuses_what_changed_since_it_was_decided() {
    use switchyard::plan::ports::PortRef;
    use switchyard::plan::Step;
    runtime().block_on(async {
        let host = FakeHost::manual("fake", FAKE_EPOCH_UNIX);
        let a = host
            .add_link("bra", LinkKind::Bridge, None, Traffic::Idle)
            .expect("bra");
        let b = host
            .add_link("brb", LinkKind::Bridge, None, Traffic::Idle)
            .expect("brb");
        let c = host
            .add_link("brc", LinkKind::Bridge, None, Traffic::Idle)
            .expect("brc");
        let mac = [0x52, 0x54, 0, 1, 2, 3];
        let tap = host
            .add_link("vnet9", LinkKind::Tun, Some(mac), Traffic::Idle)
            .expect("tap");
        host.set_master("vnet9", "bra").expect("on bra");
        let port = PortRef {
            ifindex: tap,
            name: "vnet9".into(),
            mac: Some(switchyard::model::MacAddr(mac)),
            guest: None,
        };
        let step = |from: &str, from_index, to: &str, to_index| Step::MovePort {
            port: port.clone(),
            from: from.into(),
            from_index,
            to: to.into(),
            to_index,
        };

        // Decided as on brc, but it is on bra: refused, left on bra.
        let e = host
            .run(&step("brc", c, "brb", b))
            .await
            .expect_err("not on brc");
        assert!(e.to_string().contains("no longer on brc"), "{e}");
        assert_eq!(master(&host), Some(a));
        // A target index that is not a bridge of that name: refused.
        let e = host
            .run(&step("bra", a, "brb", c))
            .await
            .expect_err("brb is not index c");
        assert!(e.to_string().contains("bridge brb is gone"), "{e}");
        assert_eq!(master(&host), Some(a));

        // As decided: moved, the very link.
        let moved = step("bra", a, "brb", b);
        host.run(&moved).await.expect("moves");
        assert_eq!(master(&host), Some(b));
        assert_eq!(moved.to_string(), "move vnet9 from bra to brb");
        // Undone: back on bra.
        host.run(&moved.undo().expect("an undo"))
            .await
            .expect("moves back");
        assert_eq!(master(&host), Some(a));

        // Re-created under its name (a new index): the old decision touches nothing.
        host.remove_link("vnet9").expect("gone");
        host.add_link("vnet9", LinkKind::Tun, Some(mac), Traffic::Idle)
            .expect("again");
        host.set_master("vnet9", "bra").expect("on bra");
        let e = host.run(&moved).await.expect_err("another link");
        assert!(e.to_string().contains("vnet9 is gone"), "{e}");
        assert_eq!(master(&host), Some(a));
    });
}

/// The master of `vnet9` on `host`, as observed.
fn master(host: &FakeHost) -> Option<u32> {
    let s = runtime_free_observe(host);
    s.link_by_name("vnet9").and_then(|l| l.master)
}

fn runtime_free_observe(host: &FakeHost) -> switchyard::state::HostState {
    futures::executor::block_on(host.observe()).expect("observe")
}
