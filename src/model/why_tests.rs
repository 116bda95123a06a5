use super::*;

const DOCKER: &str = include_str!("../../tests/fixtures/why/docker.json");
const UFW: &str = include_str!("../../tests/fixtures/why/ufw.json");
const FIREWALLD: &str = include_str!("../../tests/fixtures/why/firewalld.json");

/// Our table with the tracer's chains, as a listing: the chains the trace lines name.
fn ours() -> Vec<Value> {
    let mut items = vec![serde_json::json!({"table": {"family": "inet", "name": "switchyard"}})];
    for (name, hook) in [
        (MARK_CHAIN, "prerouting"),
        (FWD_CHAIN, "forward"),
        (IN_CHAIN, "input"),
        (POST_CHAIN, "postrouting"),
        (DONE_CHAIN, "input"),
        ("base_forward", "forward"),
        ("base_input", "input"),
    ] {
        items.push(
            serde_json::json!({"chain": {"family": "inet", "table": "switchyard",
            "name": name, "hook": hook, "policy": "accept"}}),
        );
    }
    items.push(
        serde_json::json!({"chain": {"family": "inet", "table": "switchyard",
        "name": "net_lab_to"}}),
    );
    items
}

/// A fixture's listing with our table added.
fn with_ours(fixture: &str) -> Ruleset {
    let mut doc: Value = serde_json::from_str(fixture).expect("fixture JSON");
    doc["nftables"]
        .as_array_mut()
        .expect("items")
        .extend(ours());
    Ruleset::parse(&doc.to_string()).expect("parse")
}

fn probe(dst: &str, port: u16, proto: WhyProto) -> Probe {
    Probe {
        direction: Direction::Outbound,
        proto,
        src: "192.168.150.254".parse().expect("ip"),
        dst: dst.parse().expect("ip"),
        dport: Some(port),
        bridge: "sybr0".into(),
        subnet: "192.168.150.0/24".parse().expect("net"),
        guest_port: None,
    }
}

fn events(lines: &str, ruleset: &Ruleset) -> Vec<TraceEvent> {
    let all: Vec<TraceEvent> = lines
        .lines()
        .filter_map(|l| parse_trace_line(l.trim(), ruleset))
        .collect();
    probe_events(&all)
}

/// What the kernel printed for a probe Docker's FORWARD policy dropped (recorded in the
/// namespace test, shortened): the trace id changes after routing, the IP id does not.
const DOCKER_DROP: &str = r#"
trace id aa000001 inet switchyard why_mark packet: iif "sybr0" ip saddr 192.168.150.254 ip daddr 203.0.113.1 ip id 4242 ip protocol udp udp dport 9000
trace id aa000001 inet switchyard why_mark unknown rule handle 46 (verdict continue)
trace id aa000001 inet switchyard why_mark policy accept
trace id bb000002 inet switchyard why_fwd packet: iif "sybr0" oif "uplink" ip saddr 192.168.150.254 ip daddr 203.0.113.1 ip id 4242 ip protocol udp udp dport 9000
trace id bb000002 inet switchyard why_fwd policy accept
trace id bb000002 ip filter FORWARD packet: iif "sybr0" oif "uplink" ip saddr 192.168.150.254 ip daddr 203.0.113.1 ip id 4242 udp dport 9000
trace id bb000002 ip filter FORWARD rule counter packets 0 bytes 0 jump DOCKER-USER # handle 9 (verdict jump DOCKER-USER)
trace id bb000002 ip filter DOCKER-USER rule counter packets 0 bytes 0 return # handle 5 (verdict return)
trace id bb000002 ip filter FORWARD rule counter packets 0 bytes 0 jump DOCKER-ISOLATION-STAGE-1 # handle 10 (verdict jump DOCKER-ISOLATION-STAGE-1)
trace id bb000002 ip filter DOCKER-ISOLATION-STAGE-1 rule counter packets 0 bytes 0 return # handle 3 (verdict return)
trace id bb000002 ip filter FORWARD policy drop
trace id cc000003 inet switchyard why_mark packet: iif "sybr0" ip saddr 192.168.150.254 ip daddr 203.0.113.1 ip id 4243 ip protocol udp udp dport 9000
"#;

#[test]
fn a_docker_forward_drop_reads_as_its_policy_with_the_docker_user_fix() {
    let rs = with_ours(DOCKER);
    let ev = events(DOCKER_DROP, &rs);
    assert!(
        ev.iter().all(|e| e.id != "cc000003"),
        "a later packet is not the probe's"
    );
    let ctx = Context {
        ruleset: rs.clone(),
        ip_forward: true,
        ..Context::default()
    };
    let r = report(&ev, &probe("203.0.113.1", 9000, WhyProto::Udp), &ctx);
    assert_eq!(r.verdict, Verdict::Dropped);
    let by = r.by.expect("by");
    assert_eq!(
        (by.family.as_str(), by.table.as_str(), by.chain.as_str()),
        ("ip", "filter", "FORWARD")
    );
    assert_eq!(by.policy.as_deref(), Some("drop"));
    assert_eq!(
        r.fix.as_ref().map(Fix::text).as_deref(),
        Some(
            "iptables -I DOCKER-USER -i sybr0 -j ACCEPT && iptables -I DOCKER-USER -o sybr0 -m \
             conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
        )
    );
    let path: Vec<(&str, &str, &str)> = r
        .path
        .iter()
        .map(|h| (h.hook.as_str(), h.chain.as_str(), h.verdict.as_str()))
        .collect();
    assert_eq!(
        path,
        [
            ("forward", "FORWARD", "jump DOCKER-USER"),
            ("forward", "DOCKER-USER", "return"),
            ("forward", "FORWARD", "jump DOCKER-ISOLATION-STAGE-1"),
            ("forward", "DOCKER-ISOLATION-STAGE-1", "return"),
            ("forward", "FORWARD", "policy drop"),
        ]
    );
    let json = serde_json::to_value(WhyReport {
        verdict: Verdict::NoRoute,
        by: None,
        path: vec![],
        fix: None,
    })
    .expect("json");
    assert_eq!(
        json,
        serde_json::json!({"verdict": "no route", "by": null, "path": [], "fix": null})
    );
}

#[test]
fn hostile_names_are_matched_whole_and_never_reach_a_command_unquoted() {
    let listing = serde_json::json!({"nftables": [
        {"table": {"family": "inet", "name": "evil table"}},
        {"chain": {"family": "inet", "table": "evil table", "name": "in put; rm -rf /",
                   "hook": "input", "policy": "drop"}},
        {"chain": {"family": "inet", "table": "evil table", "name": "in"}},
        {"chain": {"family": "inet", "table": "switchyard", "name": MARK_CHAIN,
                   "hook": "prerouting"}},
        {"chain": {"family": "inet", "table": "switchyard", "name": IN_CHAIN, "hook": "input"}},
    ]});
    let rs = Ruleset::parse(&listing.to_string()).expect("parse");
    let line = "trace id 01 inet evil table in put; rm -rf / policy drop";
    let e = parse_trace_line(line, &rs).expect("a known chain");
    assert_eq!(e.chain, "in put; rm -rf /", "the longest known name wins");
    assert_eq!(e.kind, EventKind::Policy("drop".into()));
    assert!(parse_trace_line("trace id 01 inet other x policy drop", &rs).is_none());

    let lines =
        "trace id 01 inet switchyard why_mark packet: iif \"sybr0\" ip id 7 ip protocol udp\n\
                 trace id 02 inet switchyard why_in packet: iif \"sybr0\" ip id 7\n\
                 trace id 02 inet evil table in put; rm -rf / packet: iif \"sybr0\" ip id 7\n\
                 trace id 02 inet evil table in put; rm -rf / policy drop";
    let ev = events(lines, &rs);
    let ctx = Context {
        ruleset: rs,
        ..Context::default()
    };
    let r = report(&ev, &probe("192.168.150.1", 67, WhyProto::Udp), &ctx);
    assert_eq!(r.verdict, Verdict::Dropped);
    // nft takes no such names on its command line: no command is written at all.
    assert_eq!(r.fix, None);

    let mut odd = probe("192.168.150.1", 67, WhyProto::Udp);
    odd.bridge = "br\"0".into();
    let by = By {
        family: "inet".into(),
        table: "filter".into(),
        chain: "input".into(),
        rule: None,
        policy: Some("drop".into()),
        handle: None,
    };
    assert_eq!(fix_for(&by, &odd, &Context::default(), true), None);
    odd.bridge = "sybr0".into();
    assert_eq!(
        fix_for(&by, &odd, &Context::default(), true)
            .map(|f| f.text())
            .as_deref(),
        Some("nft 'insert rule inet filter input iifname \"sybr0\" udp dport 67 accept'")
    );

    assert_eq!(shell_quote("sybr0"), "sybr0");
    assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
    assert_eq!(nft_ident("DOCKER-USER").as_deref(), Some("DOCKER-USER"));
    assert_eq!(nft_ident("x;y"), None);
    assert_eq!(nft_ident(""), None);
}

#[test]
fn iptables_names_are_shell_quoted_in_the_fix() {
    let listing = serde_json::json!({"nftables": [
        {"chain": {"family": "ip", "table": "filter", "name": "INPUT", "hook": "input",
                   "policy": "drop"}},
        {"chain": {"family": "ip", "table": "filter", "name": "my $(chain)"}},
    ]});
    let ctx = Context {
        ruleset: Ruleset::parse(&listing.to_string()).expect("parse"),
        ..Context::default()
    };
    let by = By {
        family: "ip".into(),
        table: "filter".into(),
        chain: "my $(chain)".into(),
        rule: Some("drop".into()),
        policy: None,
        handle: Some(3),
    };
    let fix = fix_for(&by, &probe("192.168.150.1", 53, WhyProto::Udp), &ctx, true);
    assert_eq!(
        fix.map(|f| f.text()).as_deref(),
        Some("iptables -t filter -I 'my $(chain)' -i sybr0 -p udp --dport 53 -j ACCEPT")
    );
}

#[test]
fn owners_are_recognised_by_their_chains() {
    assert_eq!(owner(&with_ours(DOCKER), "ip", "filter"), Owner::Docker);
    assert_eq!(owner(&with_ours(DOCKER), "ip", "nat"), Owner::Docker);
    assert_eq!(owner(&with_ours(UFW), "ip", "filter"), Owner::Ufw);
    assert_eq!(
        owner(&with_ours(FIREWALLD), "inet", "firewalld"),
        Owner::Firewalld
    );
    assert_eq!(
        owner(&with_ours(FIREWALLD), "inet", "switchyard"),
        Owner::Switchyard
    );
    assert_eq!(
        owner(&Ruleset::default(), "inet", "filter"),
        Owner::Nftables
    );
}

#[test]
fn static_blockers_of_the_three_firewalls() {
    let all = [Need::Forward, Need::Dhcp, Need::Dns];
    let found = |fixture: &str| {
        blockers(&with_ours(fixture), "sybr0", &all)
            .into_iter()
            .map(|b| {
                (
                    b.need,
                    b.owner,
                    b.by.chain.clone(),
                    b.by.policy.is_some(),
                    b.fix.map(|f| f.text()).unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>()
    };
    let docker = found(DOCKER);
    assert_eq!(docker.len(), 1, "{docker:?}");
    assert_eq!(
        (docker[0].0, docker[0].1, docker[0].2.as_str(), docker[0].3),
        (Need::Forward, Owner::Docker, "FORWARD", true)
    );
    assert!(docker[0].4.contains("DOCKER-USER -i sybr0"));

    let ufw = found(UFW);
    let chains: Vec<(Need, &str)> = ufw.iter().map(|b| (b.0, b.2.as_str())).collect();
    assert_eq!(
        chains,
        [
            (Need::Forward, "FORWARD"),
            (Need::Dhcp, "ufw-skip-to-policy-input"),
            (Need::Dns, "INPUT"),
        ]
    );
    assert_eq!(ufw[0].4, "ufw route allow in on sybr0");
    assert_eq!(ufw[1].4, "ufw allow in on sybr0 to any port 67 proto udp");

    let firewalld = found(FIREWALLD);
    let needs: Vec<Need> = firewalld.iter().map(|b| b.0).collect();
    assert_eq!(needs, [Need::Dhcp, Need::Dns], "{firewalld:?}");
    assert!(firewalld
        .iter()
        .all(|b| b.2 == "filter_INPUT" && b.4.contains("--change-interface=sybr0")));

    // A rule that lets the bridge in first: no finding.
    let mut doc: Value = serde_json::from_str(DOCKER).expect("json");
    doc["nftables"]
        .as_array_mut()
        .expect("items")
        .push(serde_json::json!(
        {"rule": {"family": "ip", "table": "filter", "chain": "DOCKER-USER", "handle": 99,
                  "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}},
                                       "right": "sybr0"}}, {"accept": null}]}}));
    // (inserted last in the listing, so first means: before the `return` of DOCKER-USER)
    let rs = Ruleset::parse(&doc.to_string()).expect("parse");
    let mut reordered = rs.clone();
    let at = reordered
        .rules
        .iter()
        .position(|r| r.handle == 99)
        .expect("rule");
    let rule = reordered.rules.remove(at);
    reordered.rules.insert(0, rule);
    assert!(blockers(&reordered, "sybr0", &all).is_empty());
}

#[test]
fn legacy_tables_are_read_from_save_output() {
    let legacy = Legacy {
        tables: vec!["filter".into()],
        save: Some("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\nCOMMIT\n".into()),
    };
    assert_eq!(
        legacy.drop_policies(),
        [("filter".to_owned(), "FORWARD".to_owned())]
    );
    assert!(legacy.in_use());
    assert!(!Legacy::default().in_use());
    let empty = Legacy {
        tables: vec!["filter".into()],
        save: Some("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n".into()),
    };
    assert!(!empty.in_use(), "loaded but empty tables stop nothing");
    let unreadable = Legacy {
        tables: vec!["filter".into()],
        save: None,
    };
    assert!(unreadable.in_use(), "cannot tell: said");

    // Forwarded, passed every traced chain, then gone: iptables-legacy's FORWARD policy.
    let rs = with_ours(UFW);
    let lines = "trace id 01 inet switchyard why_mark packet: iif \"sybr0\" ip id 9\n\
                 trace id 02 inet switchyard why_fwd packet: iif \"sybr0\" ip id 9\n\
                 trace id 02 inet switchyard base_forward packet: ip id 9\n\
                 trace id 02 inet switchyard base_forward policy accept";
    let ctx = Context {
        ruleset: rs.clone(),
        legacy,
        ..Context::default()
    };
    let r = report(
        &events(lines, &rs),
        &probe("203.0.113.1", 80, WhyProto::Tcp),
        &ctx,
    );
    assert_eq!(r.verdict, Verdict::Dropped);
    let by = r.by.expect("by");
    assert_eq!(by.table, "filter (iptables-legacy)");
    assert_eq!(by.chain, "FORWARD");
    assert!(r
        .fix
        .expect("fix")
        .text()
        .contains("iptables-legacy -I FORWARD -i sybr0"));
}

#[test]
fn no_forward_hook_is_no_route_and_says_why() {
    let rs = with_ours(UFW);
    let lines = "trace id 01 inet switchyard why_mark packet: iif \"sybr0\" ip id 5\n\
                 trace id 01 inet switchyard why_mark policy accept";
    let ctx = Context {
        ruleset: rs.clone(),
        ip_forward: false,
        ..Context::default()
    };
    let r = report(
        &events(lines, &rs),
        &probe("203.0.113.1", 80, WhyProto::Tcp),
        &ctx,
    );
    assert_eq!(r.verdict, Verdict::NoRoute);
    let fix = r.fix.expect("fix");
    assert!(fix.text().contains("net.ipv4.ip_forward=1"));
    assert!(!fix.runnable(), "host-wide: shown, never run");
}

#[test]
fn trace_doc_marks_exactly_the_probe_flow() {
    let doc = trace_doc(&probe("203.0.113.1", 443, WhyProto::Tcp));
    let cmds = doc["nftables"].as_array().expect("cmds");
    assert_eq!(cmds.len(), 6);
    let rule = &cmds[5]["add"]["rule"];
    assert_eq!(rule["chain"], MARK_CHAIN);
    let text = rule["expr"].to_string();
    for want in [
        "\"192.168.150.254\"",
        "\"203.0.113.1\"",
        "\"l4proto\"",
        "443",
        "nftrace",
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
    let icmp = trace_doc(&probe("203.0.113.1", 1, WhyProto::Icmp));
    assert!(!icmp["nftables"][5]["add"]["rule"]["expr"]
        .to_string()
        .contains("dport"));
    let rs = with_ours(DOCKER);
    let undo = untrace_doc(&rs).expect("tracer chains present");
    assert_eq!(undo["nftables"].as_array().expect("cmds").len(), 10);
    assert!(untrace_doc(&Ruleset::parse(DOCKER).expect("parse")).is_none());
    assert_eq!(
        parse_target("10.0.0.1:80"),
        Ok(("10.0.0.1".parse().expect("ip"), Some(80)))
    );
    assert!(parse_target("10.0.0.1:0").is_err());
    assert!(parse_target("host:80").is_err());
}

/// A listing of one table whose chain `chain` drops, for the owner the table's shape names.
fn one_table(family: &str, table: &str, chains: &[&str]) -> Context {
    let mut items = vec![serde_json::json!({"table": {"family": family, "name": table}})];
    for c in chains {
        items.push(serde_json::json!({"chain": {"family": family, "table": table, "name": c}}));
    }
    Context {
        ruleset: Ruleset::parse(&serde_json::json!({ "nftables": items }).to_string())
            .expect("parse"),
        ..Context::default()
    }
}

fn by(family: &str, table: &str, chain: &str) -> By {
    By {
        family: family.into(),
        table: table.into(),
        chain: chain.into(),
        rule: None,
        policy: Some("drop".into()),
        handle: None,
    }
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

#[test]
fn each_fix_is_argument_vectors_and_its_text_is_rendered_from_them() {
    let docker = Context {
        ruleset: with_ours(DOCKER),
        ..Context::default()
    };
    let ufw = Context {
        ruleset: with_ours(UFW),
        ..Context::default()
    };
    let firewalld = Context {
        ruleset: with_ours(FIREWALLD),
        ..Context::default()
    };
    let mut netfilter = docker.clone();
    netfilter.br_netfilter = true;
    let mut legacy = one_table("ip", "filter", &["INPUT", "FORWARD"]);
    legacy.legacy = Legacy {
        tables: vec!["filter".into()],
        save: None,
    };
    let out = probe("203.0.113.1", 443, WhyProto::Tcp);
    let dhcp = probe("192.168.150.1", 67, WhyProto::Udp);
    let guest = probe("192.168.150.7", 22, WhyProto::Tcp);
    let mut inbound = probe("192.168.150.7", 2222, WhyProto::Tcp);
    inbound.direction = Direction::Inbound;
    inbound.guest_port = Some(22);
    let mut ping_in = probe("192.168.150.7", 1, WhyProto::Icmp);
    ping_in.direction = Direction::Inbound;
    let iptables = one_table("ip", "filter", &["INPUT", "FORWARD"]);
    let ip6 = one_table("ip6", "filter", &["INPUT", "FORWARD"]);
    let nft = Context::default();

    type Case<'a> = (
        &'a str,
        By,
        &'a Probe,
        &'a Context,
        bool,
        Vec<Vec<String>>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "Docker, forwarded out",
            by("ip", "filter", "FORWARD"),
            &out,
            &docker,
            false,
            vec![
                argv(&[
                    "iptables",
                    "-I",
                    "DOCKER-USER",
                    "-i",
                    "sybr0",
                    "-j",
                    "ACCEPT",
                ]),
                argv(&[
                    "iptables",
                    "-I",
                    "DOCKER-USER",
                    "-o",
                    "sybr0",
                    "-m",
                    "conntrack",
                    "--ctstate",
                    "RELATED,ESTABLISHED",
                    "-j",
                    "ACCEPT",
                ]),
            ],
            "iptables -I DOCKER-USER -i sybr0 -j ACCEPT && iptables -I DOCKER-USER -o sybr0 -m \
             conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        ),
        (
            "Docker, guest to guest through br_netfilter",
            by("ip", "filter", "FORWARD"),
            &guest,
            &netfilter,
            false,
            vec![argv(&[
                "iptables",
                "-I",
                "DOCKER-USER",
                "-i",
                "sybr0",
                "-o",
                "sybr0",
                "-j",
                "ACCEPT",
            ])],
            "iptables -I DOCKER-USER -i sybr0 -o sybr0 -j ACCEPT (br_netfilter, which Docker \
             loads, sends traffic between guests of the bridge through iptables)",
        ),
        (
            "ufw, forwarded",
            by("ip", "filter", "ufw-before-forward"),
            &out,
            &ufw,
            false,
            vec![argv(&["ufw", "route", "allow", "in", "on", "sybr0"])],
            "ufw route allow in on sybr0",
        ),
        (
            "ufw, DHCP to the host",
            by("ip", "filter", "ufw-before-input"),
            &dhcp,
            &ufw,
            true,
            vec![argv(&[
                "ufw", "allow", "in", "on", "sybr0", "to", "any", "port", "67", "proto", "udp",
            ])],
            "ufw allow in on sybr0 to any port 67 proto udp",
        ),
        (
            "firewalld, no zone",
            by("inet", "firewalld", "filter_FORWARD"),
            &out,
            &firewalld,
            false,
            vec![
                argv(&["firewall-cmd", "--zone=trusted", "--change-interface=sybr0"]),
                argv(&[
                    "firewall-cmd",
                    "--permanent",
                    "--zone=trusted",
                    "--change-interface=sybr0",
                ]),
            ],
            "the bridge is in no firewalld zone (the default zone takes it): firewall-cmd \
             --zone=trusted --change-interface=sybr0 && firewall-cmd --permanent \
             --zone=trusted --change-interface=sybr0",
        ),
        (
            "iptables, DHCP to the host",
            by("ip", "filter", "INPUT"),
            &dhcp,
            &iptables,
            true,
            vec![argv(&[
                "iptables", "-t", "filter", "-I", "INPUT", "-i", "sybr0", "-p", "udp", "--dport",
                "67", "-j", "ACCEPT",
            ])],
            "iptables -t filter -I INPUT -i sybr0 -p udp --dport 67 -j ACCEPT",
        ),
        (
            "ip6tables, forwarded",
            by("ip6", "filter", "FORWARD"),
            &out,
            &ip6,
            false,
            vec![
                argv(&[
                    "ip6tables",
                    "-t",
                    "filter",
                    "-I",
                    "FORWARD",
                    "-i",
                    "sybr0",
                    "-j",
                    "ACCEPT",
                ]),
                argv(&[
                    "ip6tables",
                    "-t",
                    "filter",
                    "-I",
                    "FORWARD",
                    "-o",
                    "sybr0",
                    "-m",
                    "conntrack",
                    "--ctstate",
                    "RELATED,ESTABLISHED",
                    "-j",
                    "ACCEPT",
                ]),
            ],
            "ip6tables -t filter -I FORWARD -i sybr0 -j ACCEPT && ip6tables -t filter -I \
             FORWARD -o sybr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        ),
        (
            "nftables, forwarded",
            by("inet", "filter", "forward"),
            &out,
            &nft,
            false,
            vec![
                argv(&[
                    "nft",
                    "insert rule inet filter forward iifname \"sybr0\" accept",
                ]),
                argv(&[
                    "nft",
                    "insert rule inet filter forward oifname \"sybr0\" ct state \
                     established,related accept",
                ]),
            ],
            "nft 'insert rule inet filter forward iifname \"sybr0\" accept' && nft 'insert rule \
             inet filter forward oifname \"sybr0\" ct state established,related accept'",
        ),
        (
            "Docker, inbound through a forward to the guest's port 22",
            by("ip", "filter", "FORWARD"),
            &inbound,
            &docker,
            false,
            vec![argv(&[
                "iptables",
                "-I",
                "DOCKER-USER",
                "-o",
                "sybr0",
                "-p",
                "tcp",
                "--dport",
                "22",
                "-j",
                "ACCEPT",
            ])],
            "iptables -I DOCKER-USER -o sybr0 -p tcp --dport 22 -j ACCEPT",
        ),
        (
            "ufw, inbound ping",
            by("ip", "filter", "ufw-before-forward"),
            &ping_in,
            &ufw,
            false,
            vec![argv(&["ufw", "route", "allow", "out", "on", "sybr0"])],
            "ufw route allow out on sybr0",
        ),
        (
            "iptables with iptables-legacy loaded too",
            by("ip", "filter", "FORWARD"),
            &out,
            &legacy,
            false,
            vec![
                argv(&[
                    "iptables", "-t", "filter", "-I", "FORWARD", "-i", "sybr0", "-j", "ACCEPT",
                ]),
                argv(&[
                    "iptables",
                    "-t",
                    "filter",
                    "-I",
                    "FORWARD",
                    "-o",
                    "sybr0",
                    "-m",
                    "conntrack",
                    "--ctstate",
                    "RELATED,ESTABLISHED",
                    "-j",
                    "ACCEPT",
                ]),
            ],
            "iptables -t filter -I FORWARD -i sybr0 -j ACCEPT && iptables -t filter -I FORWARD \
             -o sybr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT; note: \
             iptables-legacy tables are loaded too, and their rules cannot be traced (see \
             iptables-legacy-save)",
        ),
    ];
    for (what, by, probe, ctx, local, want_argv, want_text) in cases {
        let fix = fix_for(&by, probe, ctx, local).unwrap_or_else(|| panic!("{what}: a fix"));
        assert_eq!(fix.commands, want_argv, "{what}");
        assert_eq!(fix.text(), want_text, "{what}");
        assert!(fix.runnable(), "{what}: {:?}", check_fix(&fix.commands));
        assert_eq!(
            serde_json::to_value(&fix).expect("json"),
            Value::from(want_text),
            "{what}: the JSON keeps the text"
        );
    }
}

#[test]
fn advice_without_a_command_or_with_another_program_is_never_runnable() {
    let ours = Context {
        ruleset: with_ours(DOCKER),
        ..Context::default()
    };
    let own = fix_for(
        &by("inet", "switchyard", "base_forward"),
        &probe("203.0.113.1", 80, WhyProto::Tcp),
        &ours,
        false,
    )
    .expect("words");
    assert!(own.commands.is_empty() && !own.runnable());
    assert!(own.text().contains("switchyard edit"), "{own}");

    let lines = "trace id 01 inet switchyard why_mark packet: iif \"sybr0\" ip id 9\n\
                 trace id 02 inet switchyard why_fwd packet: iif \"sybr0\" ip id 9";
    let rs = with_ours(UFW);
    let ctx = Context {
        ruleset: rs.clone(),
        legacy: Legacy {
            tables: vec!["filter".into()],
            save: Some("*filter\n:FORWARD DROP [0:0]\nCOMMIT\n".into()),
        },
        ..Context::default()
    };
    let r = report(
        &events(lines, &rs),
        &probe("203.0.113.1", 80, WhyProto::Tcp),
        &ctx,
    );
    let fix = r.fix.expect("legacy fix");
    assert_eq!(
        fix.commands,
        [argv(&[
            "iptables-legacy",
            "-I",
            "FORWARD",
            "-i",
            "sybr0",
            "-j",
            "ACCEPT"
        ])]
    );
    assert_eq!(
        fix.text(),
        "iptables-legacy tables are loaded, and nftables tracing cannot see into them: \
         iptables-legacy -I FORWARD -i sybr0 -j ACCEPT (look first: iptables-legacy-save)"
    );
    assert!(!fix.runnable(), "iptables-legacy is shown, not run");

    for (commands, err) in [
        (vec![], "no command"),
        (vec![vec![]], "empty"),
        (vec![argv(&["sh", "-c", "reboot"])], "'sh' is not a program"),
        (
            vec![argv(&["/usr/sbin/iptables", "-L"])],
            "is not a program",
        ),
        (
            vec![argv(&["ufw", "route"]), argv(&["sysctl", "-w", "x=1"])],
            "'sysctl' is not",
        ),
        (vec![argv(&["nft", "a\0b"])], "NUL"),
    ] {
        let got = check_fix(&commands).expect_err("refused");
        assert!(got.contains(err), "{commands:?}: {got}");
    }
}

#[test]
fn hostile_chain_names_reach_the_argument_vector_verbatim() {
    let hostile = [
        "my $(chain)",
        "x'; reboot; '",
        "a\"b`c`",
        "ends with \\",
        "ünïcode ☃",
        "*?[glob]",
    ];
    for chain in hostile {
        let ctx = one_table("ip", "filter", &["INPUT", chain]);
        let fix = fix_for(
            &by("ip", "filter", chain),
            &probe("192.168.150.1", 53, WhyProto::Udp),
            &ctx,
            true,
        )
        .unwrap_or_else(|| panic!("{chain:?}: a fix"));
        assert_eq!(fix.commands.len(), 1);
        assert_eq!(fix.commands[0][4], chain, "verbatim, one word");
        assert!(fix.runnable());
        assert!(
            fix.text().contains(&shell_quote(chain)),
            "{chain:?}: {}",
            fix.text()
        );
    }
    // Names that would read as an option, or hold control characters, get no command.
    for chain in ["-F", "--flush", "", "new\nline", "tab\there"] {
        let ctx = one_table("ip", "filter", &["INPUT", chain]);
        let fix = fix_for(
            &by("ip", "filter", chain),
            &probe("192.168.150.1", 53, WhyProto::Udp),
            &ctx,
            true,
        );
        assert_eq!(fix, None, "{chain:?}");
    }
    // A bridge name from elsewhere: no command at all.
    let mut odd = probe("203.0.113.1", 80, WhyProto::Tcp);
    for br in ["-br0", "br 0", "br;0", "br'0"] {
        odd.bridge = br.into();
        let ctx = Context {
            ruleset: with_ours(DOCKER),
            ..Context::default()
        };
        assert_eq!(
            fix_for(&by("ip", "filter", "FORWARD"), &odd, &ctx, false),
            None,
            "{br}"
        );
    }
}

proptest::proptest! {
    /// A shell given a fix's text sees exactly its argument vectors: `sh` splits each
    /// rendered command back into the words that would be run (printed NUL-separated).
    #[test]
    fn a_shell_reads_the_text_back_as_the_argv(chain in "[^\\x00]{0,20}") {
        let ctx = one_table("ip", "filter", &["INPUT", &chain]);
        let fix = fix_for(
            &by("ip", "filter", &chain),
            &probe("192.168.150.1", 53, WhyProto::Udp),
            &ctx,
            true,
        );
        let refused = chain.is_empty() || chain.starts_with('-') || chain.chars().any(char::is_control);
        proptest::prop_assert_eq!(fix.is_none(), refused);
        let Some(fix) = fix else { return Ok(()) };
        let line = Fix::command_text(&fix.commands[0]);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s\\0' {line}"))
            .output()
            .expect("sh runs");
        let words: Vec<String> = String::from_utf8(out.stdout)
            .expect("utf-8")
            .split_terminator('\0')
            .map(str::to_owned)
            .collect();
        proptest::prop_assert_eq!(&words, &fix.commands[0]);
    }
}
