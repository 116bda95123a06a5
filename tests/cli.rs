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
