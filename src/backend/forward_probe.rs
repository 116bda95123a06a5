//! `forward test`: a forward probed the three ways a user reaches it — from outside the host,
//! from the host itself, and from the network's own bridge (hairpin) — each through a
//! throwaway namespace or socket that is removed afterwards.
//!
//! The types here are the contract the CLI and the TUI read; the probing lives in `host/`.

use std::net::Ipv4Addr;

use serde::Serialize;

use super::{Backend, BackendError};
use crate::host::Host;
use crate::model::forward::{Forward, PortRange, Proto};

/// Which way a probe reached the forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbePath {
    /// From a throwaway namespace connected to the host by a probe link, to a host address.
    Outside,
    /// From the host itself, to its own address.
    Host,
    /// From a throwaway port on the network's bridge, to the host's address.
    Hairpin,
}

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ProbeOutcome {
    /// The guest answered: `how` is "SYN-ACK", "RST" or "reply" (UDP).
    Answered { how: String },
    /// No answer. `counter_hit` says whether the forward's DNAT counter moved (the rule was
    /// reached); `stopped_by` names what stopped the packet when that is known (another
    /// table's chain, no route, the guest not answering).
    NoAnswer {
        counter_hit: bool,
        stopped_by: Option<String>,
    },
    /// The probe could not run this way (no host address to aim at, no free address on the
    /// network, …).
    Skipped { reason: String },
}

/// One of the three probes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathResult {
    pub path: ProbePath,
    /// Where the probe was sent from and to, in words ("probe link 198.18.0.2",
    /// "192.0.2.10:8080").
    pub from: String,
    pub to: String,
    pub outcome: ProbeOutcome,
    /// A caveat for this path (the outside probe arrives on a probe link, not the uplink).
    pub note: Option<String>,
}

/// The report of `forward test`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardTest {
    pub network: String,
    pub forward: Forward,
    /// The target address the forward resolves to now.
    pub to: Option<Ipv4Addr>,
    pub paths: Vec<PathResult>,
}

impl<H: Host> Backend<H> {
    /// `forward test`: probes the forward of `proto` on host port(s) `port` of a running
    /// network three ways, and leaves nothing behind.
    pub async fn test_forward(
        &self,
        network: &str,
        proto: Proto,
        port: PortRange,
    ) -> Result<ForwardTest, BackendError> {
        let _ = (network, proto, port);
        Err(BackendError::Invalid(vec![crate::model::Problem::new(
            "forward",
            "forward test is not built yet".to_owned(),
        )]))
    }
}
