//! Network sysctls through /proc/sys/net, and the one machine-wide limit switchyard raises,
//! `fs.inotify.max_user_instances` (every dnsmasq holds an inotify instance).
//!
//! /proc/sys/net shows the network namespace of the calling *thread* at the time the file is
//! opened, so these functions act on whatever namespace the current thread is in (see
//! `NetnsGuard::run`).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

use super::error::HostError;
use crate::plan::start::INOTIFY_INSTANCES;
use crate::state::ForwardingSysctls;

/// Maps "net.ipv4.ip_forward" to /proc/sys/net/ipv4/ip_forward.
///
/// Only keys under "net." are accepted; '/', "..", NUL and empty segments are refused. A key
/// segment cannot contain a dot, so interfaces with dots in their names are not addressable.
pub fn sysctl_path(key: &str) -> Result<PathBuf, HostError> {
    let refuse = |reason: &str| Err(HostError::invalid(format!("sysctl key {key:?}"), reason));
    if key == INOTIFY_INSTANCES {
        return Ok(PathBuf::from("/proc/sys/fs/inotify/max_user_instances"));
    }
    if !key.starts_with("net.") {
        return refuse("only net.* keys (and fs.inotify.max_user_instances) are supported");
    }
    if key.contains('/') || key.contains('\0') || key.contains("..") {
        return refuse("must not contain '/', '..' or NUL");
    }
    if key.split('.').any(str::is_empty) {
        return refuse("empty segment");
    }
    Ok(PathBuf::from("/proc/sys").join(key.replace('.', "/")))
}

/// Reads a sysctl, trimmed of its trailing newline.
pub fn read_sysctl(key: &str) -> Result<String, HostError> {
    let path = sysctl_path(key)?;
    let text = fs::read_to_string(&path)
        .map_err(|e| HostError::from_io(format!("read sysctl {key}"), &e))?;
    Ok(text.trim_end_matches('\n').to_string())
}

/// Writes a sysctl (the file must exist; nothing is created).
pub fn write_sysctl(key: &str, value: &str) -> Result<(), HostError> {
    let path = sysctl_path(key)?;
    let op = || format!("write sysctl {key}={value}");
    let mut file = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| HostError::from_io(op(), &e))?;
    file.write_all(value.as_bytes())
        .map_err(|e| HostError::from_io(op(), &e))
}

/// Reads a boolean sysctl ("0"/"1"); `None` when missing, unreadable or not 0/1.
pub fn read_bool_sysctl(key: &str) -> Option<bool> {
    match read_sysctl(key).ok()?.trim() {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

/// The forwarding switches of the calling thread's namespace, and the inotify instance
/// limit (see [`read_inotify_limit`]).
pub fn read_forwarding() -> ForwardingSysctls {
    ForwardingSysctls {
        ipv4_forward: read_bool_sysctl("net.ipv4.ip_forward"),
        ipv6_forward: read_bool_sysctl("net.ipv6.conf.all.forwarding"),
        inotify_max_user_instances: read_inotify_limit(),
    }
}

/// `fs.inotify.max_user_instances`, the machine-wide limit; `None` when it cannot be read, and
/// when the calling thread is not in the machine's own network namespace (that of pid 1): the
/// limit is not per namespace, and a switchyard confined to a namespace of its own (a test, a
/// sandbox) does not plan to change the whole machine's settings.
pub fn read_inotify_limit() -> Option<u64> {
    let same = |p: &str| {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(p).map(|m| (m.dev(), m.ino())).ok()
    };
    let here = same("/proc/thread-self/ns/net")?;
    if same("/proc/1/ns/net")? != here {
        return None;
    }
    read_sysctl(INOTIFY_INSTANCES).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_proc_paths() {
        let p = sysctl_path("net.ipv4.ip_forward").expect("valid key");
        assert_eq!(p, PathBuf::from("/proc/sys/net/ipv4/ip_forward"));
        let p = sysctl_path("net.ipv6.conf.sybr0.disable_ipv6").expect("valid key");
        assert_eq!(
            p,
            PathBuf::from("/proc/sys/net/ipv6/conf/sybr0/disable_ipv6")
        );
    }

    #[test]
    fn the_inotify_limit_is_the_one_key_outside_net() {
        let p = sysctl_path(INOTIFY_INSTANCES).expect("allowed");
        assert_eq!(p, PathBuf::from("/proc/sys/fs/inotify/max_user_instances"));
        for key in ["fs.inotify.max_user_watches", "fs.file-max"] {
            assert!(sysctl_path(key).is_err(), "{key}");
        }
    }

    #[test]
    fn unsafe_or_foreign_keys_are_refused() {
        for key in [
            "net.ipv4/../../kernel.x",
            "net..ipv4",
            "net.ipv4.",
            "kernel.hostname",
            "net",
            "/proc/sys/net/ipv4/ip_forward",
            "net.ipv4.ip\0forward",
        ] {
            let err = sysctl_path(key).expect_err(key);
            assert!(matches!(err, HostError::Invalid { .. }), "{key}: {err:?}");
        }
    }

    #[test]
    fn reads_a_sysctl_that_always_exists() {
        let v = read_sysctl("net.ipv4.ip_forward").expect("procfs is mounted");
        assert!(v == "0" || v == "1", "{v:?}");
    }

    #[test]
    fn missing_key_is_an_error_naming_the_key() {
        let err = read_sysctl("net.ipv4.no_such_switch").expect_err("missing");
        assert!(err.to_string().contains("net.ipv4.no_such_switch"), "{err}");
        assert_eq!(err.errno(), Some(libc::ENOENT));
    }
}
