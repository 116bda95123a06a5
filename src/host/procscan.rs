//! Which process holds which port: the `/proc` and `/run/libvirt` reading that feeds the
//! pure parsers in `guests`.
//!
//! A tun/tap port belongs to the process holding a `/dev/net/tun` descriptor whose fdinfo names
//! it; a macvtap port to the process holding `/dev/tapN` (N = its ifindex). Only descriptors
//! whose link target is one of those paths have their fdinfo read, and only processes that hold
//! one have their command line read, so a scan costs one `readlink` per open descriptor.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

pub use crate::state::{GuestIndex, GuestProcess};
use crate::telemetry::guests::{
    guest_name_from_cmdline, parse_fdinfo_iff, parse_libvirt_interfaces, parse_libvirt_runtime_xml,
    parse_tap_dev_path, qemu_guest_name, LibvirtIface, TUN_DEVICE,
};

/// Where libvirt's QEMU driver keeps runtime domain XML.
pub const LIBVIRT_QEMU_RUN_DIR: &str = "/run/libvirt/qemu";

/// What one descriptor says about a port.
enum PortFd {
    Tun(String),
    Tap(u32),
}

/// Scan `/proc`.
pub fn scan_processes() -> GuestIndex {
    scan_proc(Path::new("/proc"))
}

/// Scan a procfs mounted at `root`. Processes that vanish or cannot be read are skipped.
pub fn scan_proc(root: &Path) -> GuestIndex {
    let mut index = GuestIndex::default();
    for (pid, dir) in processes(root) {
        let ports = port_fds(&dir);
        if ports.is_empty() {
            continue;
        }
        let guest = describe_process(&dir, pid);
        for port in ports {
            match port {
                PortFd::Tun(name) => index.add_tun(&name, guest.clone()),
                PortFd::Tap(idx) => index.add_tap(idx, guest.clone()),
            }
        }
    }
    index
}

/// Every process of a procfs mounted at `root`: its pid and its `/proc/PID` folder.
pub(crate) fn processes(root: &Path) -> impl Iterator<Item = (u32, std::path::PathBuf)> {
    fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((pid, entry.path()))
        })
}

/// The tun/tap and macvtap descriptors of one process (`proc_pid` = `/proc/PID`).
fn port_fds(proc_pid: &Path) -> Vec<PortFd> {
    let mut ports = Vec::new();
    let Ok(fds) = fs::read_dir(proc_pid.join("fd")) else {
        return ports;
    };
    for fd in fds.flatten() {
        let Ok(target) = fs::read_link(fd.path()) else {
            continue;
        };
        if target == Path::new(TUN_DEVICE) {
            let fdinfo: PathBuf = proc_pid.join("fdinfo").join(fd.file_name());
            if let Some(name) = fs::read_to_string(fdinfo)
                .ok()
                .as_deref()
                .and_then(parse_fdinfo_iff)
            {
                ports.push(PortFd::Tun(name));
            }
        } else if let Some(idx) = parse_tap_dev_path(&target) {
            ports.push(PortFd::Tap(idx));
        }
    }
    ports
}

fn describe_process(proc_pid: &Path, pid: u32) -> GuestProcess {
    let argv: Vec<String> = fs::read(proc_pid.join("cmdline"))
        .map(|raw| {
            raw.split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let comm = fs::read_to_string(proc_pid.join("comm")).unwrap_or_else(|_| "?".to_string());
    GuestProcess {
        pid,
        name: guest_name_from_cmdline(&argv, &comm, pid),
        qemu_named: qemu_guest_name(&argv).is_some(),
    }
}

/// Interface target device → libvirt domain name, from every `*.xml` in `dir` (normally
/// [`LIBVIRT_QEMU_RUN_DIR`]). Missing directory, unreadable or malformed files are skipped.
/// Every interface of every running libvirt domain, with the domain's name: from the runtime
/// XML in `dir` (unreadable or malformed files are skipped).
pub fn scan_libvirt_interfaces(dir: &Path) -> Vec<(String, LibvirtIface)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for path in entries.flatten().map(|e| e.path()) {
        if path.extension().and_then(|e| e.to_str()) != Some("xml") {
            continue;
        }
        let parsed = fs::read_to_string(&path)
            .ok()
            .and_then(|text| parse_libvirt_interfaces(&text));
        if let Some((domain, ifaces)) = parsed {
            out.extend(ifaces.into_iter().map(|i| (domain.clone(), i)));
        }
    }
    out
}

pub fn scan_libvirt_runtime(dir: &Path) -> HashMap<String, String> {
    let mut devs = HashMap::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return devs;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("xml") {
            continue;
        }
        let Some((domain, targets)) = fs::read_to_string(&path)
            .ok()
            .and_then(|text| parse_libvirt_runtime_xml(&text))
        else {
            continue;
        };
        for dev in targets {
            devs.insert(dev, domain.clone());
        }
    }
    devs
}
