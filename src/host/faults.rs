//! Fault injection for the tests that drive the real binary, as a wrapper around a [`Host`]:
//! debug builds run their verbs over [`Faulty<RealHost>`](super::RealHost) (see
//! [`super::SystemHost`]), release builds over the real host itself, so no production path
//! holds a hook. With none of the variables below set the wrapper only forwards.
//!
//! - `SWITCHYARD_FAIL_STEP=N`: the Nth step run fails before it touches anything;
//! - `SWITCHYARD_PAUSE_STEP=N`: the Nth step is held until a signal interrupts the process
//!   (to kill or signal it mid-transaction);
//! - `SWITCHYARD_WHY_PAUSE`: a `why` trace holds with its probe port and trace rule in place
//!   until a signal comes (to check that an interrupted trace leaves nothing behind).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use super::error::HostError;
use super::listen::Listener;
use super::netlink::MacvtapMode;
use super::probe::{Probe, ProbeSeen};
use super::procscan::GuestIndex;
use super::seam::{DnsmasqSetup, Events, FileStamp, GuestInterface, Host, Look};
use super::trace::{TraceCapture, TraceRequest};
use crate::model::{PortRange, Proto};
use crate::plan::firewall::ObservedTable;
use crate::plan::steps::Outcome;
use crate::plan::Step;
use crate::state::{ForwardingSysctls, HostState, HostSummary, LinkCounters, LinkInfo, Neighbour};

/// A host whose steps fail or pause where the environment says (read once, when wrapped).
pub struct Faulty<H> {
    inner: H,
    fail_step: Option<usize>,
    pause_step: Option<usize>,
    why_pause: bool,
    ran: AtomicUsize,
}

impl<H: Host> Faulty<H> {
    /// Wraps `inner` with the faults the environment asks for.
    pub fn from_env(inner: H) -> Faulty<H> {
        let num = |k: &str| std::env::var(k).ok().and_then(|v| v.parse().ok());
        Faulty {
            inner,
            fail_step: num("SWITCHYARD_FAIL_STEP"),
            pause_step: num("SWITCHYARD_PAUSE_STEP"),
            why_pause: std::env::var_os("SWITCHYARD_WHY_PAUSE").is_some(),
            ran: AtomicUsize::new(0),
        }
    }

    /// The wrapped host.
    pub fn inner(&self) -> &H {
        &self.inner
    }

    /// The failure to report instead of running `step`, if any (counting the steps run).
    async fn before(&self, step: &Step) -> Option<HostError> {
        if self.fail_step.is_none() && self.pause_step.is_none() {
            return None;
        }
        let n = self.ran.fetch_add(1, Ordering::SeqCst) + 1;
        if self.pause_step == Some(n) {
            while !super::apply::interrupted() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            return Some(HostError::invalid(
                step.to_string(),
                "interrupted by a signal before this step",
            ));
        }
        (self.fail_step == Some(n)).then(|| {
            HostError::invalid(step.to_string(), "injected failure (SWITCHYARD_FAIL_STEP)")
        })
    }
}

impl<H: Host> Host for Faulty<H> {
    async fn run(&self, step: &Step) -> Result<Outcome, HostError> {
        if let Some(e) = self.before(step).await {
            return Err(e);
        }
        self.inner.run(step).await
    }

    async fn trace_probe(&self, mut req: TraceRequest) -> Result<TraceCapture, HostError> {
        req.hold_before_send |= self.why_pause;
        self.inner.trace_probe(req).await
    }

    // Everything else is the wrapped host's.

    async fn observe(&self) -> Result<HostState, HostError> {
        self.inner.observe().await
    }
    async fn observe_without_links(&self) -> Result<HostState, HostError> {
        self.inner.observe_without_links().await
    }
    fn forwarding(&self) -> ForwardingSysctls {
        self.inner.forwarding()
    }
    async fn firewall(&self) -> Result<Option<ObservedTable>, HostError> {
        self.inner.firewall().await
    }
    async fn look(&self) -> Result<Look, HostError> {
        self.inner.look().await
    }
    async fn link_by_index(&self, ifindex: u32) -> Result<Option<LinkInfo>, HostError> {
        self.inner.link_by_index(ifindex).await
    }
    async fn link_by_name(&self, name: &str) -> Result<Option<LinkInfo>, HostError> {
        self.inner.link_by_name(name).await
    }
    async fn settle(&self) {
        self.inner.settle().await
    }
    fn dnsmasq_pid(&self, pid_file: &Path, conf: &Path) -> Option<i32> {
        self.inner.dnsmasq_pid(pid_file, conf)
    }
    fn dnsmasq_setup(&self, run: &Path) -> DnsmasqSetup {
        self.inner.dnsmasq_setup(run)
    }
    fn guest_names(&self, links: &[LinkInfo]) -> BTreeMap<String, String> {
        self.inner.guest_names(links)
    }
    fn libvirt_interfaces(&self) -> Vec<GuestInterface> {
        self.inner.libvirt_interfaces()
    }
    async fn create_macvtap(
        &self,
        name: &str,
        parent: &str,
        mode: MacvtapMode,
        mac: [u8; 6],
    ) -> Result<u32, HostError> {
        self.inner.create_macvtap(name, parent, mode, mac).await
    }
    async fn set_up(&self, name: &str) -> Result<(), HostError> {
        self.inner.set_up(name).await
    }
    async fn delete_link(&self, ifindex: u32, name: &str) -> Result<(), HostError> {
        self.inner.delete_link(ifindex, name).await
    }
    async fn dump_links(&self) -> Result<Vec<LinkInfo>, HostError> {
        self.inner.dump_links().await
    }
    async fn dump_port_links(&self) -> Result<Vec<LinkInfo>, HostError> {
        self.inner.dump_port_links().await
    }
    fn dump_counters(&self) -> Result<Vec<(u32, LinkCounters)>, HostError> {
        self.inner.dump_counters()
    }
    async fn dump_neighbours(&self) -> Result<Vec<Neighbour>, HostError> {
        self.inner.dump_neighbours().await
    }
    fn events(&self) -> Result<Events, HostError> {
        self.inner.events()
    }
    fn guest_processes(&self) -> GuestIndex {
        self.inner.guest_processes()
    }
    fn libvirt_devices(&self) -> HashMap<String, String> {
        self.inner.libvirt_devices()
    }
    fn netns_id(&self) -> u64 {
        self.inner.netns_id()
    }
    fn netns_names(&self) -> Result<HashMap<i32, String>, HostError> {
        self.inner.netns_names()
    }
    fn file_stamp(&self, path: &Path) -> Result<Option<FileStamp>, HostError> {
        self.inner.file_stamp(path)
    }
    fn read_text(&self, path: &Path) -> Result<Option<String>, HostError> {
        self.inner.read_text(path)
    }
    fn now(&self) -> SystemTime {
        self.inner.now()
    }
    fn monotonic(&self) -> Duration {
        self.inner.monotonic()
    }
    fn summary(&self) -> HostSummary {
        self.inner.summary()
    }
    fn listeners(&self, proto: Proto, ports: PortRange) -> Vec<Listener> {
        self.inner.listeners(proto, ports)
    }
    async fn firewall_counters(&self) -> Result<BTreeMap<String, (u64, u64)>, HostError> {
        self.inner.firewall_counters().await
    }
    async fn nft_ruleset(&self) -> Result<serde_json::Value, HostError> {
        self.inner.nft_ruleset().await
    }
    async fn run_fix(&self, commands: &[Vec<String>]) -> Result<(), HostError> {
        self.inner.run_fix(commands).await
    }
    async fn probe(&self, probe: &Probe) -> Result<ProbeSeen, HostError> {
        self.inner.probe(probe).await
    }
}
