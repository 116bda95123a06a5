//! A signal during a transaction: the step under way finishes, the next one does not run, and
//! what was done is rolled back. In a binary of its own, since the interrupt flag is
//! process-wide.

use switchyard::host::apply::{apply, interrupt, Outcome, StepRunner};
use switchyard::host::HostError;
use switchyard::plan::{Plan, Step};

/// Records what it ran and raises the interrupt after its second step.
#[derive(Default)]
struct Runner {
    ran: Vec<String>,
}

impl StepRunner for Runner {
    async fn run(&mut self, step: &Step) -> Result<Outcome, HostError> {
        self.ran.push(step.to_string());
        if self.ran.len() == 2 {
            interrupt();
        }
        Ok(Outcome::Done)
    }
}

#[test]
fn an_interrupt_stops_before_the_next_step_and_rolls_back() {
    let dev = || "sybr0".to_owned();
    let plan = Plan {
        notes: Vec::new(),
        network: "lab".into(),
        steps: vec![
            Step::AddAddress {
                dev: dev(),
                addr: "10.0.0.1/24".parse().expect("net"),
            },
            Step::LinkUp { dev: dev() },
            Step::AddAddress {
                dev: dev(),
                addr: "10.0.1.1/24".parse().expect("net"),
            },
        ],
    };
    let mut runner = Runner::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let err = rt
        .block_on(apply(&mut runner, &plan, |_, _| {}))
        .expect_err("interrupted");
    assert_eq!(err.index, 2);
    assert!(err.to_string().contains("interrupted by a signal"), "{err}");
    assert_eq!(
        runner.ran,
        [
            "add address 10.0.0.1/24 to sybr0",
            "set sybr0 up",
            "set sybr0 down",
            "remove address 10.0.0.1/24 from sybr0"
        ]
    );
}
