//! The CLI verbs that need no privilege: define, dumpxml, list, create, undefine, autostart.
//! They only read the host (interface names, taken subnets) and write under `--home`.

use std::path::Path;
use std::process::{Command, Output};

fn sy(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run switchyard")
}

fn ok(home: &Path, args: &[&str]) -> String {
    let out = sy(home, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

fn err(home: &Path, args: &[&str]) -> String {
    let out = sy(home, args);
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(out.stdout.is_empty(), "errors go to stderr only");
    String::from_utf8(out.stderr).expect("utf8")
}

/// Every file under `dir`, with its content, for "nothing changed on disk".
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                out.extend(tree(&p));
            } else {
                out.push((
                    p.display().to_string(),
                    std::fs::read(&p).unwrap_or_default(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn corpus(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/compat/libvirt-networkxml")
        .join(rel)
}

fn xmllint_ok(file: &Path) -> bool {
    let schema = corpus("schemas/network.rng");
    match Command::new("xmllint")
        .args(["--noout", "--relaxng"])
        .arg(&schema)
        .arg(file)
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            true
        }
        Err(_) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped: xmllint is not installed (apt-get install libxml2-utils)");
            false
        }
        Err(e) => panic!("xmllint is needed under CI=true: {e}"),
    }
}

#[test]
fn create_dumpxml_validates_and_reads_back_identically() {
    let home = tempfile::tempdir().expect("home");
    let out = ok(home.path(), &["create", "--name", "lab", "--mode", "nat"]);
    assert!(out.contains("Network lab defined"), "{out}");
    let xml = ok(home.path(), &["dumpxml", "lab"]);
    assert!(xml.contains("<forward mode='nat'/>"), "{xml}");
    assert!(xml.contains("<mac address='52:54:00:"), "{xml}");
    assert!(xml.contains("<uuid>"), "{xml}");
    let file = home.path().join("lab.xml");
    std::fs::write(&file, &xml).expect("write");
    xmllint_ok(&file);
    let other = tempfile::tempdir().expect("home2");
    ok(other.path(), &["define", file.to_str().expect("utf8")]);
    assert_eq!(
        ok(other.path(), &["dumpxml", "lab"]),
        xml,
        "define reads it back identically"
    );
}

#[test]
fn list_json_has_the_documented_keys() {
    let home = tempfile::tempdir().expect("home");
    ok(
        home.path(),
        &[
            "create",
            "--name",
            "lab",
            "--mode",
            "nat",
            "--ipv4",
            "10.99.0.1/24",
            "--autostart",
        ],
    );
    let inactive_only: serde_json::Value =
        serde_json::from_str(&ok(home.path(), &["list", "--json"])).expect("json");
    assert_eq!(
        inactive_only,
        serde_json::json!([]),
        "list shows active networks only"
    );
    let all: serde_json::Value =
        serde_json::from_str(&ok(home.path(), &["list", "--all", "--json"])).expect("json");
    let net = &all[0];
    for key in [
        "name",
        "uuid",
        "active",
        "autostart",
        "mode",
        "bridge",
        "ipv4",
        "ipv6",
        "dhcp_ranges",
        "drift",
    ] {
        assert!(net.get(key).is_some(), "missing key {key}: {net}");
    }
    assert_eq!(net["name"], "lab");
    assert_eq!(net["active"], false);
    assert_eq!(net["autostart"], true);
    assert_eq!(net["ipv4"], "10.99.0.1/24");
    assert_eq!(net["dhcp_ranges"][0]["start"], "10.99.0.2");
    assert_eq!(net["dhcp_ranges"][0]["end"], "10.99.0.254");
}

#[test]
fn virsh_dumpxml_output_defines_unchanged() {
    let home = tempfile::tempdir().expect("home");
    for case in [
        "nat-network",
        "isolated-network",
        "routed-network",
        "host-bridge-net",
        "vepa-net",
        "metadata",
        "dnsmasq-options",
    ] {
        let file = corpus(&format!("out/{case}.xml"));
        let out = sy(home.path(), &["define", file.to_str().expect("utf8")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Corpus networks share names and subnets; a clash is the only acceptable refusal.
        if !out.status.success() {
            assert!(
                stderr.contains("overlaps") || stderr.contains("already"),
                "{case}: {stderr}"
            );
            continue;
        }
        let name = std::fs::read_to_string(&file)
            .expect("read")
            .split("<name>")
            .nth(1)
            .and_then(|s| s.split("</name>").next())
            .expect("name")
            .to_owned();
        let mut back = squash(&ok(home.path(), &["dumpxml", &name]));
        let original = squash(&std::fs::read_to_string(&file).expect("read"));
        // Like libvirt, define generates a MAC and a UUID where the file had none.
        for (elem, end) in [("<mac address=", "/>"), ("<uuid>", "</uuid>")] {
            if !original.contains(elem) {
                back = cut(&back, elem, end);
            }
        }
        assert_eq!(back, original, "{case}");
        ok(home.path(), &["undefine", &name]);
    }
}

/// `text` without the first element starting with `start` up to `end`.
fn cut(text: &str, start: &str, end: &str) -> String {
    match text.find(start) {
        Some(i) => {
            let j = text[i..]
                .find(end)
                .map_or(text.len(), |j| i + j + end.len());
            format!("{}{}", &text[..i], &text[j..])
        }
        None => text.to_owned(),
    }
}

/// Whitespace between elements and quote style aside.
fn squash(xml: &str) -> String {
    xml.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("> <", "><")
        .replace('"', "'")
}

#[test]
fn bad_input_names_the_problem_and_changes_nothing() {
    let home = tempfile::tempdir().expect("home");
    ok(
        home.path(),
        &[
            "create",
            "--name",
            "lab",
            "--mode",
            "nat",
            "--ipv4",
            "10.98.0.1/24",
        ],
    );
    let before = tree(home.path());
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "create",
                "--name",
                "x",
                "--mode",
                "nat",
                "--ipv4",
                "10.98.0.1/24",
            ],
            "ip[0]",
        ),
        (&["create", "--name", "a/b", "--mode", "nat"], "name"),
        (
            &[
                "create",
                "--name",
                "y",
                "--mode",
                "nat",
                "--ipv4",
                "10.5.0.1/24",
                "--dhcp",
                "10.6.0.2-10.6.0.9",
            ],
            "ip[0].dhcp.range[0]",
        ),
        (&["create", "--name", "z", "--mode", "warp"], "mode"),
        (
            &["create", "--name", "lab", "--mode", "nat"],
            "already defined",
        ),
        (&["dumpxml", "nope"], "does not exist"),
        (&["undefine", "nope"], "does not exist"),
        (&["autostart", "nope"], "does not exist"),
        (&["stop", "nope"], "does not exist"),
        (&["start", "nope"], "does not exist"),
        // Traversal and hostile names through every verb that takes a network name: refused
        // by name before any path is made from them.
        (&["stop", "../x"], "not a valid network name"),
        (&["start", "../x"], "not a valid network name"),
        (&["start", "../x", "--dry-run"], "not a valid network name"),
        (&["dumpxml", "../../etc/passwd"], "not a valid network name"),
        (&["undefine", "a/b"], "not a valid network name"),
        (&["autostart", ".."], "not a valid network name"),
        (&["leases", "../x"], "not a valid network name"),
        (
            &["pin", "../x", "52:54:00:00:00:01", "10.0.0.5"],
            "not a valid network name",
        ),
        (&["edit", "../x", "/dev/null"], "not a valid network name"),
        (&["ports", "../x"], "not a valid network name"),
        (&["attach", "../x"], "not a valid network name"),
        (&["detach", "../x"], "not a valid interface name"),
        (
            &["define", "/nonexistent.xml"],
            "cannot read /nonexistent.xml",
        ),
    ];
    for (args, needle) in cases {
        let msg = err(home.path(), args);
        assert!(
            msg.contains(needle),
            "{args:?}: expected {needle:?} in {msg}"
        );
    }
    let bad = home.path().join("bad.xml");
    std::fs::write(
        &bad,
        "<network>\n  <name>q</name>\n  <forward mode='open' dev='eth0'/>\n</network>\n",
    )
    .expect("write");
    let before_bad = tree(home.path());
    let msg = err(home.path(), &["define", bad.to_str().expect("utf8")]);
    assert!(msg.contains("line 3"), "XML errors name the line: {msg}");
    assert_eq!(tree(home.path()), before_bad);
    std::fs::remove_file(&bad).expect("rm");
    assert_eq!(tree(home.path()), before, "nothing on disk changed");
}

#[test]
fn autostart_flag_and_undefine() {
    let home = tempfile::tempdir().expect("home");
    ok(
        home.path(),
        &["create", "--name", "lab", "--mode", "isolated"],
    );
    ok(home.path(), &["autostart", "lab"]);
    assert!(home.path().join("networks/lab.autostart").exists());
    ok(home.path(), &["autostart", "lab", "--disable"]);
    assert!(!home.path().join("networks/lab.autostart").exists());
    ok(home.path(), &["undefine", "lab"]);
    assert!(!home.path().join("networks/lab.xml").exists());
}

fn dubious_fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/model/dubious")
        .join(format!("{name}.xml"))
}

#[test]
fn define_warns_about_dubious_values_that_create_refuses() {
    let home = tempfile::tempdir().expect("home");
    let file = dubious_fixture("isolated-network-address");
    let out = sy(home.path(), &["define", file.to_str().expect("utf8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "libvirt defines it, so do we: {stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Network tf-isolated defined"),
        "{out:?}"
    );
    assert!(
        stderr.contains("warning: ip[0].address: 192.168.100.0 is the network address"),
        "{stderr}"
    );
    let before = tree(home.path());
    let msg = err(
        home.path(),
        &[
            "create",
            "--name",
            "fresh",
            "--mode",
            "isolated",
            "--ipv4",
            "10.213.77.0/24",
        ],
    );
    assert!(
        msg.contains("ip[0].address: 10.213.77.0 is the network address"),
        "{msg}"
    );
    assert_eq!(tree(home.path()), before, "nothing defined");
}

#[test]
fn redefinition_keeps_the_uuid() {
    let home = tempfile::tempdir().expect("home");
    let file = dubious_fixture("isolated-network-address");
    let uuid = "3e4e5a2b-6a38-4b1e-9d64-0f1c7f3f2a10";
    ok(home.path(), &["define", file.to_str().expect("utf8")]);
    let xml = std::fs::read_to_string(&file).expect("read");
    let before = tree(home.path());
    let other = home.path().join("other-uuid.xml");
    std::fs::write(
        &other,
        xml.replace(uuid, "0b4f3c8e-9f7a-4e1c-8d1a-2c3b4a5d6e7f"),
    )
    .expect("write");
    let msg = err(home.path(), &["define", other.to_str().expect("utf8")]);
    let want = format!("uuid: network 'tf-isolated' is already defined with UUID {uuid}");
    assert!(msg.contains(&want), "{msg}");
    std::fs::remove_file(&other).expect("rm");
    assert_eq!(tree(home.path()), before, "nothing changed");
    let without = home.path().join("no-uuid.xml");
    let cut_uuid = xml.replace(&format!("  <uuid>{uuid}</uuid>\n"), "");
    std::fs::write(&without, cut_uuid.replace("tf.local", "tf.example")).expect("write");
    ok(home.path(), &["define", without.to_str().expect("utf8")]);
    let back = ok(home.path(), &["dumpxml", "tf-isolated"]);
    assert!(back.contains(uuid) && back.contains("tf.example"), "{back}");
}

#[test]
fn oversized_input_is_refused_by_its_size() {
    let home = tempfile::tempdir().expect("home");
    let big = home.path().join("big.xml");
    let pad = " ".repeat(2 * 1024 * 1024);
    std::fs::write(&big, format!("<network><name>n</name></network>{pad}")).expect("write");
    let msg = err(home.path(), &["define", big.to_str().expect("utf8")]);
    assert!(msg.contains("larger than 1048576 bytes"), "{msg}");
}

/// Runs a verb whose stdout is a pipe nobody reads any more (`… | head` after head quit).
fn with_closed_reader(home: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdout(writer)
        .output()
        .expect("run switchyard")
}

#[test]
fn a_reader_that_went_away_ends_a_verb_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let home = tempfile::tempdir().expect("home");
    ok(home.path(), &["create", "--name", "lab", "--mode", "nat"]);
    for args in [
        &["list", "--all"][..],
        &["list", "--all", "--json"],
        &["dumpxml", "lab"],
        &["leases", "lab"],
        &["autostart", "lab"],
        &["watch", "lab", "--count", "1", "--interval-ms", "50"],
        &["doctor"],
    ] {
        let out = with_closed_reader(home.path(), args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // As `ip` and `virsh` end: killed by SIGPIPE, which the shell reports as 141.
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGPIPE),
            "{args:?}: {:?}\n{stderr}",
            out.status
        );
        for noise in ["panicked", "BACKTRACE", "Broken pipe", "switchyard:"] {
            assert!(
                !stderr.contains(noise),
                "{args:?} said {noise:?}:\n{stderr}"
            );
        }
    }
}

#[test]
fn messages_say_what_is_wrong_once() {
    let home = tempfile::tempdir().expect("home");
    ok(home.path(), &["create", "--name", "lab", "--mode", "nat"]);
    let nosuch = err(home.path(), &["stop", "nosuch"]);
    assert!(
        nosuch.contains("network 'nosuch' does not exist") && !nosuch.contains("not active"),
        "{nosuch}"
    );
    let inactive = err(home.path(), &["stop", "lab"]);
    assert!(inactive.contains("network lab is not active"), "{inactive}");
    let nothere = err(home.path(), &["detach", "nothere"]);
    assert!(
        nothere.contains("there is no interface nothere") && !nothere.contains("not made by"),
        "{nothere}"
    );
    let lo = err(home.path(), &["detach", "lo"]);
    assert!(
        lo.contains("lo was not made by switchyard attach"),
        "an interface that exists but is not ours: {lo}"
    );
    // Errors that quote their cause, and a cause wrapped with context: each said once.
    let file = home.path().join("plain-file");
    std::fs::write(&file, "").expect("write");
    let not_dir = err(&file, &["list"]);
    assert_eq!(not_dir.matches("Not a directory").count(), 1, "{not_dir}");
    let bad = home.path().join("bad.xml");
    std::fs::write(&bad, "<network><name>q</name>\n<bad\n").expect("write");
    let malformed = err(home.path(), &["define", bad.to_str().expect("utf8")]);
    assert_eq!(malformed.matches("malformed XML").count(), 1, "{malformed}");
    assert!(!malformed.contains("caused by"), "{malformed}");
    let missing = err(home.path(), &["define", "/nonexistent.xml"]);
    assert_eq!(
        missing,
        "switchyard: cannot read /nonexistent.xml\n  caused by: No such file or directory (os error 2)\n"
    );
}

#[test]
fn leases_text_says_time_left_and_json_keeps_numbers() {
    let home = tempfile::tempdir().expect("home");
    ok(
        home.path(),
        &[
            "create",
            "--name",
            "lab",
            "--mode",
            "nat",
            "--ipv4",
            "10.99.0.1/24",
        ],
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let soon = now + 59 * 60 + 12;
    std::fs::create_dir_all(home.path().join("lib")).expect("lib");
    std::fs::write(
        home.path().join("lib/lab.leases"),
        format!(
            "{soon} 52:54:00:aa:00:01 10.99.0.50 web1 *\n\
             0 52:54:00:aa:00:02 10.99.0.51 * *\n\
             {} 52:54:00:aa:00:03 10.99.0.52 old *\n",
            now - 10
        ),
    )
    .expect("leases");
    let text = ok(home.path(), &["leases", "lab"]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("EXPIRES IN"), "{text}");
    let web1 = lines.iter().find(|l| l.contains("web1")).expect("web1");
    assert!(
        ["59m 12s", "59m 11s", "59m 10s"]
            .iter()
            .any(|t| web1.ends_with(t)),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("10.99.0.51") && l.ends_with("never")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("old") && l.ends_with("expired")),
        "{text}"
    );
    assert!(
        !text.contains(&soon.to_string()),
        "no unix seconds in the text: {text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(home.path(), &["leases", "lab", "--json"])).expect("json");
    assert_eq!(json[0]["expiry"], soon);
    assert_eq!(json[1]["expiry"], serde_json::Value::Null);
}

#[test]
fn list_text_shows_subnets_and_dhcp_ranges() {
    let home = tempfile::tempdir().expect("home");
    ok(
        home.path(),
        &[
            "create",
            "--name",
            "lab",
            "--mode",
            "nat",
            "--ipv4",
            "10.99.0.1/24",
            "--dhcp",
            "10.99.0.100-10.99.0.199",
            "--ipv6",
            "auto",
        ],
    );
    ok(
        home.path(),
        &[
            "create", "--name", "quiet", "--mode", "isolated", "--dhcp", "off",
        ],
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(home.path(), &["list", "--all", "--json"])).expect("json");
    let ipv6 = json[0]["ipv6"].as_str().expect("an IPv6 subnet").to_owned();
    let text = ok(home.path(), &["list", "--all"]);
    let lines: Vec<&str> = text.lines().collect();
    for column in [
        "Name", "State", "Mode", "Bridge", "IPv4", "DHCP", "IPv6", "Drift",
    ] {
        assert!(lines[0].contains(column), "{column}: {text}");
    }
    assert!(lines[1].chars().all(|c| c == '-'), "{text}");
    let lab = lines.iter().find(|l| l.starts_with("lab ")).expect("lab");
    for shown in [
        "inactive",
        "nat",
        "10.99.0.1/24",
        "10.99.0.100-10.99.0.199",
        &ipv6,
    ] {
        assert!(lab.contains(shown), "{shown}: {text}");
    }
    let quiet = lines
        .iter()
        .find(|l| l.starts_with("quiet "))
        .expect("quiet");
    assert!(quiet.contains(" - "), "no DHCP, no IPv6: {text}");
}

#[test]
fn watch_prints_a_header_and_says_when_there_are_no_ports() {
    let home = tempfile::tempdir().expect("home");
    ok(home.path(), &["create", "--name", "lab", "--mode", "nat"]);
    let out = sy(
        home.path(),
        &["watch", "lab", "--count", "2", "--interval-ms", "50"],
    );
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "a header and a line per interval: {text}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header[..4], ["TIME", "NETWORK", "BRIDGE", "PORT"], "{text}");
    for line in &lines[1..] {
        assert!(line.ends_with("  no ports on network lab"), "{text}");
        assert!(
            line.starts_with("20") && line.contains('T'),
            "a timestamp first: {text}"
        );
    }
    let json = ok(home.path(), &["watch", "lab", "--count", "1", "--json"]);
    let object: serde_json::Value = serde_json::from_str(json.trim()).expect("one JSON line");
    assert_eq!(
        object["ports"],
        serde_json::json!([]),
        "no header in JSON: {json}"
    );
}
