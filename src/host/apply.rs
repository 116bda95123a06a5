//! Carrying out a plan as a transaction: steps in order; on the first failure, the undo of
//! every step already done, newest first. The error names the failed step, the kernel's (or
//! tool's) words, and what was rolled back.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::error::HostError;
pub use crate::plan::steps::Outcome;
use crate::plan::{Plan, Step};

/// Something that can carry out one step (the real host, or a fake in tests).
#[allow(async_fn_in_trait)]
pub trait StepRunner {
    async fn run(&mut self, step: &Step) -> Result<Outcome, HostError>;
}

/// Any [`Host`](super::seam::Host) as a step runner.
pub struct On<'a, H>(pub &'a H);

impl<H: super::seam::Host> StepRunner for On<'_, H> {
    async fn run(&mut self, step: &Step) -> Result<Outcome, HostError> {
        self.0.run(step).await
    }
}

/// Set when a signal asked the process to end: a transaction under way stops before its next
/// step and rolls back, so the host is never left half-configured.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Asks every transaction under way in this process to stop and roll back.
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Whether [`interrupt`] was called.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Transactions under way in this process.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Whether a transaction is under way (a signal handler then lets it roll back before the
/// process ends, instead of ending it at once).
pub fn in_flight() -> bool {
    IN_FLIGHT.load(Ordering::SeqCst) > 0
}

/// Counts a transaction as under way while it lives.
struct InFlight;

impl InFlight {
    fn new() -> InFlight {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A failed plan and what became of the rollback.
#[derive(Debug, Clone)]
pub struct ApplyError {
    pub index: usize,
    pub step: Step,
    pub error: HostError,
    /// The undo steps that ran, in the order they ran.
    pub rolled_back: Vec<Step>,
    pub rollback_failures: Vec<(Step, HostError)>,
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
            let undone: Vec<String> = self.rolled_back.iter().map(Step::to_string).collect();
            write!(f, "; rolled back: {}", undone.join(", "))?;
        }
        if !self.rollback_failures.is_empty() {
            let failed: Vec<String> = self
                .rollback_failures
                .iter()
                .map(|(s, e)| format!("{s}: {e}"))
                .collect();
            write!(f, "; ROLLBACK INCOMPLETE: {}", failed.join("; "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ApplyError {}

/// Runs `plan` as a transaction; `progress` hears of each step before it runs. Returns the
/// steps as they were carried out: a created link carries its interface index.
pub async fn apply<R: StepRunner>(
    runner: &mut R,
    plan: &Plan,
    mut progress: impl FnMut(usize, &Step),
) -> Result<Vec<Step>, ApplyError> {
    let _counted = InFlight::new();
    let mut done: Vec<Step> = Vec::with_capacity(plan.steps.len());
    for (i, step) in plan.steps.iter().enumerate() {
        progress(i, step);
        let result = if interrupted() {
            Err(HostError::invalid(
                step.to_string(),
                "interrupted by a signal before this step",
            ))
        } else {
            runner.run(step).await
        };
        match result {
            Ok(outcome) => done.push(step.clone().with_outcome(outcome)),
            Err(error) => return Err(rollback(runner, &done, i, step, error).await),
        }
    }
    Ok(done)
}

async fn rollback<R: StepRunner>(
    runner: &mut R,
    done: &[Step],
    index: usize,
    failed: &Step,
    error: HostError,
) -> ApplyError {
    let mut rolled_back = Vec::new();
    let mut rollback_failures = Vec::new();
    for undo in done.iter().rev().filter_map(Step::undo) {
        match runner.run(&undo).await {
            Ok(_) => rolled_back.push(undo),
            Err(e) => rollback_failures.push((undo, e)),
        }
    }
    ApplyError {
        index,
        step: failed.clone(),
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
) -> Vec<(Step, HostError)> {
    let _counted = InFlight::new();
    let mut failures = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        progress(i, step);
        if let Err(e) = runner.run(step).await {
            failures.push((step.clone(), e));
        }
    }
    failures
}

#[cfg(test)]
mod tests;
