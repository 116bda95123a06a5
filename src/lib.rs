//! switchyard: manage and watch a KVM host's virtual networks without libvirtd.
//!
//! The module map, from the pure core out to the edges (`tests/layering.rs` keeps the I/O
//! rule true):
//!
//! - **Pure** (no I/O, tested with tables and golden files): [`model`] (libvirt network XML,
//!   definitions, validation, encoded names), [`plan`] (what a start or stop does: steps, the
//!   nft JSON table, the dnsmasq configuration), [`state`] (what was observed of a host:
//!   links, addresses, routes, counters, guest processes).
//! - **The seam**: [`host`] is the only module that touches the system — every syscall,
//!   netlink socket, `/proc` and `/sys` read, sysctl and process spawn. Its [`host::Host`]
//!   trait has two implementations: [`host::RealHost`] on the kernel and
//!   [`host::fake::FakeHost`], an in-memory kernel for tests and `--demo` (with its own
//!   faults); debug builds run the verbs over `host::faults::Faulty`, a wrapper that fails
//!   or holds a step where a test's environment says, so no production path has a hook.
//!   [`store`] owns
//!   switchyard's own files (definitions, runtime records), all written atomically.
//! - **Over the seam**, generic in `H: Host`: [`backend`] (define, start, stop, update,
//!   attach: plan, apply, roll back), [`telemetry`] (the collector: ports, counters, rates,
//!   leases, guests), [`live`] (one thread that owns the host and publishes snapshots to the
//!   screens and runs their commands, serialised; [`live::demo`] is the simulated host).
//! - **Edges**: [`cli`] (the verbs), [`tui`] (the screens: `App::update` is pure and returns
//!   effects; the terminal shell around it does the I/O), [`sandbox`] (a throwaway namespace
//!   world for trying switchyard without touching the host).

pub mod backend;
pub mod cli;
pub mod host;
pub mod live;
pub mod model;
pub mod plan;
pub mod sandbox;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tui;
