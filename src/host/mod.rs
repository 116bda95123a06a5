//! The host backend: the only module that touches the system.
//!
//! This layer holds the primitives: rtnetlink dumps and mutations (`netlink`), the observed
//! state they produce (`state`), sysctls, and network namespaces for tests and the sandbox.

pub mod apply;
pub mod dnsmasq;
pub mod error;
pub mod fake;
#[cfg(debug_assertions)]
pub mod faults;
pub mod fix;
pub mod inotify;
pub mod kernel;
pub mod listen;
pub mod netlink;
pub mod netns;
pub mod nft;
pub mod probe;
pub mod procscan;
pub mod real;
pub mod seam;
pub mod steps;
pub mod sysctl;
pub mod tc;
pub mod trace;

pub use crate::state::{
    AddrInfo, BridgeAttrs, ForwardingSysctls, HostState, LinkInfo, LinkKind, LinkStats64, RouteInfo,
};
pub use error::HostError;
pub use netlink::{BridgeSpec, MacvtapMode, Netlink};
pub use netns::{in_new_netns, NetnsGuard};
pub use real::RealHost;
pub use seam::{DnsmasqSetup, Events, FileStamp, GuestInterface, Host, HostEvent, Look};

/// The host the binary's verbs run over: the real one, wrapped in debug builds (the ones the
/// tests drive) by [`faults::Faulty`], which fails or holds a step where the environment says.
#[cfg(debug_assertions)]
pub type SystemHost = faults::Faulty<RealHost>;
/// The host the binary's verbs run over: the real one.
#[cfg(not(debug_assertions))]
pub type SystemHost = RealHost;

/// Opens [`SystemHost`] in the calling thread's network namespace.
pub async fn connect() -> Result<SystemHost, HostError> {
    let host = RealHost::connect().await?;
    #[cfg(debug_assertions)]
    let host = faults::Faulty::from_env(host);
    Ok(host)
}

/// Where `program` is installed: PATH, then the sbin folders (root's tools live there, and a
/// user's PATH often lacks them).
pub fn find_program(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Ends the process as a program killed by `SIGPIPE` ends (as `ip` and `virsh` do when their
/// reader goes away): no message, and the shell sees status 141. Rust ignores `SIGPIPE` so a
/// write fails with `EPIPE` instead; this restores the default action and raises it.
pub fn die_of_sigpipe() -> ! {
    use nix::sys::signal::{raise, signal, SigHandler, Signal};
    // SAFETY: SIG_DFL installs no handler of ours.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    let _ = raise(Signal::SIGPIPE);
    std::process::exit(128 + libc::SIGPIPE)
}

/// Eight random bytes from the kernel (`/dev/urandom`); time and pid mixed when it cannot be
/// read. For generated MACs, UUIDs and temporary file names, not for secrets.
pub fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .is_err()
    {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        return (t as u64) ^ u64::from(std::process::id()).rotate_left(32);
    }
    u64::from_le_bytes(buf)
}
