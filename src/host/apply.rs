//! Carrying out a plan as a transaction: steps in order; on the first failure, the undo of
//! every step already done, newest first. The error names the failed step, the kernel's (or
//! tool's) words, and what was rolled back.

use std::fmt;
use std::time::Duration;

use super::error::HostError;
use super::netlink::Netlink;
use super::{dnsmasq, nft, sysctl};
use crate::plan::{Plan, Step};
use crate::store;

/// Something that can carry out one step (the real host, or a fake in tests).
#[allow(async_fn_in_trait)]
pub trait StepRunner {
    async fn run(&mut self, step: &Step) -> Result<(), String>;
}

/// Test hooks, read from the environment so that tests can drive the real binary:
/// `SWITCHYARD_FAIL_STEP=N` makes step N (1-based) fail before it runs, and
/// `SWITCHYARD_PAUSE_STEP=N` sleeps a long time before step N, for killing mid-start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    pub fail_step: Option<usize>,
    pub pause_step: Option<usize>,
}

impl Faults {
    pub fn from_env() -> Faults {
        let num = |k: &str| std::env::var(k).ok().and_then(|v| v.parse().ok());
        Faults {
            fail_step: num("SWITCHYARD_FAIL_STEP"),
            pause_step: num("SWITCHYARD_PAUSE_STEP"),
        }
    }
}

/// A failed plan and what became of the rollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyError {
    pub index: usize,
    pub step: String,
    pub error: String,
    pub rolled_back: Vec<String>,
    pub rollback_failures: Vec<String>,
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {} ({}) failed: {}",
            self.index + 1,
            self.step,
            self.error
        )?;
        if self.rolled_back.is_empty() {
            write!(f, "; nothing had been changed")?;
        } else {
            write!(f, "; rolled back: {}", self.rolled_back.join(", "))?;
        }
        if !self.rollback_failures.is_empty() {
            write!(
                f,
                "; ROLLBACK INCOMPLETE: {}",
                self.rollback_failures.join("; ")
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ApplyError {}

/// Runs `plan` as a transaction; `progress` hears of each step before it runs.
pub async fn apply<R: StepRunner>(
    runner: &mut R,
    plan: &Plan,
    faults: Faults,
    mut progress: impl FnMut(usize, &Step),
) -> Result<(), ApplyError> {
    for (i, step) in plan.steps.iter().enumerate() {
        progress(i, step);
        if faults.pause_step == Some(i + 1) {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        let result = if faults.fail_step == Some(i + 1) {
            Err("injected failure (SWITCHYARD_FAIL_STEP)".to_owned())
        } else {
            runner.run(step).await
        };
        if let Err(error) = result {
            return Err(rollback(runner, &plan.steps[..i], i, step, error).await);
        }
    }
    Ok(())
}

async fn rollback<R: StepRunner>(
    runner: &mut R,
    done: &[Step],
    index: usize,
    failed: &Step,
    error: String,
) -> ApplyError {
    let mut rolled_back = Vec::new();
    let mut rollback_failures = Vec::new();
    for undo in done.iter().rev().filter_map(Step::undo) {
        match runner.run(&undo).await {
            Ok(()) => rolled_back.push(undo.to_string()),
            Err(e) => rollback_failures.push(format!("{undo}: {e}")),
        }
    }
    ApplyError {
        index,
        step: failed.to_string(),
        error,
        rolled_back,
        rollback_failures,
    }
}

/// Runs every step, going on after failures (for stop, where each removal stands alone).
/// Returns the failures.
pub async fn apply_all<R: StepRunner>(
    runner: &mut R,
    plan: &Plan,
    mut progress: impl FnMut(usize, &Step),
) -> Vec<String> {
    let mut failures = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        progress(i, step);
        if let Err(e) = runner.run(step).await {
            failures.push(format!("{step}: {e}"));
        }
    }
    failures
}

/// The real host: netlink, nft, dnsmasq, sysctls and files.
pub struct RealHost {
    pub nl: Netlink,
    /// dnsmasq processes told to stop; [`RealHost::finish`] waits for them, so their exit
    /// overlaps the steps after.
    stopping: Vec<i32>,
}

impl RealHost {
    pub fn new(nl: Netlink) -> RealHost {
        RealHost {
            nl,
            stopping: Vec::new(),
        }
    }

    /// Waits for the dnsmasq processes stopped so far to be gone.
    pub fn finish(&mut self) {
        dnsmasq::wait_gone(&std::mem::take(&mut self.stopping));
    }
}

/// Whether an error says the thing to remove is already gone.
fn already_gone(e: &HostError) -> bool {
    matches!(e, HostError::NoSuchDevice { .. })
        || matches!(
            e.errno(),
            Some(libc::EADDRNOTAVAIL) | Some(libc::ESRCH) | Some(libc::ENOENT)
        )
}

impl StepRunner for RealHost {
    async fn run(&mut self, step: &Step) -> Result<(), String> {
        let nl = &self.nl;
        let gone_ok = |r: Result<(), HostError>| match r {
            Err(e) if already_gone(&e) => Ok(()),
            other => other,
        };
        let r: Result<(), String> = match step {
            Step::CheckLink { name, want_bridge } => check_link(nl, name, *want_bridge).await,
            Step::CreateBridge(b) => nl.create_bridge(b).await.map_err(|e| e.to_string()),
            Step::DeleteLink { name } => {
                gone_ok(nl.delete_link(name).await).map_err(|e| e.to_string())
            }
            Step::SetSysctl { key, value, .. } => {
                sysctl::write_sysctl(key, value).map_err(|e| e.to_string())
            }
            Step::AddAddress { dev, addr } => {
                nl.add_addr(dev, *addr).await.map_err(|e| e.to_string())
            }
            Step::DelAddress { dev, addr } => {
                gone_ok(nl.del_addr(dev, *addr).await).map_err(|e| e.to_string())
            }
            Step::LinkUp { dev } => nl.set_up(dev).await.map_err(|e| e.to_string()),
            Step::LinkDown { dev } => gone_ok(nl.set_down(dev).await).map_err(|e| e.to_string()),
            Step::AddRoute { dest, gateway, dev } => nl
                .add_route(*dest, Some(*gateway), Some(dev))
                .await
                .map_err(|e| e.to_string()),
            Step::DelRoute { dest, gateway, dev } => {
                gone_ok(nl.del_route(*dest, Some(*gateway), Some(dev)).await)
                    .map_err(|e| e.to_string())
            }
            Step::LoadFirewall { script, .. } => nft::load(script).map_err(|e| e.to_string()),
            Step::WriteFile { path, contents } => {
                store::write_atomic(path, contents.as_bytes()).map_err(|e| e.to_string())
            }
            Step::RemoveFile { path } => store::remove_durable(path)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Step::StartDnsmasq { conf, pid_file, .. } => dnsmasq::start(conf, pid_file)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Step::StopDnsmasq { pid_file, .. } => {
                let conf = pid_file.with_extension("conf");
                match dnsmasq::signal_stop(pid_file, &conf) {
                    Ok(pid) => {
                        self.stopping.extend(pid);
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        r
    }
}

async fn check_link(nl: &Netlink, name: &str, want_bridge: bool) -> Result<(), String> {
    let links = nl.dump_links().await.map_err(|e| e.to_string())?;
    match links.iter().find(|l| l.name == name) {
        None => Err(format!("interface {name} does not exist")),
        Some(l) if want_bridge && l.kind != super::state::LinkKind::Bridge => {
            Err(format!("interface {name} exists but is not a bridge"))
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests;
