//! Port → process mapping: a fake /proc tree (no root), and real tun and macvtap devices
//! created inside throwaway network namespaces.

mod telemetry_support;

use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::symlink;
use std::path::Path;

use switchyard::host::procscan::{scan_libvirt_runtime, scan_proc, scan_processes};
use telemetry_support::{cmd, preflight, Netns};

/// A process directory in a fake procfs: `fds` are (fd number, link target, fdinfo text).
fn fake_process(root: &Path, pid: u32, argv: &[&str], comm: &str, fds: &[(u32, &str, &str)]) {
    let dir = root.join(pid.to_string());
    fs::create_dir_all(dir.join("fd")).expect("mkdir fd");
    fs::create_dir_all(dir.join("fdinfo")).expect("mkdir fdinfo");
    let cmdline: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    fs::write(dir.join("cmdline"), cmdline).expect("cmdline");
    fs::write(dir.join("comm"), format!("{comm}\n")).expect("comm");
    for &(fd, target, info) in fds {
        symlink(target, dir.join("fd").join(fd.to_string())).expect("fd link");
        fs::write(dir.join("fdinfo").join(fd.to_string()), info).expect("fdinfo");
    }
}

#[test]
fn fake_proc_tree() {
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    let tun_info = |name: &str| format!("pos:\t0\nflags:\t0104002\nmnt_id:\t25\niff:\t{name}\n");
    let qemu = ["qemu-system-x86_64", "-name", "guest=web,debug-threads=on"];
    fake_process(
        r,
        300,
        &["helper"],
        "helper",
        &[(3, "/dev/net/tun", &tun_info("vnet0"))],
    );
    fake_process(
        r,
        100,
        &qemu,
        "qemu-system-x86",
        &[(5, "/dev/net/tun", &tun_info("vnet0"))],
    );
    fake_process(
        r,
        150,
        &["openvpn"],
        "openvpn",
        &[(4, "/dev/net/tun", &tun_info("tun0"))],
    );
    fake_process(
        r,
        160,
        &["openvpn"],
        "openvpn",
        &[(4, "/dev/net/tun", &tun_info("tun0"))],
    );
    fake_process(
        r,
        200,
        &["qemu", "-name", "db"],
        "qemu",
        &[(7, "/dev/tap12", "pos:\t0\n")],
    );
    fake_process(
        r,
        400,
        &["cat"],
        "cat",
        &[(1, "/dev/null", ""), (2, "/dev/tap", "")],
    );
    // A tun descriptor not attached to any interface yet: no iff line.
    fake_process(
        r,
        500,
        &["setup"],
        "setup",
        &[(9, "/dev/net/tun", "pos:\t0\n")],
    );
    fs::create_dir_all(r.join("self")).expect("non-numeric entry");
    fs::create_dir_all(r.join("600")).expect("process without fd dir");

    let index = scan_proc(r);
    let web = index.by_ifname("vnet0").expect("vnet0 mapped");
    assert_eq!(
        (web.pid, web.name.as_str(), web.qemu_named),
        (100, "web", true)
    );
    let vpn = index.by_ifname("tun0").expect("tun0 mapped");
    assert_eq!(
        (vpn.pid, vpn.name.as_str()),
        (150, "openvpn (pid 150)"),
        "lowest pid wins"
    );
    let db = index.by_tap_index(12).expect("tap12 mapped");
    assert_eq!((db.pid, db.name.as_str()), (200, "db"));
    assert_eq!(index.guest_of("macvtap0", 12), Some(db));
    assert_eq!(index.guest_of("vnet0", 12), Some(web));
    assert_eq!(index.len(), 3);
    assert!(scan_proc(&r.join("absent")).is_empty());
}

#[test]
fn libvirt_runtime_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let domstatus = |name: &str, devs: &[&str]| {
        let ifaces: String = devs
            .iter()
            .map(|d| format!("<interface type='network'><target dev='{d}'/></interface>"))
            .collect();
        format!("<domstatus state='running'><domain><name>{name}</name><devices>{ifaces}</devices></domain></domstatus>")
    };
    fs::write(d.join("web.xml"), domstatus("web", &["vnet0", "vnet1"])).expect("write");
    fs::write(d.join("db.xml"), domstatus("db", &["macvtap0"])).expect("write");
    fs::write(d.join("broken.xml"), "<domstatus><domain><name>x").expect("write");
    fs::write(d.join("web.pid"), "1234").expect("write");
    fs::write(d.join("other.txt"), domstatus("nope", &["vnet9"])).expect("write");
    let map = scan_libvirt_runtime(d);
    let mut pairs: Vec<(&str, &str)> = map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.sort();
    assert_eq!(
        pairs,
        vec![("macvtap0", "db"), ("vnet0", "web"), ("vnet1", "web")]
    );
    assert!(scan_libvirt_runtime(&d.join("absent")).is_empty());
}

/// Open /dev/net/tun and attach a new tap interface `name` to it (TUNSETIFF).
fn open_tap(name: &str) -> File {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .expect("open /dev/net/tun");
    // SAFETY: ifreq is plain old data, so all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    assert!(name.len() < req.ifr_name.len());
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF reads and writes one ifreq, which lives for the whole call on an fd we
    // own.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) };
    assert_eq!(rc, 0, "TUNSETIFF: {}", std::io::Error::last_os_error());
    file
}

fn own_comm() -> String {
    fs::read_to_string("/proc/self/comm")
        .expect("comm")
        .trim()
        .to_string()
}

#[test]
fn real_tap_is_mapped_to_this_process() {
    let test = "real_tap_is_mapped_to_this_process";
    if preflight(test, &[]).is_none() {
        return;
    }
    let Some(ns) = Netns::new(test) else { return };
    // Unique per process: another test run on the machine may hold a tap of the same name.
    let name = format!("syt{}", std::process::id());
    let tap = {
        let name = name.clone();
        ns.run(move || open_tap(&name))
    };
    let index = scan_processes();
    let guest = index.by_ifname(&name).expect("scan finds the tap");
    assert_eq!(guest.pid, std::process::id());
    assert_eq!(
        guest.name,
        format!("{} (pid {})", own_comm(), std::process::id())
    );
    assert!(!guest.qemu_named);
    drop(tap);
    assert!(
        scan_processes().by_ifname(&name).is_none(),
        "closed tap is gone"
    );
}

#[test]
fn real_macvtap_is_mapped_by_ifindex() {
    let test = "real_macvtap_is_mapped_by_ifindex";
    if preflight(test, &[]).is_none() {
        return;
    }
    let Some(ns) = Netns::new(test) else { return };
    // An unusual ifindex, since /dev/tapN is shared by all namespaces.
    let index: u32 = 48_000 + std::process::id() % 10_000;
    let tap = ns.run(move || {
        cmd(&[
            "ip", "link", "add", "name", "mvl0", "type", "veth", "peer", "name", "mvl1",
        ]);
        let idx = index.to_string();
        cmd(&[
            "ip", "link", "add", "link", "mvl0", "name", "mvt0", "index", &idx, "type", "macvtap",
        ]);
        let dev = format!("/dev/tap{index}");
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&dev)
            .unwrap_or_else(|e| panic!("{dev}: {e}"))
    });
    let guest = scan_processes()
        .by_tap_index(index)
        .cloned()
        .expect("scan finds the macvtap");
    assert_eq!(guest.pid, std::process::id());
    drop(tap);
    assert!(scan_processes().by_tap_index(index).is_none());
}
