//! RTM_GETSTATS counters against `ip -s -j link`, inside throwaway network namespaces.

mod telemetry_support;

use std::collections::BTreeMap;

use serde_json::Value;
use switchyard::host::netlink::stats::StatsSocket;
use switchyard::telemetry::LinkCounters;
use telemetry_support::{cmd, preflight, Netns};

/// Counters per ifindex as `ip -s -j link` reports them.
fn ip_link_counters() -> BTreeMap<u32, LinkCounters> {
    let json: Value =
        serde_json::from_str(&cmd(&["ip", "-s", "-j", "link", "show"])).expect("ip -j prints JSON");
    let links = json.as_array().expect("a list of links");
    links
        .iter()
        .map(|link| {
            let idx = link["ifindex"].as_u64().expect("ifindex") as u32;
            let s = &link["stats64"];
            let n = |dir: &str, field: &str| s[dir][field].as_u64().expect(field);
            let c = LinkCounters {
                rx_bytes: n("rx", "bytes"),
                tx_bytes: n("tx", "bytes"),
                rx_packets: n("rx", "packets"),
                tx_packets: n("tx", "packets"),
                rx_errors: n("rx", "errors"),
                tx_errors: n("tx", "errors"),
                rx_dropped: n("rx", "dropped"),
                tx_dropped: n("tx", "dropped"),
                multicast: n("rx", "multicast"),
            };
            (idx, c)
        })
        .collect()
}

fn ifindex(name: &str) -> u32 {
    let json: Value = serde_json::from_str(&cmd(&["ip", "-j", "link", "show", "dev", name]))
        .expect("ip -j prints JSON");
    json[0]["ifindex"].as_u64().expect("ifindex") as u32
}

/// Each of our counters lies between the `ip` readings taken just before and just after.
fn assert_bracketed(lo: &LinkCounters, ours: &LinkCounters, hi: &LinkCounters) {
    let (l, o, h) = (
        lo.to_array_for_test(),
        ours.to_array_for_test(),
        hi.to_array_for_test(),
    );
    for i in 0..l.len() {
        assert!(
            l[i] <= o[i] && o[i] <= h[i],
            "field {i}: {lo:?} <= {ours:?} <= {hi:?}"
        );
    }
}

trait Fields {
    fn to_array_for_test(&self) -> [u64; 9];
}

impl Fields for LinkCounters {
    fn to_array_for_test(&self) -> [u64; 9] {
        [
            self.rx_bytes,
            self.tx_bytes,
            self.rx_packets,
            self.tx_packets,
            self.rx_errors,
            self.tx_errors,
            self.rx_dropped,
            self.tx_dropped,
            self.multicast,
        ]
    }
}

/// Namespace `a` holds sy0, namespace `b` its veth peer sy1; both addressed and up.
fn veth_pair(test: &str) -> Option<(Netns, Netns)> {
    preflight(test, &[("busybox", "--help")])?;
    let a = Netns::new(test)?;
    let b = Netns::new(test)?;
    let b_tid = b.tid().to_string();
    a.run(move || {
        cmd(&[
            "ip", "link", "add", "name", "sy0", "type", "veth", "peer", "name", "sy1",
        ]);
        cmd(&["ip", "link", "set", "dev", "sy1", "netns", &b_tid]);
        cmd(&["ip", "addr", "add", "10.250.0.1/24", "dev", "sy0"]);
        cmd(&["ip", "link", "set", "dev", "sy0", "up"]);
    });
    b.run(|| {
        cmd(&["ip", "addr", "add", "10.250.0.2/24", "dev", "sy1"]);
        cmd(&["ip", "link", "set", "dev", "sy1", "up"]);
    });
    Some((a, b))
}

fn ping_peer(count: &str) {
    cmd(&["busybox", "ping", "-c", count, "-w", "10", "10.250.0.2"]);
}

#[test]
fn dump_matches_ip_link_and_sees_ping_traffic() {
    let Some((a, _b)) = veth_pair("dump_matches_ip_link_and_sees_ping_traffic") else {
        return;
    };
    a.run(|| {
        ping_peer("3");
        let mut sock = StatsSocket::open().expect("open stats socket");
        let before = ip_link_counters();
        let ours: BTreeMap<u32, LinkCounters> = sock.dump().expect("dump").into_iter().collect();
        let after = ip_link_counters();
        let ifindexes = |m: &BTreeMap<u32, LinkCounters>| m.keys().copied().collect::<Vec<_>>();
        assert_eq!(
            ifindexes(&ours),
            ifindexes(&before),
            "exactly the namespace's links"
        );
        for (idx, c) in &ours {
            assert_bracketed(&before[idx], c, &after[idx]);
        }
        let sy0 = ours[&ifindex("sy0")];
        assert!(sy0.tx_packets >= 3 && sy0.rx_packets >= 3, "{sy0:?}");
        assert!(sy0.tx_bytes >= 3 * 84 && sy0.rx_bytes >= 3 * 84, "{sy0:?}");
    });
}

#[test]
fn socket_is_reused_and_stays_in_its_namespace() {
    let Some((a, _b)) = veth_pair("socket_is_reused_and_stays_in_its_namespace") else {
        return;
    };
    let (mut sock, sy0) = a.run(|| (StatsSocket::open().expect("open"), ifindex("sy0")));
    let first: BTreeMap<u32, LinkCounters> = sock.dump().expect("dump").into_iter().collect();
    a.run(|| ping_peer("2"));
    // Dumped from this (test) thread: the socket still reads namespace a, where it was opened.
    let second: BTreeMap<u32, LinkCounters> = sock.dump().expect("dump").into_iter().collect();
    assert_eq!(first.len(), 2, "lo and sy0 only: {first:?}");
    assert!(second[&sy0].tx_packets >= first[&sy0].tx_packets + 2);
    for _ in 0..50 {
        assert_eq!(sock.dump().expect("repeated dumps").len(), 2);
    }
}

#[test]
fn dump_of_hundreds_of_links_spans_datagrams() {
    let test = "dump_of_hundreds_of_links_spans_datagrams";
    if preflight(test, &[]).is_none() {
        return;
    }
    let Some(ns) = Netns::new(test) else { return };
    let batch = tempfile::NamedTempFile::new().expect("temp file");
    let lines: String = (0..200)
        .map(|i| format!("link add name m{i}a type veth peer name m{i}b\n"))
        .collect();
    std::fs::write(batch.path(), lines).expect("write batch");
    let path = batch.path().to_str().expect("utf-8 temp path").to_string();
    ns.run(move || {
        cmd(&["ip", "-batch", &path]);
        let mut sock = StatsSocket::open().expect("open");
        let ours: Vec<u32> = sock
            .dump()
            .expect("dump")
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        let mut sorted = ours.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ours.len(), "no link twice");
        let theirs: Vec<u32> = ip_link_counters().into_keys().collect();
        assert_eq!(sorted, theirs);
        assert_eq!(theirs.len(), 401, "lo and 400 veth ends");
    });
}
