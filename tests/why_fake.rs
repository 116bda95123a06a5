//! `why` over the fake host: the backend's side of it (which network, which probe address,
//! the tracer's JSON applied to and removed from the fake's ruleset, the report read from a
//! scripted trace) without root. The kernel's side is `why_ns.rs`.

use serde_json::json;
use switchyard::backend::{host_facts, Backend, WhyRequest};
use switchyard::host::fake::{FakeHost, Traffic, FAKE_EPOCH_UNIX};
use switchyard::host::Host;
use switchyard::model::why::{Verdict, WhyProto};
use switchyard::state::LinkKind;
use switchyard::store::Paths;

const NAT: &str = "<network><name>lab</name><forward mode='nat'/>\
  <bridge name='sybr0' stp='off' delay='0'/>\
  <ip address='192.168.150.1' prefix='24'><dhcp><range start='192.168.150.10' end='192.168.150.20'/>\
  <host mac='52:54:00:00:00:09' name='fixed' ip='192.168.150.254'/></dhcp></ip></network>";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn request(to: &str) -> WhyRequest {
    let (to, port) = switchyard::model::why::parse_target(to).expect("target");
    WhyRequest {
        network: "lab".into(),
        to,
        port,
        proto: WhyProto::Tcp,
        from_guest: None,
        inbound: false,
        from: None,
    }
}

#[test]
fn why_over_the_fake_host() {
    runtime().block_on(async {
        let home = tempfile::tempdir().expect("home");
        let host = FakeHost::manual("fake", FAKE_EPOCH_UNIX);
        host.add_link("eth0", LinkKind::Physical, None, Traffic::Idle)
            .expect("eth0");
        let backend = Backend::new(Paths::under(home.path()), host);
        let state = backend.host().observe().await.expect("observe");
        backend
            .define_xml(NAT, &host_facts(&state))
            .expect("defines");

        // Not running: refused before anything is touched.
        let err = backend.why(&request("203.0.113.1:80")).await.unwrap_err();
        assert!(err.to_string().contains("not active"), "{err}");

        backend.start("lab", |_, _| {}).await.expect("starts");
        let before = backend.host().nft_tables();
        // The fake forwards no packets: it says so rather than invent a path.
        let err = backend.why(&request("203.0.113.1:80")).await.unwrap_err();
        assert!(err.to_string().contains("no packet path"), "{err}");

        // A foreign table whose forward chain drops, and the trace the kernel would print.
        backend
            .host()
            .nft_apply(&json!({"nftables": [
                {"add": {"table": {"family": "ip", "name": "filter"}}},
                {"add": {"chain": {"family": "ip", "table": "filter", "name": "FORWARD",
                    "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}}]}))
            .expect("foreign table");
        // The reserved address .254 is taken: the probe comes from .253.
        backend.host().script_trace(vec![
            "trace id 1 inet switchyard why_mark packet: iif \"sybr0\" ip saddr 192.168.150.253 ip id 3".into(),
            "trace id 2 inet switchyard why_fwd packet: iif \"sybr0\" ip id 3".into(),
            "trace id 2 ip filter FORWARD packet: iif \"sybr0\" ip id 3".into(),
            "trace id 2 ip filter FORWARD policy drop".into(),
        ]);
        let out = backend.why(&request("203.0.113.1:80")).await.expect("why");
        assert_eq!(out.from.to_string(), "192.168.150.253");
        assert_eq!(out.report.verdict, Verdict::Dropped);
        let by = out.report.by.expect("by");
        assert_eq!((by.table.as_str(), by.chain.as_str()), ("filter", "FORWARD"));
        let fix = out.report.fix.expect("fix").text();
        assert!(
            fix.contains("iptables -t filter -I FORWARD -i sybr0 -j ACCEPT"),
            "{fix}"
        );
        // The tracer's chains came and went.
        let listing = backend
            .host()
            .nft_ruleset()
            .await
            .expect("ruleset")
            .to_string();
        assert!(!listing.contains("why_"), "{listing}");
        let mut after = backend.host().nft_tables();
        after.retain(|t| t != "ip filter");
        assert_eq!(before, after);
    });
}

/// The Docker drop of the test above, before and after the fix.
fn docker_drop() -> Vec<String> {
    vec![
        "trace id 1 inet switchyard why_mark packet: iif \"sybr0\" ip saddr 192.168.150.253 ip id 3".into(),
        "trace id 2 inet switchyard why_fwd packet: iif \"sybr0\" ip id 3".into(),
        "trace id 2 ip filter FORWARD packet: iif \"sybr0\" ip id 3".into(),
        "trace id 2 ip filter FORWARD rule counter jump DOCKER-USER # handle 9 (verdict jump DOCKER-USER)".into(),
        "trace id 2 ip filter DOCKER-USER rule counter return # handle 5 (verdict return)".into(),
        "trace id 2 ip filter FORWARD policy drop".into(),
    ]
}

fn docker_open() -> Vec<String> {
    vec![
        "trace id 1 inet switchyard why_mark packet: iif \"sybr0\" ip saddr 192.168.150.253 ip id 4".into(),
        "trace id 2 inet switchyard why_fwd packet: iif \"sybr0\" ip id 4".into(),
        "trace id 2 ip filter FORWARD packet: iif \"sybr0\" ip id 4".into(),
        "trace id 2 ip filter FORWARD rule counter jump DOCKER-USER # handle 9 (verdict jump DOCKER-USER)".into(),
        "trace id 2 ip filter DOCKER-USER rule iifname \"sybr0\" accept # handle 20 (verdict accept)".into(),
        "trace id 3 inet switchyard why_post packet: oif \"eth0\" ip id 4".into(),
    ]
}

#[test]
fn a_confirmed_fix_runs_the_reports_argv_then_traces_again() {
    runtime().block_on(async {
        let home = tempfile::tempdir().expect("home");
        let host = FakeHost::manual("fake", FAKE_EPOCH_UNIX);
        host.add_link("eth0", LinkKind::Physical, None, Traffic::Idle)
            .expect("eth0");
        let backend = Backend::new(Paths::under(home.path()), host);
        let state = backend.host().observe().await.expect("observe");
        backend
            .define_xml(NAT, &host_facts(&state))
            .expect("defines");
        backend.start("lab", |_, _| {}).await.expect("starts");
        backend
            .host()
            .nft_apply(&json!({"nftables": [
                {"add": {"table": {"family": "ip", "name": "filter"}}},
                {"add": {"chain": {"family": "ip", "table": "filter", "name": "FORWARD",
                    "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}},
                {"add": {"chain": {"family": "ip", "table": "filter", "name": "DOCKER-USER"}}}]}))
            .expect("Docker's table");
        backend.host().script_trace(docker_drop());
        let req = request("203.0.113.1:80");
        let before = backend.why(&req).await.expect("why");
        assert_eq!(before.report.verdict, Verdict::Dropped);
        let fix = before.report.fix.clone().expect("a fix");
        assert!(fix.runnable(), "{fix}");
        let argv: Vec<Vec<String>> = [
            vec![
                "iptables",
                "-I",
                "DOCKER-USER",
                "-i",
                "sybr0",
                "-j",
                "ACCEPT",
            ],
            vec![
                "iptables",
                "-I",
                "DOCKER-USER",
                "-o",
                "sybr0",
                "-m",
                "conntrack",
                "--ctstate",
                "RELATED,ESTABLISHED",
                "-j",
                "ACCEPT",
            ],
        ]
        .iter()
        .map(|c| c.iter().map(|w| (*w).to_owned()).collect())
        .collect();
        assert_eq!(fix.commands, argv);

        // A failing command: its words come back, nothing else is traced or recorded.
        backend
            .host()
            .fail_next_fix("iptables: No chain/target/match by that name.");
        let err = backend
            .apply_why_fix(&fix.commands, &req)
            .await
            .expect_err("fails");
        assert!(err.to_string().contains("No chain/target/match"), "{err}");
        assert!(backend.host().fix_runs().is_empty());

        // Another program is refused before the host is asked.
        let sh = vec![vec!["sh".to_owned(), "-c".into(), "reboot".into()]];
        let err = backend.apply_why_fix(&sh, &req).await.expect_err("refused");
        assert!(err.to_string().contains("'sh' is not a program"), "{err}");
        assert!(backend.host().fix_runs().is_empty());

        backend.host().script_trace_after_fix(docker_open());
        let after = backend
            .apply_why_fix(&fix.commands, &req)
            .await
            .expect("applied and traced again");
        assert_eq!(backend.host().fix_runs(), [argv]);
        assert_eq!(
            after.report.verdict,
            Verdict::Delivered,
            "{:?}",
            after.report
        );
        assert_eq!(after.report.fix, None);
        let chains: Vec<&str> = after.report.path.iter().map(|h| h.chain.as_str()).collect();
        assert_eq!(chains, ["FORWARD", "DOCKER-USER"]);

        // Not running: refused before any command.
        backend.stop("lab", |_, _| {}).await.expect("stops");
        let err = backend
            .apply_why_fix(&fix.commands, &req)
            .await
            .expect_err("not active");
        assert!(err.to_string().contains("not active"), "{err}");
        assert_eq!(backend.host().fix_runs().len(), 1);
    });
}
