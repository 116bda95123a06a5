//! `forward test` over the fake host: the fake answers a probe only through its own rules and
//! guests (the forward's DNAT rule must be loaded, the target a guest it knows that serves the
//! port), so the backend's reading of probes is tested without root; the namespace tests
//! (`forward_probe_ns.rs`) prove the same on the kernel.

use serde_json::json;
use switchyard::backend::{host_facts, Backend, BackendError, ForwardTest, ProbeOutcome};
use switchyard::host::fake::{FakeHost, GuestKind, Traffic, FAKE_EPOCH_UNIX};
use switchyard::host::Host;
use switchyard::model::forward::{Forward, GuestRef, PortRange, Proto, Target};
use switchyard::state::LinkKind;
use switchyard::store::Paths;

const NAT: &str = "<network>
  <name>lab</name>
  <forward mode='nat'/>
  <bridge name='sybr0' stp='off' delay='0'/>
  <ip address='192.168.150.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.150.10' end='192.168.150.20'/>
      <host mac='52:54:00:00:00:09' name='fixed' ip='192.168.150.99'/>
    </dhcp>
  </ip>
</network>";

const GUEST: &str = "52:54:00:00:00:09";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn world() -> (tempfile::TempDir, Backend<FakeHost>) {
    let home = tempfile::tempdir().expect("home");
    let host = FakeHost::manual("fake", FAKE_EPOCH_UNIX);
    host.add_link("eth0", LinkKind::Physical, None, Traffic::Idle)
        .expect("eth0");
    host.set_admin("eth0", true).expect("up");
    host.add_address("eth0", "198.51.100.10/24".parse().expect("literal"))
        .expect("address");
    host.add_route(
        "0.0.0.0/0".parse().expect("literal"),
        Some("198.51.100.1".parse().expect("literal")),
        "eth0",
    )
    .expect("default route");
    let backend = Backend::new(Paths::under(home.path()), host);
    (home, backend)
}

fn forward(port: u16, to_port: u16) -> Forward {
    Forward {
        proto: Proto::Tcp,
        port: PortRange::single(port),
        address: None,
        target: Target::Guest(GuestRef::Mac(GUEST.parse().expect("mac"))),
        to_port: Some(PortRange::single(to_port)),
        comment: None,
    }
}

fn outcomes(t: &ForwardTest) -> Vec<(String, ProbeOutcome)> {
    t.paths
        .iter()
        .map(|p| (format!("{:?}", p.path), p.outcome.clone()))
        .collect()
}

fn answered(how: &str) -> ProbeOutcome {
    ProbeOutcome::Answered { how: how.into() }
}

#[test]
fn the_fake_answers_only_through_its_rules_and_guests() {
    let (home, backend) = world();
    runtime().block_on(async {
        let state = backend.host().observe().await.expect("observe");
        backend
            .define_xml(NAT, &host_facts(&state))
            .expect("defines");
        let tcp8080 = PortRange::single(8080);

        // Refused: an unknown network, a stopped network, a forward it does not have.
        let err = backend.test_forward("nosuch", Proto::Tcp, tcp8080).await;
        assert!(err.is_err(), "{err:?}");
        backend
            .add_forward("lab", forward(8080, 80), false, None)
            .await
            .expect("adds");
        let err = backend.test_forward("lab", Proto::Tcp, tcp8080).await;
        assert!(matches!(err, Err(BackendError::NotActive(_))), "{err:?}");
        backend.start("lab", |_, _| {}).await.expect("starts");
        let err = backend
            .test_forward("lab", Proto::Udp, tcp8080)
            .await
            .expect_err("no udp forward");
        assert!(err.to_string().contains("has no forward udp/8080"), "{err}");

        let h = backend.host();
        h.add_guest(
            "fixed",
            GuestKind::Tap,
            "vnet0",
            Some("sybr0"),
            GUEST,
            Some(Some("fixed")),
            Traffic::Idle,
        )
        .expect("guest");
        h.serve(GUEST, Proto::Tcp, 80);

        let t = backend
            .test_forward("lab", Proto::Tcp, tcp8080)
            .await
            .expect("tests");
        assert_eq!(t.to, Some("192.168.150.99".parse().expect("literal")));
        for (path, outcome) in outcomes(&t) {
            assert_eq!(outcome, answered("SYN-ACK"), "{path}");
        }
        assert!(t.all_answered());
        assert_eq!(t.paths[0].to, "198.51.100.10:8080", "the uplink's address");
        let hits = backend.forwards(Some("lab")).await.expect("list")[0].hits;
        assert_eq!(hits, Some(3), "each probe counted once");

        // A port the guest does not serve: RSTs.
        backend
            .add_forward("lab", forward(8081, 81), false, None)
            .await
            .expect("adds");
        let t = backend
            .test_forward("lab", Proto::Tcp, PortRange::single(8081))
            .await
            .expect("tests");
        for (path, outcome) in outcomes(&t) {
            assert_eq!(outcome, answered("RST"), "{path}");
        }

        // Another table dropping forwarded traffic: named, the host's own path unaffected.
        h.nft_apply(&json!({ "nftables": [
            { "add": { "table": { "family": "inet", "name": "blocker" } } },
            { "add": { "chain": { "family": "inet", "table": "blocker", "name": "toguests",
                "type": "filter", "hook": "forward", "prio": 0, "policy": "drop" } } },
        ]}))
        .expect("foreign table");
        let t = backend
            .test_forward("lab", Proto::Tcp, tcp8080)
            .await
            .expect("tests");
        assert!(!t.all_answered());
        let blocked = ProbeOutcome::NoAnswer {
            counter_hit: true,
            stopped_by: Some(
                "may be dropped by table inet blocker (chain toguests at forward: policy drop)"
                    .into(),
            ),
        };
        assert_eq!(t.paths[0].outcome, blocked, "outside");
        assert_eq!(t.paths[1].outcome, answered("SYN-ACK"), "host");
        assert_eq!(t.paths[2].outcome, blocked, "hairpin");
        h.nft_apply(&json!({ "nftables": [
            { "delete": { "table": { "family": "inet", "name": "blocker" } } },
        ]}))
        .expect("gone");

        // The guest gone: the rule is reached, nobody answers.
        h.remove_link("vnet0").expect("guest leaves");
        let t = backend
            .test_forward("lab", Proto::Tcp, tcp8080)
            .await
            .expect("tests");
        for (path, outcome) in outcomes(&t) {
            let ProbeOutcome::NoAnswer {
                counter_hit: true, ..
            } = outcome
            else {
                panic!("{path}: {outcome:?}");
            };
        }

        // Stopped: no rules, and the test refuses.
        backend.stop("lab", |_, _| {}).await.expect("stops");
        let err = backend.test_forward("lab", Proto::Tcp, tcp8080).await;
        assert!(matches!(err, Err(BackendError::NotActive(_))), "{err:?}");
    });
    drop(home);
}
