//! The Forwards view (`6`): the keys and the effects they emit (`App::update` tables, the
//! commands carried out by the real backend over the simulated host), and screenshots of the
//! view, the form with an error beside a field, its review and the self-test popup (insta,
//! TestBackend, 80×24 and 160×48).

mod tui_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use switchyard::live::demo::Demo;
use switchyard::model::forward::{PortRange, Proto, Target};
use switchyard::tui::app::{ForwardSort, ForwardTestView, Popup, View};
use switchyard::tui::wizard::{FieldId, ForwardState};
use switchyard::tui::{App, Command, CommandResult, Effect, Event};
use tui_support::*;

fn executed(effects: &[Effect]) -> Option<(u64, Command)> {
    match effects {
        [Effect::Execute(id, cmd)] => Some((*id, cmd.clone())),
        _ => None,
    }
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// The listed forwards' host ports, in the view's order.
fn ports(app: &App) -> Vec<u16> {
    let s = app.forwards_state();
    s.order
        .iter()
        .map(|i| app.snapshot().forwards[*i].forward.port.first)
        .collect()
}

fn form_error(app: &App, id: FieldId) -> Option<String> {
    match app.popup() {
        Some(Popup::Forward(f)) => f.error(id).map(str::to_owned),
        _ => None,
    }
}

fn form_state(app: &App) -> Option<ForwardState> {
    match app.popup() {
        Some(Popup::Forward(f)) => Some(f.state().clone()),
        _ => None,
    }
}

#[test]
fn six_opens_the_forwards_sorted_and_filtered_like_the_other_tables() {
    let mut app = app(80, 24);
    assert!(app.update(ch('6')).is_empty());
    assert_eq!(app.view(), View::Forwards);
    assert_eq!(ports(&app), [2222, 8080], "network, then protocol and port");
    let web = &app
        .snapshot()
        .forwards
        .iter()
        .find(|f| f.forward.port.first == 8080);
    let web = web.expect("the web forward");
    assert!(
        web.hit_rate.is_some_and(|r| (r - 3.5).abs() < 0.6),
        "the live source's rate: {:?}",
        web.hit_rate
    );
    // o: by port, by hit rate (busiest first), by hits, by target.
    let cases: [(Event, ForwardSort, [u16; 2]); 4] = [
        (ch('o'), ForwardSort::Port, [2222, 8080]),
        (ch('o'), ForwardSort::HitRate, [8080, 2222]),
        (ch('O'), ForwardSort::HitRate, [2222, 8080]),
        (ch('o'), ForwardSort::Hits, [8080, 2222]),
    ];
    for (ev, sort, want) in cases {
        app.update(ev);
        assert_eq!(app.forwards_state().sort, sort);
        assert_eq!(ports(&app), want, "{sort:?}");
    }
    app.update(ch('/'));
    type_str(&mut app, "db01");
    app.update(key(KeyCode::Enter));
    assert_eq!(ports(&app), [2222], "filtered by the guest's name");
    app.update(ch('/'));
    app.update(key(KeyCode::Esc));
    assert_eq!(ports(&app).len(), 2, "filter cleared");
    app.update(ch('5'));
    app.update(key(KeyCode::Tab));
    assert_eq!(
        app.view(),
        View::Forwards,
        "Tab goes on from Log to Forwards"
    );
}

#[test]
fn d_asks_then_removes_through_the_backend() {
    let mut app = app(80, 24);
    app.update(ch('6'));
    assert!(app.update(ch('d')).is_empty(), "intent alone does nothing");
    let Some(Popup::Confirm(c)) = app.popup() else {
        panic!("a confirmation: {:?}", app.popup());
    };
    assert!(c.lines[0].contains("tcp/2222 of default"), "{:?}", c.lines);
    assert!(app.update(ch('n')).is_empty(), "no cancels");
    assert!(app.popup().is_none() && app.pending().is_empty());
    app.update(ch('d'));
    let (id, cmd) = executed(&app.update(ch('y'))).expect("y executes");
    assert_eq!(
        cmd,
        Command::RemoveForward {
            network: "default".into(),
            proto: Proto::Tcp,
            port: PortRange::single(2222),
        }
    );
    let mut demo = Demo::new();
    let (_, r) = demo.execute(id, cmd);
    assert!(r.ok, "{}", r.message);
    let left: Vec<u16> = demo
        .snapshot()
        .forwards
        .iter()
        .map(|f| f.forward.port.first)
        .collect();
    assert_eq!(left, [8080], "gone from the snapshot");
    app.update(Event::CommandDone(r));
    assert!(app.pending().is_empty());
}

#[test]
fn t_runs_the_self_test_and_shows_its_report_or_its_error() {
    let mut app = app(80, 24);
    app.update(ch('6'));
    let (id, cmd) = executed(&app.update(ch('t'))).expect("t executes at once");
    assert_eq!(
        cmd,
        Command::TestForward {
            network: "default".into(),
            proto: Proto::Tcp,
            port: PortRange::single(2222),
        }
    );
    assert!(matches!(
        app.popup(),
        Some(Popup::ForwardTest(ForwardTestView::Running(i, _))) if *i == id
    ));
    let (_, r) = Demo::new().execute(id, cmd);
    let ok = r.ok;
    let message = r.message.clone();
    app.update(Event::CommandDone(r));
    match app.popup() {
        Some(Popup::ForwardTest(ForwardTestView::Done(report))) => {
            assert!(ok);
            assert_eq!(report.forward.port, PortRange::single(2222));
        }
        Some(Popup::ForwardTest(ForwardTestView::Failed(_, why))) => {
            assert!(!ok);
            assert_eq!(why, &message, "the backend's words, as they are");
        }
        other => panic!("the test popup: {other:?}"),
    }
    assert!(app.update(key(KeyCode::Esc)).is_empty());
    assert!(app.popup().is_none());
}

#[test]
fn a_checks_each_field_with_the_model_reviews_and_adds() {
    let mut app = app(80, 24);
    app.update(ch('6'));
    app.update(ch('a'));
    assert_eq!(form_state(&app), Some(ForwardState::Editing));
    type_str(&mut app, "8080");
    let err = form_error(&app, FieldId::HostPort).expect("an error beside the port");
    assert!(err.contains("already forwards tcp/8080"), "{err}");
    app.update(ctrl('u'));
    type_str(&mut app, "70000");
    let err = form_error(&app, FieldId::HostPort).expect("out of range");
    assert!(err.contains("out of range"), "{err}");
    app.update(ctrl('u'));
    type_str(&mut app, "9090");
    assert_eq!(form_error(&app, FieldId::HostPort), None);
    // Target: the last choice is a typed address.
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Left));
    app.update(key(KeyCode::Tab));
    type_str(&mut app, "10.9.9.9");
    let err = form_error(&app, FieldId::TargetAddr).expect("outside the subnet");
    assert!(err.contains("outside the network's subnet"), "{err}");
    app.update(ctrl('u'));
    type_str(&mut app, "192.168.122.50");
    app.update(key(KeyCode::Tab));
    type_str(&mut app, "80-81");
    let err = form_error(&app, FieldId::TargetPort).expect("a range of another length");
    assert!(err.contains("covers 2 ports"), "{err}");
    app.update(ctrl('u'));
    type_str(&mut app, "80");
    assert!(app.update(key(KeyCode::Enter)).is_empty(), "Enter reviews");
    assert_eq!(form_state(&app), Some(ForwardState::Review));
    let Some(Popup::Forward(form)) = app.popup() else {
        panic!("the form")
    };
    let review: Vec<String> = form
        .review()
        .expect("a review")
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert!(
        review
            .iter()
            .any(|l| l.contains("dnat ip to 192.168.122.50:80") || l.contains("192.168.122.50")),
        "{review:#?}"
    );
    assert!(
        review
            .iter()
            .any(|l| l.contains("replace firewall") || l.contains("Applied live")),
        "{review:#?}"
    );
    let (id, cmd) = executed(&app.update(ch('y'))).expect("y adds");
    let Command::AddForward { network, forward } = &cmd else {
        panic!("{cmd:?}")
    };
    assert_eq!(network, "default");
    assert_eq!(forward.port, PortRange::single(9090));
    assert_eq!(
        forward.target,
        Target::Addr("192.168.122.50".parse().expect("ip"))
    );
    assert_eq!(forward.to_port, Some(PortRange::single(80)));
    assert!(matches!(form_state(&app), Some(ForwardState::Running(i)) if i == id));
    let mut demo = Demo::new();
    let (_, r) = demo.execute(id, cmd);
    assert!(r.ok, "{}", r.message);
    let snap = demo.snapshot();
    assert_eq!(snap.forwards.len(), 3, "the backend stored it");
    // A snapshot showing the new forward before the result: not an error of the form's.
    app.update(Event::Snapshot(std::sync::Arc::new(snap)));
    assert!(matches!(form_state(&app), Some(ForwardState::Running(i)) if i == id));
    assert_eq!(form_error(&app, FieldId::HostPort), None);
    app.update(Event::CommandDone(r));
    assert!(app.popup().is_none(), "done: the form closes");
}

#[test]
fn a_leased_guest_is_picked_and_pinned_with_the_forward() {
    let mut app = app(80, 24);
    app.update(ch('6'));
    app.update(ch('a'));
    type_str(&mut app, "5432");
    app.update(key(KeyCode::Tab));
    // Choose the lease of db01 among the targets.
    for _ in 0..6 {
        let Some(Popup::Forward(f)) = app.popup() else {
            panic!("the form")
        };
        if f.value(FieldId::Target)
            .starts_with("lease:52:54:00:6b:3c:02")
        {
            break;
        }
        app.update(key(KeyCode::Right));
    }
    app.update(key(KeyCode::Enter));
    let Some(Popup::Forward(form)) = app.popup() else {
        panic!("the form")
    };
    let review: Vec<String> = form
        .review()
        .expect("valid")
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert!(
        review.iter().any(|l| l.contains("pinned with the forward")),
        "{review:#?}"
    );
    let (id, cmd) = executed(&app.update(key(KeyCode::Enter))).expect("Enter adds");
    let mut demo = Demo::new();
    let (_, r) = demo.execute(id, cmd);
    assert!(r.ok, "{}", r.message);
    let snap = demo.snapshot();
    let added = snap
        .forwards
        .iter()
        .find(|f| f.forward.port.first == 5432)
        .expect("added");
    assert_eq!(added.guest.as_deref(), Some("db01"));
    assert_eq!(
        added.to.map(|a| a.to_string()).as_deref(),
        Some("192.168.122.3")
    );
}

#[test]
fn a_refusal_of_the_backend_goes_beside_its_field() {
    let mut app = app(80, 24);
    app.update(ch('6'));
    app.update(ch('a'));
    type_str(&mut app, "22");
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Left));
    app.update(key(KeyCode::Tab));
    type_str(&mut app, "192.168.122.4");
    app.update(key(KeyCode::Enter));
    let (id, _) = executed(&app.update(ch('y'))).expect("sent");
    app.update(Event::CommandDone(CommandResult {
        id,
        ok: false,
        message: "the definition is not valid:\n  port: tcp/22 is served on 0.0.0.0 by sshd \
                  (pid 812); a forward would take it from every address (another --port or \
                  --address, or --force to take it anyway)"
            .into(),
        ..Default::default()
    }));
    assert_eq!(
        form_state(&app),
        Some(ForwardState::Editing),
        "back to the fields"
    );
    let err = form_error(&app, FieldId::HostPort).expect("beside the port");
    assert!(err.contains("sshd (pid 812)"), "{err}");
    // A refusal naming no field is shown above the fields.
    app.update(key(KeyCode::Enter));
    let (id, _) = executed(&app.update(ch('y'))).expect("sent again");
    app.update(Event::CommandDone(CommandResult {
        id,
        ok: false,
        message: "cannot list the counters".into(),
        ..Default::default()
    }));
    let Some(Popup::Forward(f)) = app.popup() else {
        panic!("the form")
    };
    assert_eq!(f.general(), Some("cannot list the counters"));
}

#[test]
fn no_nat_network_no_form() {
    let mut app = app(80, 24);
    app.update(ch('6'));
    let mut demo = Demo::new();
    demo.execute(1, Command::StopAndUndefine("default".into()));
    app.update(Event::Snapshot(std::sync::Arc::new(demo.snapshot())));
    app.update(ch('a'));
    assert!(app.popup().is_none());
    let toast = app.toast().expect("says why");
    assert!(toast.text.contains("no NAT network"), "{}", toast.text);
}

/// The screens worth a screenshot, and the keys that lead there.
fn screens() -> Vec<(&'static str, Vec<Event>)> {
    let mut form_error = vec![ch('6'), ch('a')];
    form_error.extend("8080".chars().map(ch));
    form_error.push(key(KeyCode::Tab));
    let mut review = vec![ch('6'), ch('a')];
    review.extend("9090".chars().map(ch));
    review.extend([key(KeyCode::Tab), key(KeyCode::Left), key(KeyCode::Tab)]);
    review.extend("192.168.122.50".chars().map(ch));
    review.push(key(KeyCode::Tab));
    review.extend("80".chars().map(ch));
    review.push(key(KeyCode::Enter));
    vec![
        ("forwards", vec![ch('6')]),
        ("forward_form_error", form_error),
        ("forward_review", review),
    ]
}

#[test]
fn forwards_screens_at_standard_sizes() {
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        for (name, keys) in screens() {
            let mut app = app(w, h);
            for k in &keys {
                app.update(k.clone());
            }
            let terminal = render(&app, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
        }
    }
}

#[test]
fn the_self_test_popup_shows_the_backends_error() {
    let mut app = app(80, 24);
    app.update(ch('6'));
    let (id, _) = executed(&app.update(ch('t'))).expect("sent");
    app.update(Event::CommandDone(CommandResult {
        id,
        ok: false,
        message: "the definition is not valid:\n  forward: forward test is not built yet".into(),
        ..Default::default()
    }));
    let terminal = render(&app, 80, 24);
    insta::assert_snapshot!("forward_test_failed_80x24", terminal.backend());
}

#[test]
fn the_self_test_popup_shows_each_path_of_a_report() {
    use switchyard::backend::{ForwardTest, PathResult, ProbeOutcome, ProbePath};
    let mut app = app(80, 24);
    app.update(ch('6'));
    let (id, _) = executed(&app.update(ch('t'))).expect("sent");
    let forward = app.selected_forward().expect("selected").forward.clone();
    let report = ForwardTest {
        network: "default".into(),
        forward,
        to: Some("192.168.122.3".parse().expect("ip")),
        paths: vec![
            PathResult {
                path: ProbePath::Outside,
                from: "probe link 198.18.0.2".into(),
                to: "198.51.100.10:2222".into(),
                outcome: ProbeOutcome::Answered { how: "SYN-ACK".into() },
                note: Some("arrives on a probe link, not on eth0: rules tied to the uplink may treat real traffic differently".into()),
            },
            PathResult {
                path: ProbePath::Host,
                from: "the host".into(),
                to: "198.51.100.10:2222".into(),
                outcome: ProbeOutcome::NoAnswer {
                    counter_hit: true,
                    stopped_by: Some("table inet filter chain output".into()),
                },
                note: None,
            },
            PathResult {
                path: ProbePath::Hairpin,
                from: "a probe port on virbr0".into(),
                to: "198.51.100.10:2222".into(),
                outcome: ProbeOutcome::Skipped {
                    reason: "no free address in 192.168.122.0/24".into(),
                },
                note: None,
            },
        ],
    };
    app.update(Event::CommandDone(CommandResult {
        id,
        ok: true,
        message: "forward tcp/2222 of default tested".into(),
        forward_test: Some(Box::new(report)),
        ..Default::default()
    }));
    assert!(matches!(
        app.popup(),
        Some(Popup::ForwardTest(ForwardTestView::Done(_)))
    ));
    let terminal = render(&app, 80, 24);
    insta::assert_snapshot!("forward_test_report_80x24", terminal.backend());
}
