//! veth peer namespace names via RTM_GETNSID, inside throwaway network namespaces.

mod telemetry_support;

use std::os::unix::fs::symlink;

use serde_json::Value;
use switchyard::host::netlink::nsid::NetnsResolver;
use telemetry_support::{cmd, preflight, Netns};

/// The `link_netnsid` iproute2 shows for a veth whose peer is in another namespace.
fn link_netnsid(dev: &str) -> i64 {
    let json: Value = serde_json::from_str(&cmd(&["ip", "-j", "link", "show", "dev", dev]))
        .expect("ip -j prints JSON");
    json[0]["link_netnsid"]
        .as_i64()
        .unwrap_or_else(|| panic!("{dev} has no link_netnsid: {json}"))
}

fn ns_file(ns: &Netns) -> String {
    format!("/proc/{}/task/{}/ns/net", std::process::id(), ns.tid())
}

#[test]
fn veth_peer_namespace_is_named() {
    let test = "veth_peer_namespace_is_named";
    if preflight(test, &[]).is_none() {
        return;
    }
    let (Some(home), Some(blue), Some(green)) =
        (Netns::new(test), Netns::new(test), Netns::new(test))
    else {
        return;
    };
    // A directory laid out like /run/netns, with symlinks instead of bind mounts.
    let dir = tempfile::tempdir().expect("temp dir");
    symlink(ns_file(&blue), dir.path().join("blue")).expect("symlink");
    symlink(ns_file(&green), dir.path().join("green")).expect("symlink");
    symlink(ns_file(&home), dir.path().join("home")).expect("symlink");
    std::fs::write(dir.path().join("junk"), b"not a namespace").expect("write");
    let dir_path = dir.path().to_path_buf();
    let blue_tid = blue.tid().to_string();
    home.run(move || {
        cmd(&[
            "ip", "link", "add", "name", "sy0", "type", "veth", "peer", "name", "sy1",
        ]);
        cmd(&["ip", "link", "set", "dev", "sy1", "netns", &blue_tid]);
        let nsid = link_netnsid("sy0");
        let mut resolver = NetnsResolver::open().expect("open");
        let names = resolver.names_in(&dir_path).expect("scan");
        assert_eq!(names.len(), 1, "only blue has an id here: {names:?}");
        assert_eq!(names.get(&(nsid as i32)).map(String::as_str), Some("blue"));
        let missing = resolver
            .names_in(&dir_path.join("absent"))
            .expect("missing dir");
        assert!(missing.is_empty());
    });
    drop(green);
}

#[test]
fn ids_are_relative_to_the_asking_namespace() {
    let test = "ids_are_relative_to_the_asking_namespace";
    if preflight(test, &[]).is_none() {
        return;
    }
    let (Some(home), Some(blue), Some(red)) =
        (Netns::new(test), Netns::new(test), Netns::new(test))
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    symlink(ns_file(&blue), dir.path().join("blue")).expect("symlink");
    symlink(ns_file(&red), dir.path().join("red")).expect("symlink");
    let (blue_tid, red_tid) = (blue.tid().to_string(), red.tid().to_string());
    let dir_path = dir.path().to_path_buf();
    home.run(move || {
        cmd(&[
            "ip", "link", "add", "name", "b0", "type", "veth", "peer", "name", "b1",
        ]);
        cmd(&["ip", "link", "set", "dev", "b1", "netns", &blue_tid]);
        cmd(&[
            "ip", "link", "add", "name", "r0", "type", "veth", "peer", "name", "r1",
        ]);
        cmd(&["ip", "link", "set", "dev", "r1", "netns", &red_tid]);
        let (b, r) = (link_netnsid("b0") as i32, link_netnsid("r0") as i32);
        assert_ne!(b, r);
        let names = NetnsResolver::open()
            .expect("open")
            .names_in(&dir_path)
            .expect("scan");
        assert_eq!(names.get(&b).map(String::as_str), Some("blue"));
        assert_eq!(names.get(&r).map(String::as_str), Some("red"));
    });
}
