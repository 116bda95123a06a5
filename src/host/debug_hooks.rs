//! Test hooks of debug builds only (release builds have none): the tests that drive the real
//! binary set `SWITCHYARD_FAIL_STEP=N` to make the Nth step this host runs fail before it
//! touches anything, or `SWITCHYARD_PAUSE_STEP=N` to hold the Nth step until a signal
//! interrupts the process (to kill or signal it mid-transaction).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::error::HostError;
use crate::plan::Step;

#[derive(Debug, Default)]
pub struct Hooks {
    fail_step: Option<usize>,
    pause_step: Option<usize>,
    ran: AtomicUsize,
}

impl Hooks {
    pub fn from_env() -> Hooks {
        let num = |k: &str| std::env::var(k).ok().and_then(|v| v.parse().ok());
        Hooks {
            fail_step: num("SWITCHYARD_FAIL_STEP"),
            pause_step: num("SWITCHYARD_PAUSE_STEP"),
            ran: AtomicUsize::new(0),
        }
    }

    /// Called before each step: the failure to report instead of running it, if any.
    pub async fn before(&self, step: &Step) -> Option<HostError> {
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
