//! dnsmasq lease files of the active networks, re-read only when they change.
//!
//! Each refresh costs one `stat` per network; a file is read again only when its modification
//! time, size or inode differ from the last read (dnsmasq rewrites the file on every change).
//! File times are coarse (a few milliseconds), so a file read less than [`RACY_WINDOW`] after
//! it was modified is read once more at the next refresh, in case it changed again within the
//! same tick of the file-system clock.

use std::path::{Path, PathBuf};
use std::time::Duration;

use std::time::SystemTime;

use super::leases::{parse_leases, Lease};
use super::ports::NetworkPorts;
use crate::host::{FileStamp, Host, HostError};

/// Where lease files are read from: any [`Host`]. (Kept this small so the watcher's tests
/// can read a folder of their own.)
pub trait LeaseFiles {
    fn file_stamp(&self, path: &Path) -> Result<Option<FileStamp>, HostError>;
    fn read_text(&self, path: &Path) -> Result<Option<String>, HostError>;
    fn now(&self) -> SystemTime;
}

impl<H: Host> LeaseFiles for H {
    fn file_stamp(&self, path: &Path) -> Result<Option<FileStamp>, HostError> {
        Host::file_stamp(self, path)
    }
    fn read_text(&self, path: &Path) -> Result<Option<String>, HostError> {
        Host::read_text(self, path)
    }
    fn now(&self) -> SystemTime {
        Host::now(self)
    }
}

/// How close to its modification a read must be to be distrusted.
pub const RACY_WINDOW: Duration = Duration::from_millis(100);

#[derive(Debug)]
struct Watched {
    network: String,
    path: PathBuf,
    /// `None` before the first look; `Some(None)` while the file does not exist.
    stamp: Option<Option<FileStamp>>,
    /// Whether the last read may have missed a change made within the same clock tick.
    racy: bool,
    leases: Vec<Lease>,
}

/// The lease files of a set of networks.
#[derive(Debug, Default)]
pub struct LeaseWatcher {
    files: Vec<Watched>,
}

impl LeaseWatcher {
    /// No files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Follow the lease files of `networks`; files already followed keep what was read.
    /// Returns whether the set changed.
    pub fn set_networks(&mut self, networks: &[NetworkPorts]) -> bool {
        let wanted: Vec<(&str, &Path)> = networks
            .iter()
            .filter_map(|n| Some((n.network.as_str(), n.lease_file.as_deref()?)))
            .collect();
        let before = self.files.len();
        self.files
            .retain(|w| wanted.contains(&(w.network.as_str(), w.path.as_path())));
        let mut changed = self.files.len() != before;
        for (network, path) in wanted {
            if !self
                .files
                .iter()
                .any(|w| w.network == network && w.path == path)
            {
                self.files.push(Watched {
                    network: network.to_owned(),
                    path: path.to_owned(),
                    stamp: None,
                    racy: false,
                    leases: Vec::new(),
                });
                changed = true;
            }
        }
        changed
    }

    /// Re-read the files that changed. Returns whether any lease changed, and the problems
    /// met (a file that cannot be read keeps its last leases).
    pub fn refresh<H: LeaseFiles>(&mut self, host: &H) -> (bool, Vec<String>) {
        let mut changed = false;
        let mut errors = Vec::new();
        for w in &mut self.files {
            match w.refresh(host) {
                Ok(c) => changed |= c,
                Err(e) => errors.push(format!("lease file {}: {e}", w.path.display())),
            }
        }
        (changed, errors)
    }

    /// Every lease, with its network.
    pub fn leases(&self) -> Vec<(String, Lease)> {
        self.files
            .iter()
            .flat_map(|w| w.leases.iter().map(|l| (w.network.clone(), l.clone())))
            .collect()
    }
}

impl Watched {
    fn refresh<H: LeaseFiles>(&mut self, host: &H) -> Result<bool, HostError> {
        let now = host.file_stamp(&self.path)?;
        if self.stamp == Some(now) && !self.racy {
            return Ok(false);
        }
        let read_at = host.now();
        let leases = match now {
            Some(_) => host
                .read_text(&self.path)?
                .map(|t| parse_leases(&t).leases)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        self.stamp = Some(now);
        self.racy = now.is_some_and(|s| {
            read_at
                .duration_since(s.modified)
                .map_or(true, |age| age < RACY_WINDOW)
        });
        let changed = leases != self.leases;
        self.leases = leases;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    /// The machine's own files, as the real host reads them.
    struct Disk;

    impl LeaseFiles for Disk {
        fn file_stamp(&self, path: &Path) -> Result<Option<FileStamp>, HostError> {
            crate::host::real::file_stamp(path)
        }
        fn read_text(&self, path: &Path) -> Result<Option<String>, HostError> {
            crate::host::real::read_text(path)
        }
        fn now(&self) -> SystemTime {
            SystemTime::now()
        }
    }

    use super::*;

    fn net(name: &str, file: &Path) -> NetworkPorts {
        NetworkPorts {
            network: name.to_owned(),
            lease_file: Some(file.to_owned()),
            ..NetworkPorts::default()
        }
    }

    fn ips(w: &LeaseWatcher) -> Vec<(String, String)> {
        w.leases()
            .into_iter()
            .map(|(n, l)| (n, l.ip.to_string()))
            .collect()
    }

    #[test]
    fn files_are_read_when_they_change_and_only_then() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.leases");
        let b = dir.path().join("b.leases");
        fs::write(&a, "0 52:54:00:00:00:01 10.0.0.5 one *\n").expect("write");
        let mut w = LeaseWatcher::new();
        assert!(w.set_networks(&[net("a", &a), net("b", &b)]));
        assert!(!w.set_networks(&[net("a", &a), net("b", &b)]), "same set");
        assert_eq!(w.refresh(&Disk), (true, vec![]));
        assert_eq!(ips(&w), [("a".into(), "10.0.0.5".into())]);
        assert_eq!(w.refresh(&Disk), (false, vec![]), "unchanged");
        std::thread::sleep(RACY_WINDOW);
        assert_eq!(
            w.refresh(&Disk),
            (false, vec![]),
            "read again once: the write was recent"
        );
        assert!(!w.files[0].racy, "now trusted, no more reads");

        fs::write(&b, "0 52:54:00:00:00:02 10.1.0.9 two *\n").expect("write");
        fs::write(&a, "0 52:54:00:00:00:01 10.0.0.6 one *\n").expect("write");
        assert_eq!(w.refresh(&Disk), (true, vec![]));
        let mut got = ips(&w);
        got.sort();
        assert_eq!(
            got,
            [
                ("a".into(), "10.0.0.6".into()),
                ("b".into(), "10.1.0.9".into())
            ]
        );

        fs::remove_file(&b).expect("rm");
        assert!(w.refresh(&Disk).0, "a removed file has no leases");
        assert!(w.set_networks(&[net("b", &b)]), "network a stopped");
        assert!(ips(&w).is_empty());
    }

    #[test]
    fn an_unreadable_file_keeps_its_leases_and_says_why() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.leases");
        fs::write(&a, "0 52:54:00:00:00:01 10.0.0.5 one *\n").expect("write");
        let mut w = LeaseWatcher::new();
        w.set_networks(&[net("a", &a)]);
        w.refresh(&Disk);
        fs::remove_file(&a).expect("rm");
        fs::create_dir(&a).expect("a directory where the file was");
        let (changed, errors) = w.refresh(&Disk);
        assert!(!changed);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("a.leases"), "{errors:?}");
        assert_eq!(ips(&w), [("a".into(), "10.0.0.5".into())]);
    }
}
