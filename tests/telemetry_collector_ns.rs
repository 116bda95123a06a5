//! The collector on the real kernel, inside throwaway namespaces: link changes are seen
//! without waiting for the poll, the interval changes at run time, guest MACs come from the
//! bridge, addresses from the neighbour table and then from a lease file as soon as it changes.

mod support;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::traffic::{arp_request, ipv4_checksum, mac_of, open_tap, udp_frame};
use support::{Guest, TestNetns};
use switchyard::host::RealHost;
use switchyard::model::MacAddr;
use switchyard::telemetry::{
    Collector, CollectorHandle, CollectorOptions, IpSource, NetworkPorts, PortInfo, PortsSnapshot,
    SnapshotCause,
};
use tokio::sync::watch;

fn lab(bridge: &str, lease_file: Option<std::path::PathBuf>) -> Vec<NetworkPorts> {
    vec![NetworkPorts {
        network: "lab".into(),
        bridge: Some(bridge.into()),
        lease_file,
        macvtap_pool: vec![],
    }]
}

async fn start(
    networks: watch::Receiver<Vec<NetworkPorts>>,
    interval: Duration,
) -> CollectorHandle {
    let options = CollectorOptions {
        interval,
        ..CollectorOptions::default()
    };
    let host = std::sync::Arc::new(RealHost::connect().await.expect("netlink"));
    Collector::open(host, networks, options)
        .await
        .expect("open collector")
        .start()
        .await
        .expect("first snapshot")
}

/// Waits (at most `limit`) for a snapshot satisfying `want`; returns it with the time taken.
async fn wait_for(
    rx: &mut watch::Receiver<Arc<PortsSnapshot>>,
    limit: Duration,
    want: impl Fn(&PortsSnapshot) -> bool,
) -> Option<(Arc<PortsSnapshot>, Duration)> {
    let t0 = Instant::now();
    loop {
        let snap = Arc::clone(&rx.borrow_and_update());
        if want(&snap) {
            return Some((snap, t0.elapsed()));
        }
        let left = limit.checked_sub(t0.elapsed())?;
        match tokio::time::timeout(left, rx.changed()).await {
            Ok(Ok(())) => {}
            _ => return None,
        }
    }
}

fn port<'a>(s: &'a PortsSnapshot, name: &str) -> Option<&'a PortInfo> {
    s.ports.iter().find(|p| p.ifname == name)
}

#[test]
fn frames_written_by_the_tests_are_well_formed() {
    let a = ([2, 0, 0, 0, 0, 1], Ipv4Addr::new(10, 0, 0, 1));
    let b = ([2, 0, 0, 0, 0, 2], Ipv4Addr::new(10, 0, 0, 2));
    let f = udp_frame(a, b, 9, 100);
    assert_eq!(f.len(), support::traffic::UDP_FRAME_OVERHEAD + 100);
    assert_eq!(ipv4_checksum(&f[14..34]), 0, "valid header checksum");
    assert_eq!(arp_request(a.0, a.1, b.1).len(), 42);
}

/// The inode number of the calling thread's network namespace.
fn thread_netns_inode() -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/thread-self/ns/net")
        .expect("namespace of this thread")
        .ino()
}

#[test]
fn snapshots_name_the_namespace_their_links_were_read_in() {
    let Some(ns) = TestNetns::new("colns") else {
        return;
    };
    let outside = thread_netns_inode();
    let (inside, seen) = ns.block_on(|| async {
        let (_tx, rx) = watch::channel(Vec::new());
        let handle = start(rx, Duration::from_secs(10)).await;
        let seen = handle.latest().netns;
        (thread_netns_inode(), seen)
    });
    assert_eq!(
        seen, inside,
        "the namespace the collector's host was opened in"
    );
    assert_ne!(seen, outside, "not the test process's own");
}

#[test]
fn link_changes_arrive_before_the_poll() {
    let Some(ns) = TestNetns::new("colev") else {
        return;
    };
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.ip(&["link", "set", "br0", "up"]);
    let tap_name = "vmtap0";
    ns.block_on(|| async {
        let (_tx, rx) = watch::channel(lab("br0", None));
        let handle = start(rx, Duration::from_secs(10)).await;
        let mut snaps = handle.subscribe();
        assert!(handle.latest().ports.is_empty());
        assert_eq!(handle.latest().cause, SnapshotCause::Start);

        // A tap appears (opened by this process, as QEMU would) and joins the bridge.
        let tap = open_tap(tap_name);
        ns.ip(&["link", "set", tap_name, "master", "br0", "up"]);
        let (snap, took) = wait_for(&mut snaps, Duration::from_secs(2), |s| {
            port(s, tap_name).is_some()
        })
        .await
        .expect("the tap shows up well before the 10 s poll");
        assert!(took < Duration::from_secs(1), "took {took:?}");
        assert_eq!(snap.cause, SnapshotCause::Topology);
        let p = port(&snap, tap_name).expect("port");
        let comm = std::fs::read_to_string("/proc/self/comm").expect("comm");
        let want = format!("{} (pid {})", comm.trim(), std::process::id());
        assert_eq!(
            p.guest.as_deref(),
            Some(want.as_str()),
            "owner named on the same snapshot"
        );
        assert_eq!(
            (p.kind.as_str(), p.network.as_deref()),
            ("tap", Some("lab"))
        );
        assert!(snap.counters_of(p.ifindex).is_some());
        assert!(snap.host.link_by_name(tap_name).is_some());

        // Leaving the bridge, then disappearing, are both seen at once.
        ns.ip(&["link", "set", tap_name, "nomaster"]);
        let (_, took) = wait_for(&mut snaps, Duration::from_secs(2), |s| {
            port(s, tap_name).is_none() && s.host.link_by_name(tap_name).is_some()
        })
        .await
        .expect("released from the bridge");
        assert!(took < Duration::from_secs(1), "took {took:?}");
        drop(tap);
        let (snap, took) = wait_for(&mut snaps, Duration::from_secs(2), |s| {
            s.host.link_by_name(tap_name).is_none()
        })
        .await
        .expect("closed tap is gone");
        assert!(took < Duration::from_secs(1), "took {took:?}");
        assert!(
            snap.topology >= 3,
            "one link dump per change, got {}",
            snap.topology
        );
    });
}

#[test]
fn a_new_network_list_is_applied_at_once() {
    let Some(ns) = TestNetns::new("colnet") else {
        return;
    };
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    ns.ip(&["link", "set", "va", "master", "br0"]);
    ns.block_on(|| async {
        let (tx, rx) = watch::channel(Vec::new());
        let handle = start(rx, Duration::from_secs(10)).await;
        let mut snaps = handle.subscribe();
        let first = handle.latest();
        assert_eq!(port(&first, "va").map(|p| p.network.clone()), Some(None));
        tx.send_replace(lab("br0", None));
        let (snap, took) = wait_for(&mut snaps, Duration::from_secs(2), |s| {
            port(s, "va").is_some_and(|p| p.network.as_deref() == Some("lab"))
        })
        .await
        .expect("the port joins network lab");
        assert!(took < Duration::from_secs(1), "took {took:?}");
        assert_eq!(snap.cause, SnapshotCause::Networks);
        assert!(
            Arc::ptr_eq(&first.host, &snap.host),
            "no link dump for a network change"
        );
        drop(tx);
        // The caller going away leaves the last list in place and the collector running.
        handle.set_interval(Duration::from_millis(50));
        let (snap, _) = wait_for(&mut snaps, Duration::from_secs(2), |s| {
            s.cause == SnapshotCause::Tick
        })
        .await
        .expect("still ticking");
        assert_eq!(
            port(&snap, "va").and_then(|p| p.network.as_deref()),
            Some("lab")
        );
    });
}

#[test]
fn an_event_overrun_means_dumping_everything_again() {
    use switchyard::host::HostEvent;
    use switchyard::telemetry::collector::EventEffect;
    let Some(ns) = TestNetns::new("colovr") else {
        return;
    };
    ns.block_on(|| async {
        let (_tx, rx) = watch::channel(Vec::new());
        let host = std::sync::Arc::new(RealHost::connect().await.expect("netlink"));
        let mut c = Collector::open(host, rx, CollectorOptions::default())
            .await
            .expect("open");
        let first = c.cycle(SnapshotCause::Start).await.expect("cycle");
        let steady = c.cycle(SnapshotCause::Tick).await.expect("cycle");
        assert_eq!(
            steady.topology, first.topology,
            "no link dump without a change"
        );
        assert_eq!(c.apply_event(HostEvent::Overrun), EventEffect::Topology);
        assert!(c.topology_pending());
        let after = c.cycle(SnapshotCause::Topology).await.expect("cycle");
        assert_eq!(after.topology, first.topology + 1);
        assert!(!c.topology_pending());
    });
}

#[test]
fn interval_changes_at_run_time() {
    let Some(ns) = TestNetns::new("colint") else {
        return;
    };
    ns.block_on(|| async {
        let (_tx, rx) = watch::channel(Vec::new());
        let handle = start(rx, Duration::from_secs(10)).await;
        let mut snaps = handle.subscribe();
        snaps.borrow_and_update();
        handle.set_interval(Duration::from_millis(50));
        assert_eq!(handle.interval(), Duration::from_millis(50));
        let t0 = Instant::now();
        let mut ats = Vec::new();
        while ats.len() < 4 {
            tokio::time::timeout(Duration::from_secs(2), snaps.changed())
                .await
                .expect("ticks at the new interval")
                .expect("collector alive");
            let s = Arc::clone(&snaps.borrow_and_update());
            assert_eq!(s.cause, SnapshotCause::Tick);
            ats.push(s.at);
        }
        assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
        assert!(ats.windows(2).all(|w| w[1] > w[0]), "monotonic: {ats:?}");
    });
}

#[test]
fn guest_mac_from_the_bridge_ip_from_neighbours_then_from_leases() {
    let Some(ns) = TestNetns::new("colip") else {
        return;
    };
    if !support::require_tool("busybox") {
        return;
    }
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.ip(&["addr", "add", "10.9.0.1/24", "dev", "br0"]);
    ns.ip(&["link", "set", "br0", "up"]);
    let guest = Guest::attach(&ns, "br0", "cg1");
    guest.exec(&["ip", "addr", "add", "10.9.0.2/24", "dev", "eth0"]);
    let guest_mac = MacAddr(mac_of(guest.netns().name(), "eth0")).to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let lease_file = dir.path().join("lab.leases");
    let host_end = guest.host_end().to_owned();
    ns.block_on(|| async {
        let (_tx, rx) = watch::channel(lab("br0", Some(lease_file.clone())));
        let handle = start(rx, Duration::from_millis(100)).await;
        let mut snaps = handle.subscribe();
        let p = port(&handle.latest(), &host_end)
            .cloned()
            .expect("veth port");
        assert_eq!(
            p.guest.as_deref(),
            Some(guest.netns().name()),
            "peer namespace"
        );
        assert_eq!(p.kind, "veth");

        // The guest talks: the bridge learns its MAC, the host its ARP entry.
        let out = guest.exec(&["busybox", "ping", "-c", "1", "-W", "2", "10.9.0.1"]);
        assert!(out.status.success(), "ping: {out:?}");
        let (snap, _) = wait_for(&mut snaps, Duration::from_secs(3), |s| {
            port(s, &host_end).is_some_and(|p| p.ip.is_some())
        })
        .await
        .expect("address from the neighbour table");
        let p = port(&snap, &host_end).expect("port");
        assert_eq!(p.guest_mac.as_deref(), Some(guest_mac.as_str()));
        assert_eq!(p.ip.as_deref(), Some("10.9.0.2"));
        assert_eq!(p.ip_source, Some(IpSource::Neighbour));

        // A lease for that MAC wins, as soon as the file changes.
        let line = format!("0 {guest_mac} 10.9.0.77 cg1 *\n");
        std::fs::write(&lease_file, line).expect("write lease file");
        let (snap, took) = wait_for(&mut snaps, Duration::from_secs(2), |s| {
            port(s, &host_end).is_some_and(|p| p.ip_source == Some(IpSource::Lease))
        })
        .await
        .expect("lease noticed");
        assert!(took < Duration::from_millis(500), "took {took:?}");
        assert_eq!(
            port(&snap, &host_end).and_then(|p| p.ip.as_deref()),
            Some("10.9.0.77")
        );
        assert_eq!(snap.leases.len(), 1);
    });
}
