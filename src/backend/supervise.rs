//! Supervision of the networks' dnsmasq processes: one that died is started again, with a
//! growing pause between tries (1 s, 2 s, 4 s … up to a minute) so a dnsmasq that cannot start
//! does not spin. Used by the live TUI and by `autostart-all --supervise` (the boot unit).
//!
//! [`Backoff`] is pure (the caller passes the time); [`Backend::supervise_once`] takes the
//! networks' statuses and revives what is due.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Backend, NetworkStatus};
use crate::plan::dnsmasq::needs_dnsmasq;

/// The first pause after a failed start, doubled after each one up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause between two tries.
const MAX_PAUSE: Duration = Duration::from_secs(60);
/// A dnsmasq that has stayed up this long after a restart starts again from the first pause.
const STABLE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
struct Tries {
    count: u32,
    next: Instant,
    last: Instant,
}

/// When each network's dnsmasq may be tried again.
#[derive(Debug, Default)]
pub struct Backoff {
    tries: HashMap<String, Tries>,
}

impl Backoff {
    /// Whether network `name`'s dead dnsmasq may be started now.
    pub fn due(&self, name: &str, now: Instant) -> bool {
        self.tries.get(name).is_none_or(|t| now >= t.next)
    }

    /// A start was tried at `now` (whatever came of it): the next waits longer.
    pub fn tried(&mut self, name: &str, now: Instant) {
        let count = self.tries.get(name).map_or(0, |t| t.count) + 1;
        let pause = FIRST_PAUSE
            .saturating_mul(1 << (count - 1).min(6))
            .min(MAX_PAUSE);
        let tries = Tries {
            count,
            next: now + pause,
            last: now,
        };
        self.tries.insert(name.to_owned(), tries);
    }

    /// Network `name`'s dnsmasq is running at `now`: long enough after the last restart, its
    /// count starts over.
    pub fn alive(&mut self, name: &str, now: Instant) {
        if self
            .tries
            .get(name)
            .is_some_and(|t| now.duration_since(t.last) >= STABLE)
        {
            self.tries.remove(name);
        }
    }

    /// How many restarts in a row `name` has had.
    pub fn count(&self, name: &str) -> u32 {
        self.tries.get(name).map_or(0, |t| t.count)
    }
}

/// Whether a network's status says its dnsmasq died: running, fully started, readable, in
/// need of one, and none found.
pub fn dnsmasq_died(s: &NetworkStatus) -> bool {
    let needs = s.def.as_ref().is_ok_and(needs_dnsmasq);
    let started = !s
        .drift
        .iter()
        .any(|d| matches!(d, crate::plan::Drift::StartInterrupted));
    s.active && started && s.record_error.is_none() && needs && s.dnsmasq_pid.is_none()
}

impl<H: crate::host::Host> Backend<H> {
    /// One round: every network whose dnsmasq died and whose pause is over, except those in
    /// `busy` (an operation under way), gets a start of its dnsmasq. Returns a line per
    /// network tried, for the log.
    pub async fn supervise_once(
        &self,
        statuses: &[NetworkStatus],
        backoff: &mut Backoff,
        busy: &[String],
        now: Instant,
    ) -> Vec<(bool, String)> {
        let mut out = Vec::new();
        for s in statuses {
            if !dnsmasq_died(s) {
                backoff.alive(&s.name, now);
                continue;
            }
            if busy.contains(&s.name) || !backoff.due(&s.name, now) {
                continue;
            }
            backoff.tried(&s.name, now);
            out.push(self.revive_line(&s.name, backoff.count(&s.name)).await);
        }
        out
    }

    async fn revive_line(&self, name: &str, attempt: u32) -> (bool, String) {
        match self.revive_dnsmasq(name).await {
            Ok(Some(pid)) => (
                true,
                format!("{name}: dnsmasq had died; started again (pid {pid}, restart {attempt})"),
            ),
            Ok(None) => (true, format!("{name}: dnsmasq is running again")),
            Err(e) => (
                false,
                format!("{name}: dnsmasq had died and could not be started (try {attempt}): {e}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_a_minute_and_reset_once_stable() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        assert!(b.due("lab", t0));
        let mut now = t0;
        let mut pauses = Vec::new();
        for _ in 0..9 {
            b.tried("lab", now);
            let next = (1..=120)
                .map(|s| now + Duration::from_secs(s))
                .find(|t| b.due("lab", *t))
                .expect("due within two minutes");
            pauses.push(next.duration_since(now).as_secs());
            now = next;
        }
        assert_eq!(pauses, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert!(b.due("other", t0), "networks have their own pauses");
        b.tried("lab", now);
        b.alive("lab", now + Duration::from_secs(10));
        assert_eq!(b.count("lab"), 10, "not stable yet");
        b.alive("lab", now + STABLE);
        assert_eq!(b.count("lab"), 0);
    }
}
