//! Errors of the host backend: every variant names the operation and the object it failed on.

use std::io;

/// A failed host operation. `op` reads like "create bridge sybr0".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// EPERM or EACCES.
    #[error("{op}: {} (needs root or CAP_NET_ADMIN)", os_text(*errno))]
    PermissionDenied { op: String, errno: i32 },
    /// EEXIST.
    #[error("{op}: {}", os_text(libc::EEXIST))]
    Exists { op: String },
    /// ENODEV, also used when a link name does not resolve.
    #[error("{op}: {}", os_text(libc::ENODEV))]
    NoSuchDevice { op: String },
    /// EBUSY.
    #[error("{op}: {}", os_text(libc::EBUSY))]
    Busy { op: String },
    /// Any other failure; `errno` is `None` when it was not a system error (e.g. a protocol
    /// error of the netlink socket).
    #[error("{op}: {message}")]
    Other {
        op: String,
        errno: Option<i32>,
        message: String,
    },
    /// The request was refused before reaching the system (bad key, mixed address families…).
    #[error("{op}: {reason}")]
    Invalid { op: String, reason: String },
}

fn os_text(errno: i32) -> String {
    io::Error::from_raw_os_error(errno).to_string()
}

impl HostError {
    /// Classifies a positive errno value.
    pub fn from_errno(op: impl Into<String>, errno: i32) -> Self {
        let op = op.into();
        match errno {
            libc::EPERM | libc::EACCES => Self::PermissionDenied { op, errno },
            libc::EEXIST => Self::Exists { op },
            libc::ENODEV => Self::NoSuchDevice { op },
            libc::EBUSY => Self::Busy { op },
            _ => Self::Other {
                op,
                errno: Some(errno),
                message: os_text(errno),
            },
        }
    }

    /// Classifies an I/O error by its errno, keeping its text when it has none.
    pub fn from_io(op: impl Into<String>, err: &io::Error) -> Self {
        match err.raw_os_error() {
            Some(errno) => Self::from_errno(op, errno),
            None => Self::Other {
                op: op.into(),
                errno: None,
                message: err.to_string(),
            },
        }
    }

    /// Classifies an rtnetlink error: kernel NACKs by errno, anything else as `Other`.
    pub fn from_netlink(op: impl Into<String>, err: rtnetlink::Error) -> Self {
        if let rtnetlink::Error::NetlinkError(msg) = &err {
            if let Some(code) = msg.code {
                return Self::from_errno(op, code.get().saturating_neg());
            }
        }
        Self::Other {
            op: op.into(),
            errno: None,
            message: err.to_string(),
        }
    }

    /// Refusal before any system call.
    pub fn invalid(op: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            op: op.into(),
            reason: reason.into(),
        }
    }

    /// The operation that failed, e.g. "create bridge sybr0".
    pub fn op(&self) -> &str {
        match self {
            Self::PermissionDenied { op, .. }
            | Self::Exists { op }
            | Self::NoSuchDevice { op }
            | Self::Busy { op }
            | Self::Other { op, .. }
            | Self::Invalid { op, .. } => op,
        }
    }

    /// A line that tells the operator what to do about it, for the common failures.
    pub fn fix(&self) -> Option<String> {
        let op = self.op();
        let fix = match self.errno()? {
            libc::EPERM | libc::EACCES => {
                "run switchyard as root (sudo), or give it CAP_NET_ADMIN".to_owned()
            }
            libc::EEXIST if op.contains("bridge") || op.contains("link") => {
                "an interface of that name exists and is not switchyard's: give the network \
                 another bridge name (edit), or delete that interface if nothing uses it"
                    .to_owned()
            }
            libc::EEXIST => "it is already there: another program or an earlier run made it; \
                 `switchyard doctor` shows what is switchyard's"
                .to_owned(),
            libc::ENODEV | libc::ENXIO => {
                "the interface is gone or was never there: check `ip link show` and the \
                 network's forward device"
                    .to_owned()
            }
            libc::EBUSY => "the device is in use (enslaved to another bridge or bond, or held \
                 by a macvtap): free it first"
                .to_owned(),
            libc::EADDRINUSE => "another program listens there (often a DNS server on port \
                 53): find it with `ss -lntup`"
                .to_owned(),
            libc::EMFILE | libc::ENFILE => "out of file descriptors or inotify instances: \
                 raise fs.inotify.max_user_instances (sysctl) or ulimit -n"
                .to_owned(),
            libc::EOPNOTSUPP | libc::ENOENT if op.contains("qdisc") || op.contains("filter") => {
                "this kernel lacks the traffic-control module it needs (sch_htb, cls_u32, \
                 act_police): load it, or drop <bandwidth> from the definition"
                    .to_owned()
            }
            libc::ENOENT if op.contains("nft") => {
                "install nftables: apt-get install nftables".to_owned()
            }
            libc::ENOENT if op.contains("dnsmasq") => {
                "install dnsmasq: apt-get install dnsmasq-base".to_owned()
            }
            _ => return None,
        };
        Some(fix)
    }

    /// The errno behind the error, when there was one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::PermissionDenied { errno, .. } => Some(*errno),
            Self::Exists { .. } => Some(libc::EEXIST),
            Self::NoSuchDevice { .. } => Some(libc::ENODEV),
            Self::Busy { .. } => Some(libc::EBUSY),
            Self::Other { errno, .. } => *errno,
            Self::Invalid { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_failures_come_with_a_fix() {
        let cases = [
            ("create bridge virbr0", libc::EPERM, Some("root")),
            (
                "create bridge virbr0",
                libc::EEXIST,
                Some("another bridge name"),
            ),
            ("enslave eth1 to br0", libc::EBUSY, Some("in use")),
            ("start dnsmasq for lab", libc::EADDRINUSE, Some("port")),
            ("add qdisc on virbr0", libc::ENOENT, Some("sch_htb")),
            ("add route 10.0.0.0/24", libc::ENETUNREACH, None),
        ];
        for (op, errno, want) in cases {
            let fix = HostError::from_errno(op, errno).fix();
            match want {
                Some(words) => assert!(
                    fix.as_deref().is_some_and(|f| f.contains(words)),
                    "{op} errno {errno}: {fix:?}"
                ),
                None => assert_eq!(fix, None, "{op}"),
            }
        }
        assert_eq!(
            HostError::invalid("x", "y").fix(),
            None,
            "no errno, no guess"
        );
    }

    #[test]
    fn errno_maps_to_variants_with_readable_text() {
        let e = HostError::from_errno("create bridge sybr0", libc::EEXIST);
        assert!(matches!(e, HostError::Exists { .. }));
        assert_eq!(
            e.to_string(),
            "create bridge sybr0: File exists (os error 17)"
        );

        let e = HostError::from_errno("delete link nope", libc::ENODEV);
        assert!(matches!(e, HostError::NoSuchDevice { .. }));
        assert_eq!(e.errno(), Some(libc::ENODEV));

        let e = HostError::from_errno("delete link br0", libc::EBUSY);
        assert!(matches!(e, HostError::Busy { .. }));
    }

    #[test]
    fn permission_errors_say_how_to_fix() {
        for errno in [libc::EPERM, libc::EACCES] {
            let e = HostError::from_errno("set up br0", errno);
            assert!(matches!(e, HostError::PermissionDenied { .. }));
            assert!(e.to_string().contains("needs root or CAP_NET_ADMIN"), "{e}");
            assert!(e.to_string().starts_with("set up br0: "), "{e}");
        }
    }

    #[test]
    fn unknown_errno_keeps_number_and_text() {
        let e = HostError::from_errno("create macvtap m0", libc::EINVAL);
        match &e {
            HostError::Other { errno, message, .. } => {
                assert_eq!(*errno, Some(libc::EINVAL));
                assert!(message.contains("Invalid argument"), "{message}");
            }
            other => panic!("expected Other, got {other:?}"),
        }
        assert_eq!(e.op(), "create macvtap m0");
    }

    #[test]
    fn netlink_nack_uses_negated_code() {
        let mut msg = rtnetlink::packet_core::ErrorMessage::default();
        msg.code = std::num::NonZeroI32::new(-libc::EEXIST);
        let e = HostError::from_netlink("create veth a", rtnetlink::Error::NetlinkError(msg));
        assert!(matches!(e, HostError::Exists { .. }), "{e:?}");

        let e = HostError::from_netlink("dump links", rtnetlink::Error::RequestFailed);
        assert!(matches!(e, HostError::Other { errno: None, .. }), "{e:?}");
    }

    #[test]
    fn io_errors_without_errno_are_other() {
        let io = io::Error::other("boom");
        let e = HostError::from_io("read sysctl x", &io);
        assert_eq!(e.errno(), None);
        assert_eq!(e.to_string(), "read sysctl x: boom");
    }
}
