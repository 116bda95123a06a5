//! Who holds inotify instances (for `doctor`): every dnsmasq holds one, and the kernel limits
//! them per user with `fs.inotify.max_user_instances`.

use std::fs;

/// The inotify instances process `pid` holds (its descriptors that are `anon_inode:inotify`);
/// 0 when it is gone or cannot be looked into.
pub fn instances_of(pid: i32) -> usize {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    fds.flatten()
        .filter(|fd| fs::read_link(fd.path()).is_ok_and(|t| t.as_os_str() == "anon_inode:inotify"))
        .count()
}

/// The inotify instances every process of the machine holds, whoever it runs as (an upper
/// bound of what counts against one user's limit).
pub fn instances_of_all() -> usize {
    let Ok(procs) = fs::read_dir("/proc") else {
        return 0;
    };
    procs
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .map(instances_of)
        .sum()
}

/// The limit, `fs.inotify.max_user_instances`, wherever the caller is.
pub fn limit() -> Option<u64> {
    super::sysctl::read_sysctl(crate::plan::start::INOTIFY_INSTANCES)
        .ok()?
        .trim()
        .parse()
        .ok()
}
