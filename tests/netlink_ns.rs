//! Real-kernel tests of the host primitives, each inside network namespaces it creates.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use support::links::{bridge, has_link, ip, link, net, wait_oper_state};
use support::{ip_netns_list, require_root_or_skip, require_tool, stdout, Guest, TestNetns};
use switchyard::host::netns::current_netns_id;
use switchyard::host::sysctl::{read_sysctl, write_sysctl};
use switchyard::host::{
    in_new_netns, BridgeAttrs, BridgeSpec, HostError, LinkInfo, LinkKind, MacvtapMode, Netlink,
    NetnsGuard,
};

#[test]
fn bridge_is_created_with_mac_mtu_stp_and_delay() {
    let Some(ns) = TestNetns::new("br") else {
        return;
    };
    let (stp_br, plain_br) = ns.with_netlink(|nl| async move {
        let spec = BridgeSpec {
            name: "sybr0".into(),
            mac: Some(switchyard::model::MacAddr([
                0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01,
            ])),
            mtu: Some(1400),
            stp: true,
            forward_delay_cs: 300,
            ifindex: None,
        };
        nl.create_bridge(&spec).await.expect("create sybr0");
        nl.create_bridge(&bridge("sybr1"))
            .await
            .expect("create sybr1");
        (link(&nl, "sybr0").await, link(&nl, "sybr1").await)
    });
    assert_eq!(stp_br.kind, LinkKind::Bridge);
    assert_eq!(stp_br.mac, Some([0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01]));
    assert_eq!(stp_br.mtu, 1400);
    assert_eq!(
        stp_br.bridge,
        Some(BridgeAttrs {
            stp: true,
            forward_delay_cs: 300
        })
    );
    assert!(
        !stp_br.admin_up,
        "created down; the caller decides when to bring it up"
    );
    assert!(stp_br.stats.is_some());
    assert_eq!(
        plain_br.bridge,
        Some(BridgeAttrs {
            stp: false,
            forward_delay_cs: 0
        })
    );
    let details = stdout(&ns.ip(&["-d", "link", "show", "sybr0"]));
    assert!(
        details.contains("stp_state 1") && details.contains("forward_delay 300"),
        "{details}"
    );
}

#[test]
fn veth_enslaved_to_bridge_shows_master_and_peer() {
    let Some(ns) = TestNetns::new("veth") else {
        return;
    };
    let (br, port, peer, released) = ns.with_netlink(|nl| async move {
        nl.create_bridge(&bridge("sybr0")).await.expect("bridge");
        nl.create_veth("vport0", "vpeer0").await.expect("veth");
        nl.set_master("vport0", "sybr0").await.expect("enslave");
        for name in ["sybr0", "vport0", "vpeer0"] {
            nl.set_up(name).await.expect("up");
        }
        let state = nl.observe().await.expect("observe");
        let br = state.link_by_name("sybr0").expect("bridge").clone();
        let ports: Vec<String> = state.ports_of(br.ifindex).map(|l| l.name.clone()).collect();
        assert_eq!(ports, ["vport0"]);
        let port = wait_oper_state(&nl, "vport0", "up").await;
        let peer = link(&nl, "vpeer0").await;
        nl.set_nomaster("vport0").await.expect("release");
        (br, port, peer, link(&nl, "vport0").await)
    });
    assert_eq!(port.kind, LinkKind::Veth);
    assert_eq!(port.master, Some(br.ifindex));
    assert_eq!(
        port.parent,
        Some(peer.ifindex),
        "IFLA_LINK of a veth is its peer"
    );
    assert_eq!(peer.parent, Some(port.ifindex));
    assert!(port.admin_up && br.admin_up);
    assert_eq!(port.oper_state, "up");
    assert_eq!(released.master, None);
}

#[test]
fn addresses_v4_and_v6_are_added_and_deleted() {
    let Some(ns) = TestNetns::new("addr") else {
        return;
    };
    let v4 = net("192.168.77.1/24");
    let v6 = net("fd77::1/64");
    let (added, dup, removed) = ns.with_netlink(|nl| async move {
        nl.create_bridge(&bridge("sybr0")).await.expect("bridge");
        nl.set_up("sybr0").await.expect("up");
        nl.add_addr("sybr0", v4).await.expect("add v4");
        nl.add_addr("sybr0", v6).await.expect("add v6");
        let index = nl.link_index("sybr0").await.expect("index");
        let state = nl.observe().await.expect("observe");
        let added: Vec<IpNet> = state.addrs_of(index).copied().collect();
        let dup = nl.add_addr("sybr0", v4).await;
        nl.del_addr("sybr0", v4).await.expect("del v4");
        nl.del_addr("sybr0", v6).await.expect("del v6");
        let state = nl.observe().await.expect("observe");
        let removed: Vec<IpNet> = state.addrs_of(index).copied().collect();
        (added, dup, removed)
    });
    assert!(added.contains(&v4) && added.contains(&v6), "{added:?}");
    assert!(matches!(dup, Err(HostError::Exists { .. })), "{dup:?}");
    assert!(
        !removed.contains(&v4) && !removed.contains(&v6),
        "{removed:?}"
    );
    // Only the link-local IPv6 address the kernel adds may remain.
    assert!(
        removed.iter().all(|n| n.to_string().starts_with("fe80:")),
        "{removed:?}"
    );
}

#[test]
fn ipv4_addresses_get_the_prefix_broadcast() {
    let Some(ns) = TestNetns::new("brd") else {
        return;
    };
    ns.with_netlink(|nl| async move {
        nl.create_bridge(&bridge("sybr0")).await.expect("bridge");
        nl.add_addr("sybr0", net("10.77.3.1/22"))
            .await
            .expect("add");
    });
    let shown = stdout(&ns.ip(&["-4", "addr", "show", "dev", "sybr0"]));
    assert!(
        shown.contains("inet 10.77.3.1/22 brd 10.77.3.255"),
        "{shown}"
    );
}

#[test]
fn routes_via_gateway_and_device_are_added_and_deleted() {
    let Some(ns) = TestNetns::new("route") else {
        return;
    };
    let (with_routes, after, missing) = ns.with_netlink(|nl| async move {
        nl.create_veth("vr0", "vr0p").await.expect("veth");
        nl.set_up("vr0").await.expect("up");
        nl.set_up("vr0p").await.expect("up peer");
        nl.add_addr("vr0", net("10.200.0.1/24"))
            .await
            .expect("v4 addr");
        nl.add_addr("vr0", net("fd20::1/64"))
            .await
            .expect("v6 addr");
        nl.add_route(net("10.99.0.0/16"), Some(ip("10.200.0.254")), None)
            .await
            .expect("v4 via");
        nl.add_route(net("fd99::/64"), Some(ip("fd20::254")), Some("vr0"))
            .await
            .expect("v6 via");
        nl.add_route(net("10.98.0.0/16"), None, Some("vr0"))
            .await
            .expect("dev route");
        let with_routes = nl.dump_routes().await.expect("dump");
        nl.del_route(net("10.99.0.0/16"), Some(ip("10.200.0.254")), None)
            .await
            .expect("del v4");
        nl.del_route(net("fd99::/64"), Some(ip("fd20::254")), Some("vr0"))
            .await
            .expect("del v6");
        nl.del_route(net("10.98.0.0/16"), None, Some("vr0"))
            .await
            .expect("del dev route");
        let after = nl.dump_routes().await.expect("dump");
        let missing = nl
            .del_route(net("10.99.0.0/16"), Some(ip("10.200.0.254")), None)
            .await;
        (with_routes, after, missing)
    });
    let find = |routes: &[switchyard::host::RouteInfo], dest: &str| {
        routes.iter().find(|r| r.dest == net(dest)).cloned()
    };
    let v4 = find(&with_routes, "10.99.0.0/16").expect("v4 route present");
    assert_eq!(v4.gateway, Some(ip("10.200.0.254")));
    assert_eq!((v4.table, v4.protocol), (254, 4));
    assert!(v4.oif.is_some());
    let v6 = find(&with_routes, "fd99::/64").expect("v6 route present");
    assert_eq!(v6.gateway, Some(ip("fd20::254")));
    let dev_route = find(&with_routes, "10.98.0.0/16").expect("device route present");
    assert_eq!((dev_route.gateway, dev_route.oif), (None, v4.oif));
    assert!(
        find(&with_routes, "10.200.0.0/24").is_some(),
        "connected route of the address"
    );
    for gone in ["10.99.0.0/16", "fd99::/64", "10.98.0.0/16"] {
        assert!(find(&after, gone).is_none(), "{gone} still present");
    }
    let err = missing.expect_err("deleting a missing route fails");
    assert_eq!(err.errno(), Some(libc::ESRCH), "{err}");
    assert!(
        err.to_string()
            .starts_with("delete route 10.99.0.0/16 via 10.200.0.254"),
        "{err}"
    );
}

#[test]
fn macvtap_modes_parent_and_mac_read_back() {
    let Some(ns) = TestNetns::new("mvtap") else {
        return;
    };
    let mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    let modes = [
        ("mt0", MacvtapMode::Bridge, "bridge"),
        ("mt1", MacvtapMode::Vepa, "vepa"),
        ("mt2", MacvtapMode::Private, "private"),
    ];
    let (taps, parent) = ns.with_netlink(|nl| async move {
        nl.create_veth("vp0", "vp0p").await.expect("parent");
        let mut taps = Vec::new();
        for (name, mode, _) in modes {
            let index = nl.create_macvtap(name, "vp0", mode, Some(mac)).await;
            taps.push((index.expect(name), link(&nl, name).await));
        }
        (taps, link(&nl, "vp0").await)
    });
    for ((index, tap), (name, _, mode)) in taps.iter().zip(modes) {
        assert_eq!(tap.name, name);
        assert_eq!(tap.kind, LinkKind::Macvtap, "{name}");
        assert_eq!(tap.macvtap_mode.as_deref(), Some(mode), "{name}");
        assert_eq!(
            tap.ifindex, *index,
            "{name}: returned index matches the dump"
        );
        assert_eq!(tap.parent, Some(parent.ifindex), "{name}");
        assert_eq!(tap.mac, Some(mac), "{name}");
    }
}

#[test]
fn passthru_macvtap_is_exclusive_per_parent() {
    let Some(ns) = TestNetns::new("pthru") else {
        return;
    };
    let (tap, parent, second, beside_others) = ns.with_netlink(|nl| async move {
        nl.create_veth("vp0", "vp0p").await.expect("parent 0");
        nl.create_veth("vp1", "vp1p").await.expect("parent 1");
        let pass = MacvtapMode::Passthru;
        nl.create_macvtap("mt0", "vp0", pass, None)
            .await
            .expect("first passthru");
        let second = nl.create_macvtap("mt1", "vp0", pass, None).await;
        nl.create_macvtap("mt2", "vp1", MacvtapMode::Bridge, None)
            .await
            .expect("bridge mode");
        let beside_others = nl.create_macvtap("mt3", "vp1", pass, None).await;
        (
            link(&nl, "mt0").await,
            link(&nl, "vp0").await,
            second,
            beside_others,
        )
    });
    assert_eq!(tap.macvtap_mode.as_deref(), Some("passthru"));
    assert_eq!(tap.mac, parent.mac, "passthru takes the parent's MAC");
    for (what, result) in [
        ("second passthru", second),
        ("passthru beside others", beside_others),
    ] {
        let err = result.expect_err(what);
        let einval = matches!(
            err,
            HostError::Other {
                errno: Some(libc::EINVAL),
                ..
            }
        );
        assert!(einval, "{what}: {err:?}");
        assert!(err.to_string().starts_with("create macvtap mt"), "{err}");
    }
}

#[test]
fn deleting_links_removes_them_and_veth_peers() {
    let Some(ns) = TestNetns::new("del") else {
        return;
    };
    ns.with_netlink(|nl| async move {
        nl.create_bridge(&bridge("sybr0")).await.expect("bridge");
        nl.create_veth("vd0", "vd0p").await.expect("veth");
        nl.delete_link("sybr0").await.expect("delete bridge");
        nl.delete_link("vd0").await.expect("delete veth");
        for name in ["sybr0", "vd0", "vd0p"] {
            assert!(!has_link(&nl, name).await, "{name} still present");
        }
    });
}

#[test]
fn kernel_errors_map_to_variants_naming_the_object() {
    let Some(ns) = TestNetns::new("err") else {
        return;
    };
    let (twice, missing, up_missing, bad_master, bad_name) = ns.with_netlink(|nl| async move {
        nl.create_bridge(&bridge("sybr0"))
            .await
            .expect("first create");
        (
            nl.create_bridge(&bridge("sybr0")).await,
            nl.delete_link("nosuchlink").await,
            nl.set_up("nosuchlink").await,
            nl.set_master("lo", "nosuchbr").await,
            nl.create_veth("this-name-is-too-long", "p").await,
        )
    });
    let twice = twice.expect_err("second create");
    assert!(matches!(twice, HostError::Exists { .. }), "{twice:?}");
    assert_eq!(
        twice.to_string(),
        "create bridge sybr0: File exists (os error 17)"
    );
    let missing = missing.expect_err("delete missing");
    assert!(
        matches!(missing, HostError::NoSuchDevice { .. }),
        "{missing:?}"
    );
    assert_eq!(
        missing.to_string(),
        "delete link nosuchlink: No such device (os error 19)"
    );
    assert!(
        matches!(up_missing, Err(HostError::NoSuchDevice { .. })),
        "{up_missing:?}"
    );
    let bad_master = bad_master.expect_err("missing bridge");
    assert!(
        matches!(bad_master, HostError::NoSuchDevice { .. }),
        "{bad_master:?}"
    );
    assert_eq!(
        bad_master.to_string(),
        "set master of lo to nosuchbr: look up nosuchbr: No such device (os error 19)"
    );
    assert!(
        matches!(bad_name, Err(HostError::Invalid { .. })),
        "{bad_name:?}"
    );
}

#[test]
fn observe_is_consistent_with_the_individual_dumps() {
    let Some(ns) = TestNetns::new("obs") else {
        return;
    };
    let (state, links, addrs, routes, forward) = ns.with_netlink(|nl| async move {
        nl.create_bridge(&bridge("sybr0")).await.expect("bridge");
        nl.create_veth("vo0", "vo0p").await.expect("veth");
        nl.set_master("vo0", "sybr0").await.expect("enslave");
        nl.set_up("sybr0").await.expect("up");
        nl.add_addr("sybr0", net("10.55.0.1/24"))
            .await
            .expect("addr");
        nl.add_addr("sybr0", net("fd55::1/64"))
            .await
            .expect("addr6");
        let state = nl.observe().await.expect("observe");
        let forward = read_sysctl("net.ipv4.ip_forward").expect("ns sysctl");
        let links = nl.dump_links().await.expect("links");
        let addrs = nl.dump_addrs().await.expect("addrs");
        let routes = nl.dump_routes().await.expect("routes");
        // The lean dumps a start's look uses give the same records (the route dump asks the
        // kernel for the main table only).
        let mut dumper = switchyard::host::netlink::dump::Dumper::open().expect("dumper");
        assert_eq!(dumper.addrs().expect("lean addrs"), addrs);
        assert_eq!(dumper.main_routes().expect("lean routes"), routes);
        assert!(routes.iter().any(|r| r.dest == net("10.55.0.0/24")));
        assert!(routes.iter().any(|r| r.dest == net("fd55::/64")));
        assert!(addrs.iter().any(|a| a.net == net("fd55::1/64")));
        (state, links, addrs, routes, forward)
    });
    let names = |ls: &[LinkInfo]| {
        ls.iter()
            .map(|l| (l.ifindex, l.name.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&state.links), names(&links));
    assert_eq!(state.addrs, addrs);
    assert_eq!(state.routes, routes);
    let indices: HashSet<u32> = state.links.iter().map(|l| l.ifindex).collect();
    assert!(state.addrs.iter().all(|a| indices.contains(&a.ifindex)));
    assert!(state
        .routes
        .iter()
        .filter_map(|r| r.oif)
        .all(|i| indices.contains(&i)));
    assert!(state
        .links
        .iter()
        .filter_map(|l| l.master)
        .all(|i| indices.contains(&i)));
    assert_eq!(state.sysctls.ipv4_forward, Some(forward == "1"));
    assert!(state.sysctls.ipv6_forward.is_some());
    assert_eq!(
        state.link_by_name("lo").map(|l| &l.kind),
        Some(&LinkKind::Loopback)
    );
}

#[test]
fn sysctls_follow_the_thread_namespace_and_leave_the_machine_alone() {
    let Some(ns) = TestNetns::new("sysctl") else {
        return;
    };
    let key = "net.ipv4.ip_forward";
    let machine = read_sysctl(key).expect("read machine value (read only)");
    let ns_id = ns.id().expect("namespace id");
    let opposite = if machine == "1" { "0" } else { "1" };
    let opened_inside = ns
        .run(|| {
            assert_eq!(
                current_netns_id().expect("thread ns"),
                ns_id,
                "must be inside before writing"
            );
            for value in [opposite, "0", "1", opposite] {
                write_sysctl(key, value).expect("write inside namespace");
                assert_eq!(read_sysctl(key).expect("read inside"), value);
            }
            std::fs::File::open("/proc/sys/net/ipv4/ip_forward").expect("open inside")
        })
        .expect("enter namespace");
    assert_eq!(
        read_sysctl(key).expect("machine value again"),
        machine,
        "machine value changed"
    );
    // A file opened inside keeps showing the namespace it was opened in.
    let mut text = String::new();
    std::io::Read::read_to_string(&mut &opened_inside, &mut text).expect("read file opened inside");
    assert_eq!(text.trim(), opposite);
    ns.block_on(|| async {
        let nl = Netlink::connect().await.expect("connect");
        nl.create_bridge(&bridge("sybr0")).await.expect("bridge");
        let iface_key = "net.ipv6.conf.sybr0.disable_ipv6";
        write_sysctl(iface_key, "1").expect("per-interface key inside");
        assert_eq!(read_sysctl(iface_key).expect("read back"), "1");
    });
    assert!(
        read_sysctl("net.ipv6.conf.sybr0.disable_ipv6").is_err(),
        "sybr0 leaked to machine"
    );
}

#[test]
fn anonymous_thread_namespace_has_only_loopback() {
    if !require_root_or_skip() {
        return;
    }
    let machine = current_netns_id().expect("machine ns");
    let (inside, names) = in_new_netns(|| {
        let inside = current_netns_id().expect("thread ns");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let names = rt.block_on(async {
            let nl = Netlink::connect().await.expect("connect");
            let links = nl.dump_links().await.expect("dump");
            links.into_iter().map(|l| l.name).collect::<Vec<_>>()
        });
        (inside, names)
    })
    .expect("unshare");
    assert_ne!(inside, machine);
    assert_eq!(names, ["lo"]);
    assert_eq!(
        current_netns_id().expect("still here"),
        machine,
        "caller's thread unchanged"
    );
}

#[test]
fn guard_cleans_up_when_the_test_panics() {
    if !require_root_or_skip() || !require_tool("ip") {
        return;
    }
    let started = Instant::now();
    let mut name = String::new();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let guard = NetnsGuard::create("panic").expect("create");
        name = guard.name().to_string();
        assert!(
            ip_netns_list().contains(&name),
            "ip netns list shows {name}"
        );
        guard
            .block_on(|| async {
                let nl = Netlink::connect().await.expect("connect");
                nl.create_bridge(&bridge("sybr0")).await.expect("bridge");
                panic!("deliberate panic inside the namespace");
            })
            .expect("enter");
    }));
    let elapsed = started.elapsed();
    assert!(outcome.is_err(), "the panic propagates out of block_on");
    assert!(
        name.starts_with(&format!("sy-panic-{}-", std::process::id())),
        "{name}"
    );
    assert!(!ip_netns_list().contains(&name), "{name} left behind");
    assert!(!std::path::Path::new("/run/netns").join(&name).exists());
    eprintln!("netns lifecycle with panic took {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(10),
        "lifecycle took {elapsed:?}"
    );
}

#[test]
fn guest_attached_to_bridge_reaches_it() {
    let Some(ns) = TestNetns::new("guest") else {
        return;
    };
    if !require_tool("busybox") {
        return;
    }
    ns.with_netlink(|nl| async move {
        nl.create_bridge(&bridge("sybr0")).await.expect("bridge");
        nl.add_addr("sybr0", net("10.201.0.1/24"))
            .await
            .expect("addr");
        nl.set_up("sybr0").await.expect("up");
    });
    let guest = Guest::attach(&ns, "sybr0", "vm1");
    let port = ns.with_netlink(|nl| async move { link(&nl, "ve-vm1").await });
    let br = ns.with_netlink(|nl| async move { link(&nl, "sybr0").await });
    assert_eq!(port.master, Some(br.ifindex));
    assert!(
        port.peer_netnsid.is_some(),
        "peer lives in the guest namespace"
    );
    let out = guest.exec(&["ip", "addr", "add", "10.201.0.2/24", "dev", "eth0"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ping = guest.exec(&["busybox", "ping", "-c", "1", "-W", "5", "10.201.0.1"]);
    assert!(
        ping.status.success(),
        "guest cannot reach the bridge: {}",
        stdout(&ping)
    );
    // Dropping the guest deletes its namespace; the kernel then destroys eth0 and with it
    // the bridge-side end (asynchronously, in its cleanup work queue).
    drop(guest);
    let gone = ns.with_netlink(|nl| async move {
        let deadline = Instant::now() + Duration::from_secs(10);
        while has_link(&nl, "ve-vm1").await && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        !has_link(&nl, "ve-vm1").await
    });
    assert!(
        gone,
        "guest namespace was not destroyed: its veth peer is still here"
    );
}

#[test]
fn explicit_delete_removes_the_name() {
    if !require_root_or_skip() || !require_tool("ip") {
        return;
    }
    let guard = NetnsGuard::create("del").expect("create");
    let name = guard.name().to_string();
    assert!(guard.path().exists());
    guard.delete().expect("delete reports success");
    assert!(!ip_netns_list().contains(&name), "{name} left behind");
}

/// The live views learn of ruleset changes from nftables' notifications (as `nft monitor`
/// does) instead of listing the table on a timer: a table added in the namespace is seen.
#[test]
fn nftables_changes_are_notified() {
    let Some(ns) = TestNetns::new("nfev") else {
        return;
    };
    if !require_tool("nft") {
        return;
    }
    let mut rx = ns
        .block_on(|| async { switchyard::host::netlink::nft_events::subscribe() })
        .expect("subscribe to nftables notifications");
    let before = *rx.borrow_and_update();
    run_ok_nft(&ns, &["add", "table", "inet", "sy_events_probe"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while *rx.borrow() == before {
        assert!(Instant::now() < deadline, "no notification within 5 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = *rx.borrow_and_update();
    run_ok_nft(&ns, &["delete", "table", "inet", "sy_events_probe"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while *rx.borrow() == seen {
        assert!(
            Instant::now() < deadline,
            "no notification of the delete within 5 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run_ok_nft(ns: &TestNetns, args: &[&str]) {
    let mut full = vec!["netns", "exec", ns.name(), "nft"];
    full.extend_from_slice(args);
    support::run_ok("ip", &full);
}

#[test]
fn a_namespace_without_routes_has_an_empty_main_table_not_an_error() {
    if !require_root_or_skip() {
        return;
    }
    // A new namespace (`lo` down, as `ip netns add` leaves it) has no main table until its
    // first route: the kernel answers a dump filtered to it with ENOENT, which is "no
    // routes", not a failed look (a start there failed with "dump routes: No such file").
    let routes = in_new_netns(|| {
        let mut dumper = switchyard::host::netlink::dump::Dumper::open().expect("dumper");
        let empty = dumper.main_routes().expect("no routes yet");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let nl = Netlink::connect().await.expect("connect");
            assert!(nl.observe().await.expect("observe").routes.is_empty());
            nl.create_bridge(&bridge("sybr0")).await.expect("bridge");
            nl.set_up("sybr0").await.expect("up");
            nl.add_addr("sybr0", net("10.56.0.1/24"))
                .await
                .expect("addr");
        });
        (empty, dumper.main_routes().expect("routes"))
    })
    .expect("new namespace");
    assert_eq!(routes.0, Vec::new());
    assert!(
        routes.1.iter().any(|r| r.dest == net("10.56.0.0/24")),
        "{:?}",
        routes.1
    );
}

#[test]
fn port_links_dump_only_bridges_their_ports_and_macvtaps() {
    let Some(ns) = TestNetns::new("plk") else {
        return;
    };
    let (filtered, full) = ns.block_on(|| async {
        use switchyard::host::{Host, RealHost};
        let nl = Netlink::connect().await.expect("connect");
        for br in ["sybr0", "sybr1"] {
            nl.create_bridge(&bridge(br)).await.expect("bridge");
        }
        for (port, peer, br) in [("vp0", "vp0p", "sybr0"), ("vp1", "vp1p", "sybr1")] {
            nl.create_veth(port, peer).await.expect("veth");
            nl.set_master(port, br).await.expect("enslave");
        }
        // A macvtap on a link that is on no bridge, and a link that is nothing of the sort.
        nl.create_veth("up0", "up0p").await.expect("veth");
        nl.create_macvtap("mvt0", "up0", MacvtapMode::Bridge, None)
            .await
            .expect("macvtap");
        nl.create_veth("lone0", "lone0p").await.expect("veth");
        let host = RealHost::connect().await.expect("host");
        let filtered = host.dump_port_links().await.expect("port links");
        let full = host.dump_links().await.expect("links");
        (filtered, full)
    });
    let names = |links: &[LinkInfo]| links.iter().map(|l| l.name.clone()).collect::<Vec<_>>();
    let mut want = vec!["sybr0", "sybr1", "vp0", "vp1", "up0", "mvt0"];
    let index = |n: &str| full.iter().find(|l| l.name == n).expect(n).ifindex;
    want.sort_by_key(|n| index(n));
    assert_eq!(names(&filtered), want);
    // The same links, with the same attributes, as the full dump filtered here.
    assert_eq!(
        filtered,
        switchyard::state::port_links(full.clone()),
        "filtered dump differs from the full one"
    );
}
