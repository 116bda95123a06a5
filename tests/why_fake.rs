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
