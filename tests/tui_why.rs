//! `w` on a network: the why form (checked as typed), the trace sent through the backend
//! actor's command, its report in a popup, and a fix run only after a confirmation that
//! shows its commands (`App::update` tables; the commands carried out by the real backend
//! over the simulated host with a scripted kernel trace); screenshots of the form, the
//! report and the question (insta, TestBackend, 80×24 and 160×48).

mod tui_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use switchyard::backend::{WhyOutcome, WhyRequest};
use switchyard::live::demo::Demo;
use switchyard::model::why::{By, Fix, Hop, Verdict, WhyProto, WhyReport};
use switchyard::tui::app::{Popup, WhyPhase};
use switchyard::tui::wizard::FieldId;
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

/// The phase of the why popup on top, in one word.
fn phase(app: &App) -> &'static str {
    match app.popup() {
        Some(Popup::Why(w)) => match &w.phase {
            WhyPhase::Form(_) => "form",
            WhyPhase::Tracing(_) => "tracing",
            WhyPhase::Report { fixed: false, .. } => "report",
            WhyPhase::Report { fixed: true, .. } => "fixed",
            WhyPhase::Confirm(_) => "confirm",
            WhyPhase::Applying(..) => "applying",
            WhyPhase::Failed { .. } => "failed",
        },
        _ => "none",
    }
}

fn form_error(app: &App, id: FieldId) -> Option<String> {
    match app.popup() {
        Some(Popup::Why(w)) => match &w.phase {
            WhyPhase::Form(f) => f.error(id).map(str::to_owned),
            _ => None,
        },
        _ => None,
    }
}

fn words(ws: &[&str]) -> Vec<String> {
    ws.iter().map(|w| (*w).to_owned()).collect()
}

/// Docker's table and FORWARD drop on the simulated host, with the kernel's trace of the
/// probe before and after the fix.
fn docker_demo() -> Demo {
    let demo = Demo::new();
    demo.host()
        .nft_apply(&json!({"nftables": [
            {"add": {"table": {"family": "ip", "name": "filter"}}},
            {"add": {"chain": {"family": "ip", "table": "filter", "name": "FORWARD",
                "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}},
            {"add": {"chain": {"family": "ip", "table": "filter", "name": "DOCKER-USER"}}},
            {"add": {"chain": {"family": "ip", "table": "filter",
                "name": "DOCKER-ISOLATION-STAGE-1"}}}]}))
        .expect("Docker's table");
    let line = |s: &str| s.to_owned();
    demo.host().script_trace(vec![
        line("trace id 1 inet switchyard why_mark packet: iif \"virbr0\" ip saddr 192.168.122.254 ip id 7"),
        line("trace id 2 inet switchyard why_fwd packet: iif \"virbr0\" oif \"eth0\" ip id 7"),
        line("trace id 2 ip filter FORWARD packet: iif \"virbr0\" oif \"eth0\" ip id 7"),
        line("trace id 2 ip filter FORWARD rule counter jump DOCKER-USER # handle 9 (verdict jump DOCKER-USER)"),
        line("trace id 2 ip filter DOCKER-USER rule counter return # handle 5 (verdict return)"),
        line("trace id 2 ip filter FORWARD rule counter jump DOCKER-ISOLATION-STAGE-1 # handle 10 (verdict jump DOCKER-ISOLATION-STAGE-1)"),
        line("trace id 2 ip filter DOCKER-ISOLATION-STAGE-1 rule counter return # handle 3 (verdict return)"),
        line("trace id 2 ip filter FORWARD policy drop"),
    ]);
    demo.host().script_trace_after_fix(vec![
        line("trace id 1 inet switchyard why_mark packet: iif \"virbr0\" ip saddr 192.168.122.254 ip id 8"),
        line("trace id 2 inet switchyard why_fwd packet: iif \"virbr0\" oif \"eth0\" ip id 8"),
        line("trace id 2 ip filter FORWARD packet: iif \"virbr0\" oif \"eth0\" ip id 8"),
        line("trace id 2 ip filter FORWARD rule counter jump DOCKER-USER # handle 9 (verdict jump DOCKER-USER)"),
        line("trace id 2 ip filter DOCKER-USER rule iifname \"virbr0\" accept # handle 20 (verdict accept)"),
        line("trace id 3 inet switchyard why_post packet: oif \"eth0\" ip id 8"),
    ]);
    demo
}

fn docker_fix() -> Vec<Vec<String>> {
    vec![
        words(&[
            "iptables",
            "-I",
            "DOCKER-USER",
            "-i",
            "virbr0",
            "-j",
            "ACCEPT",
        ]),
        words(&[
            "iptables",
            "-I",
            "DOCKER-USER",
            "-o",
            "virbr0",
            "-m",
            "conntrack",
            "--ctstate",
            "RELATED,ESTABLISHED",
            "-j",
            "ACCEPT",
        ]),
    ]
}

#[test]
fn w_traces_through_the_backend_and_runs_the_fix_only_when_confirmed() {
    let mut app = app(80, 24);
    assert_eq!(
        app.selected_network().map(|n| n.name.as_str()),
        Some("default")
    );
    assert!(app.update(ch('w')).is_empty(), "w opens the form");
    assert_eq!(phase(&app), "form");

    // Checked as typed: the error sits beside the destination, and Enter sends nothing.
    type_str(&mut app, "203.0.113");
    let err = form_error(&app, FieldId::Destination).expect("an error beside it");
    assert!(err.contains("is not ADDR or ADDR:PORT"), "{err}");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert!(app.pending().is_empty());
    app.update(ctrl('u'));
    type_str(&mut app, "203.0.113.1:443");
    assert_eq!(form_error(&app, FieldId::Destination), None);

    let (id, cmd) = executed(&app.update(key(KeyCode::Enter))).expect("Enter traces");
    let want = WhyRequest {
        network: "default".into(),
        to: "203.0.113.1".parse().expect("ip"),
        port: Some(443),
        proto: WhyProto::Tcp,
        from_guest: None,
        inbound: false,
        from: None,
    };
    assert_eq!(
        cmd,
        Command::Why {
            request: want.clone()
        }
    );
    assert_eq!(phase(&app), "tracing");
    assert!(app.pending().contains_key(&id));

    let mut demo = docker_demo();
    let (_, r) = demo.execute(id, cmd);
    assert!(r.ok, "{}", r.message);
    let outcome = r.why.clone().expect("the answer");
    assert_eq!(outcome.report.verdict, Verdict::Dropped);
    app.update(Event::CommandDone(r));
    assert_eq!(phase(&app), "report");
    let text = lines(&render(&app, 80, 24)).join("\n");
    assert!(
        text.contains("dropped by table ip filter, chain FORWARD"),
        "{text}"
    );

    // f asks, showing the commands; n goes back to the report without running anything.
    assert!(app.update(ch('f')).is_empty());
    assert_eq!(phase(&app), "confirm");
    let text = lines(&render(&app, 80, 24)).join("\n");
    assert!(
        text.contains("$ iptables -I DOCKER-USER -i virbr0 -j ACCEPT"),
        "{text}"
    );
    assert!(app.update(ch('n')).is_empty());
    assert_eq!(phase(&app), "report");
    assert!(demo.host().fix_runs().is_empty());

    app.update(ch('f'));
    let (id, cmd) = executed(&app.update(ch('y'))).expect("y runs the fix");
    assert_eq!(
        cmd,
        Command::ApplyWhyFix {
            request: want,
            commands: docker_fix(),
        }
    );
    assert_eq!(phase(&app), "applying");
    let (_, r) = demo.execute(id, cmd);
    assert!(r.ok, "{}", r.message);
    assert_eq!(
        demo.host().fix_runs(),
        [docker_fix()],
        "exactly what was shown"
    );
    app.update(Event::CommandDone(r));
    assert_eq!(phase(&app), "fixed");
    let text = lines(&render(&app, 80, 24)).join("\n");
    assert!(text.contains("After the fix: delivered"), "{text}");

    // Enter: back to the form, filled in as traced; Esc there closes.
    app.update(key(KeyCode::Enter));
    assert_eq!(phase(&app), "form");
    let Some(Popup::Why(w)) = app.popup() else {
        panic!("the popup")
    };
    let WhyPhase::Form(f) = &w.phase else {
        panic!("the form")
    };
    assert_eq!(f.value(FieldId::Destination), "203.0.113.1:443");
    app.update(key(KeyCode::Esc));
    assert_eq!(phase(&app), "none");
}

fn report(verdict: Verdict, fix: Option<Fix>) -> WhyOutcome {
    WhyOutcome {
        report: WhyReport {
            verdict,
            by: Some(By {
                family: "ip".into(),
                table: "filter".into(),
                chain: "FORWARD".into(),
                rule: None,
                policy: Some("drop".into()),
                handle: None,
            }),
            path: vec![Hop {
                hook: "forward".into(),
                family: "ip".into(),
                table: "filter".into(),
                chain: "FORWARD".into(),
                verdict: "policy drop".into(),
            }],
            fix,
        },
        from: "192.168.122.254".parse().expect("ip"),
        notes: vec![],
    }
}

/// Opens the form, types `dest` and sends it: the request id.
fn traced(app: &mut App, dest: &str) -> u64 {
    app.update(ch('w'));
    type_str(app, dest);
    executed(&app.update(key(KeyCode::Enter))).expect("sent").0
}

fn answer(app: &mut App, id: u64, outcome: WhyOutcome) {
    app.update(Event::CommandDone(CommandResult {
        id,
        ok: true,
        message: "dropped".into(),
        why: Some(Box::new(outcome)),
        ..Default::default()
    }));
}

#[test]
fn form_rules_and_the_ways_out() {
    // (what is typed, protocol presses →, direction presses →, error expected or the request)
    type Case = (
        &'static str,
        usize,
        usize,
        Result<(Option<u16>, WhyProto, bool), &'static str>,
    );
    let cases: [Case; 6] = [
        ("10.0.0.1", 0, 0, Ok((None, WhyProto::Tcp, false))),
        ("10.0.0.1:53", 1, 0, Ok((Some(53), WhyProto::Udp, false))),
        ("10.0.0.1", 2, 1, Ok((None, WhyProto::Icmp, true))),
        ("10.0.0.1:80", 2, 0, Err("icmp has no port")),
        ("10.0.0.1:0", 0, 0, Err("is not ADDR or ADDR:PORT")),
        ("", 0, 0, Err("give ADDR or ADDR:PORT")),
    ];
    for (dest, proto, dir, want) in cases {
        let mut app = tui_support::app(80, 24);
        app.update(ch('w'));
        type_str(&mut app, dest);
        app.update(key(KeyCode::Tab));
        for _ in 0..proto {
            app.update(key(KeyCode::Right));
        }
        app.update(key(KeyCode::Tab));
        for _ in 0..dir {
            app.update(key(KeyCode::Right));
        }
        let effects = app.update(key(KeyCode::Enter));
        match want {
            Ok((port, p, inbound)) => {
                let Some((_, Command::Why { request })) = executed(&effects) else {
                    panic!("{dest}: sent: {effects:?}")
                };
                assert_eq!(
                    (request.port, request.proto, request.inbound),
                    (port, p, inbound),
                    "{dest}"
                );
            }
            Err(msg) => {
                assert!(effects.is_empty(), "{dest}");
                let err = form_error(&app, FieldId::Destination).expect("beside the field");
                assert!(err.contains(msg), "{dest}: {err}");
                let Some(Popup::Why(w)) = app.popup() else {
                    panic!("open")
                };
                let WhyPhase::Form(f) = &w.phase else {
                    panic!("the form")
                };
                assert_eq!(f.focused(), FieldId::Destination, "focus goes to the error");
            }
        }
    }

    // A stopped network: nothing to trace.
    let mut app = tui_support::app(80, 24);
    app.update(key(KeyCode::Down));
    assert_eq!(
        app.selected_network().map(|n| n.name.as_str()),
        Some("isolated")
    );
    app.update(ch('w'));
    assert_eq!(phase(&app), "none");
    assert!(app.toast().expect("says why").text.contains("not running"));

    // A failed trace: its words; Enter goes back to the form.
    let mut app = tui_support::app(80, 24);
    let id = traced(&mut app, "203.0.113.1");
    app.update(Event::CommandDone(CommandResult {
        id,
        ok: false,
        message: "trace: the simulated host has no packet path to trace".into(),
        ..Default::default()
    }));
    assert_eq!(phase(&app), "failed");
    app.update(key(KeyCode::Enter));
    assert_eq!(phase(&app), "form");

    // A fix that is only words, or runs another program: f never asks.
    for fix in [
        Fix::words("check `ip route get 203.0.113.1`"),
        Fix::run(vec![words(&["sysctl", "-w", "net.ipv4.ip_forward=1"])]),
    ] {
        let mut app = tui_support::app(80, 24);
        let id = traced(&mut app, "203.0.113.1");
        answer(&mut app, id, report(Verdict::NoRoute, Some(fix)));
        assert!(app.update(ch('f')).is_empty());
        assert_eq!(phase(&app), "report");
        assert!(app.toast().is_some());
    }

    // A failed fix keeps the report it came from; Esc closes while tracing, and the late
    // result is dropped with the popup gone.
    let mut app = tui_support::app(80, 24);
    let id = traced(&mut app, "203.0.113.1");
    answer(
        &mut app,
        id,
        report(Verdict::Dropped, Some(Fix::run(docker_fix()))),
    );
    app.update(ch('y'));
    let (id, _) = executed(&app.update(ch('y'))).expect("y, y");
    app.update(Event::CommandDone(CommandResult {
        id,
        ok: false,
        message: "run iptables -I DOCKER-USER -i virbr0 -j ACCEPT: exit status 1: iptables: \
                  No chain/target/match by that name."
            .into(),
        ..Default::default()
    }));
    let Some(Popup::Why(w)) = app.popup() else {
        panic!("open")
    };
    assert!(matches!(
        &w.phase,
        WhyPhase::Failed {
            before: Some(_),
            ..
        }
    ));
    app.update(key(KeyCode::Esc));
    let id = traced(&mut app, "203.0.113.1");
    app.update(key(KeyCode::Esc));
    assert_eq!(phase(&app), "none");
    answer(&mut app, id, report(Verdict::Delivered, None));
    assert_eq!(phase(&app), "none");
    assert!(app.pending().is_empty());
}

/// The screens worth a screenshot, and how to get there.
fn screens(w: u16, h: u16) -> Vec<(&'static str, App)> {
    let mut out = Vec::new();
    let mut form = app(w, h);
    form.update(ch('w'));
    type_str(&mut form, "203.0.113.1:80:");
    form.update(key(KeyCode::Tab));
    out.push(("why_form", form));

    for (name, confirm) in [("why_report", false), ("why_confirm", true)] {
        let mut demo = docker_demo();
        let mut done = app(w, h);
        let id = traced(&mut done, "203.0.113.1:443");
        let cmd = match done.pending().get(&id) {
            Some(p) => p.cmd.clone(),
            None => panic!("pending"),
        };
        let (_, r) = demo.execute(id, cmd);
        done.update(Event::CommandDone(r));
        if confirm {
            done.update(ch('f'));
        }
        out.push((name, done));
    }
    out
}

#[test]
fn why_screens_at_standard_sizes() {
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        for (name, app) in screens(w, h) {
            let terminal = render(&app, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
        }
    }
}

#[test]
fn a_long_path_scrolls_and_hostile_names_are_drawn_escaped() {
    let mut app = app(80, 24);
    let id = traced(&mut app, "203.0.113.1:80");
    let mut outcome = report(Verdict::Dropped, Some(Fix::run(docker_fix())));
    outcome.report.path = (0..20)
        .map(|i| Hop {
            hook: "forward".into(),
            family: "inet".into(),
            table: "evil\u{1b}[2J".into(),
            chain: format!("chain{i:02}"),
            verdict: "continue".into(),
        })
        .collect();
    answer(&mut app, id, outcome);
    let text = lines(&render(&app, 80, 24)).join("\n");
    assert!(
        text.contains("chain00") && !text.contains("chain19"),
        "{text}"
    );
    assert!(text.contains("▼"), "says there is more: {text}");
    assert!(text.contains("evil\\u{1b}[2J"), "escaped: {text}");
    app.update(key(KeyCode::PageDown));
    app.update(key(KeyCode::PageDown));
    app.update(key(KeyCode::PageDown));
    let text = lines(&render(&app, 80, 24)).join("\n");
    assert!(text.contains("chain19"), "{text}");
    assert!(
        text.contains("Fix (for this bridge only)"),
        "the end: {text}"
    );
    app.update(key(KeyCode::Home));
    let text = lines(&render(&app, 80, 24)).join("\n");
    assert!(text.contains("chain00"), "{text}");
}
