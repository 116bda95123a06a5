use super::*;
use crate::plan::BridgeSpec;

/// Records what it ran; fails steps whose kind is in `fail_kinds`.
#[derive(Default)]
struct Fake {
    ran: Vec<String>,
    fail_kinds: Vec<&'static str>,
}

impl StepRunner for Fake {
    async fn run(&mut self, step: &Step) -> Result<Outcome, HostError> {
        if self.fail_kinds.contains(&step.kind()) {
            return Err(HostError::from_errno(step.to_string(), libc::EEXIST));
        }
        self.ran.push(step.to_string());
        Ok(match step {
            Step::CreateBridge(_) => Outcome::CreatedLink { ifindex: 7 },
            _ => Outcome::Done,
        })
    }
}

fn plan() -> Plan {
    Plan {
        notes: Vec::new(),
        network: "lab".into(),
        steps: vec![
            Step::CreateBridge(BridgeSpec {
                name: "sybr0".into(),
                mac: None,
                mtu: None,
                stp: false,
                forward_delay_cs: 0,
                ifindex: None,
            }),
            Step::AddAddress {
                dev: "sybr0".into(),
                addr: "10.0.0.1/24".parse().expect("net"),
            },
            Step::LinkUp {
                dev: "sybr0".into(),
            },
            Step::LoadFirewall {
                script: "new".into(),
                previous: "old".into(),
            },
        ],
    }
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(f)
}

#[test]
fn success_runs_every_step_in_order() {
    let mut fake = Fake::default();
    let mut seen = Vec::new();
    run(apply(&mut fake, &plan(), |i, _| seen.push(i))).expect("applies");
    assert_eq!(seen, [0, 1, 2, 3]);
    assert_eq!(fake.ran.len(), 4);
}

#[test]
fn the_applied_steps_carry_the_created_bridge_index() {
    let mut fake = Fake::default();
    let done = run(apply(&mut fake, &plan(), |_, _| {})).expect("applies");
    match &done[0] {
        Step::CreateBridge(b) => assert_eq!(b.ifindex, Some(7)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        done[0].undo(),
        Some(Step::DeleteLink {
            name: "sybr0".into(),
            ifindex: Some(7)
        })
    );
}

#[test]
fn failure_rolls_back_newest_first() {
    let mut fake = Fake {
        fail_kinds: vec!["link-up"],
        ..Fake::default()
    };
    let err = run(apply(&mut fake, &plan(), |_, _| {})).expect_err("fails");
    assert_eq!(err.index, 2);
    assert_eq!(
        fake.ran,
        [
            "create bridge sybr0 stp off forward-delay 0cs",
            "add address 10.0.0.1/24 to sybr0",
            "remove address 10.0.0.1/24 from sybr0",
            "delete link sybr0 (index 7)",
        ]
    );
    let text = err.to_string();
    assert!(
        text.starts_with("step 3 (set sybr0 up) failed: set sybr0 up: File exists"),
        "{text}"
    );
    assert!(text.contains("rolled back: remove address"), "{text}");
}

#[test]
fn a_failure_at_each_step_leaves_nothing_behind() {
    for n in 1..=4 {
        let mut fake = Fake {
            fail_kinds: vec![plan().steps[n - 1].kind()],
            ..Fake::default()
        };
        let err = run(apply(&mut fake, &plan(), |_, _| {})).expect_err("fails");
        assert_eq!(err.index, n - 1);
        // Every change made was undone: the log is do(1..n-1) then their undos.
        assert_eq!(fake.ran.len(), 2 * (n - 1), "step {n}: {:?}", fake.ran);
    }
}

#[test]
fn firewall_undo_restores_the_previous_table() {
    let step = Step::LoadFirewall {
        script: "new".into(),
        previous: "old".into(),
    };
    assert_eq!(
        step.undo(),
        Some(Step::LoadFirewall {
            script: "old".into(),
            previous: "new".into()
        })
    );
}
