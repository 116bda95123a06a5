//! libvirt's own network XML test corpus (libvirt 9.0.0 networkxml2xml): every case that
//! libvirt accepts must parse and format to libvirt's output (after canonicalisation), and
//! every case libvirt rejects must be rejected with a message naming the problem.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use quick_xml::events::Event;
use quick_xml::Reader;
use switchyard::model::{dubious, format_network_xml, parse_network_xml, validate};

fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/compat/libvirt-networkxml");
    assert!(
        dir.join("EXPECTED").is_file(),
        "libvirt network XML corpus not found at {} (expected shared/ beside the repository \
         checkout, with shared/compat/libvirt-networkxml/EXPECTED)",
        dir.display()
    );
    dir
}

fn read(path: PathBuf) -> String {
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn cases() -> Vec<(String, String)> {
    let expected = read(corpus_dir().join("EXPECTED"));
    let lines = expected
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    lines
        .map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next().expect("case name").to_string();
            let kind = parts
                .next()
                .unwrap_or_else(|| panic!("EXPECTED line without a kind: {l}"))
                .to_string();
            (name, kind)
        })
        .collect()
}

/// A canonical, indented rendering of an XML document: whitespace-only text dropped,
/// attributes sorted, `<a/>` equal to `<a></a>`, entities resolved, comments dropped.
fn canonical(xml: &str) -> String {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut depth = 0usize;
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("canonicaliser: bad XML: {e}\n{xml}"))
        {
            Event::Start(e) => {
                open_tag(&mut out, depth, &e);
                depth += 1;
            }
            Event::Empty(e) => {
                open_tag(&mut out, depth, &e);
                let _ = writeln!(
                    out,
                    "{}/{}",
                    "  ".repeat(depth),
                    String::from_utf8_lossy(e.name().as_ref())
                );
            }
            Event::End(e) => {
                depth -= 1;
                let _ = writeln!(
                    out,
                    "{}/{}",
                    "  ".repeat(depth),
                    String::from_utf8_lossy(e.name().as_ref())
                );
            }
            Event::Text(t) => {
                let text = t.xml10_content().expect("text").into_owned();
                if !text.trim().is_empty() {
                    let _ = writeln!(out, "{}TEXT {text:?}", "  ".repeat(depth));
                }
            }
            Event::GeneralRef(r) => {
                let _ = writeln!(
                    out,
                    "{}REF {:?}",
                    "  ".repeat(depth),
                    String::from_utf8_lossy(&r)
                );
            }
            Event::CData(c) => {
                let _ = writeln!(
                    out,
                    "{}TEXT {:?}",
                    "  ".repeat(depth),
                    String::from_utf8_lossy(&c)
                );
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn open_tag(out: &mut String, depth: usize, e: &quick_xml::events::BytesStart<'_>) {
    let mut attrs: Vec<(String, String)> = e
        .attributes()
        .map(|a| {
            let a = a.expect("attribute");
            let value = a.unescape_value().expect("attribute value").into_owned();
            (String::from_utf8_lossy(a.key.as_ref()).into_owned(), value)
        })
        .collect();
    attrs.sort();
    let _ = write!(
        out,
        "{}<{}",
        "  ".repeat(depth),
        String::from_utf8_lossy(e.name().as_ref())
    );
    for (k, v) in attrs {
        let _ = write!(out, " {k}={v:?}");
    }
    out.push('\n');
}

/// Why an accepted case fails, or `None` when it passes.
fn check_ok_case(name: &str) -> Option<String> {
    let dir = corpus_dir();
    let input = read(dir.join("in").join(format!("{name}.xml")));
    let expected = read(dir.join("out").join(format!("{name}.xml")));
    let def = match parse_network_xml(&input) {
        Ok(def) => def,
        Err(e) => return Some(format!("{name}: rejected: {e}")),
    };
    let formatted = format_network_xml(&def);
    if canonical(&formatted) != canonical(&expected) {
        return Some(format!(
            "{name}: output differs\n--- ours\n{formatted}--- libvirt\n{expected}"
        ));
    }
    let again = match parse_network_xml(&formatted) {
        Ok(def) => format_network_xml(&def),
        Err(e) => {
            return Some(format!(
                "{name}: our own output is rejected: {e}\n{formatted}"
            ))
        }
    };
    (again != formatted).then(|| {
        format!("{name}: not stable on round trip\n--- first\n{formatted}--- second\n{again}")
    })
}

/// What each rejected case must say (a fragment of the message).
fn expected_rejection(name: &str) -> &'static str {
    match name {
        "routed-network-no-dns-extra-elements" => "<dns enable='no'> cannot also carry",
        "open-network-with-forward-dev" => "<forward mode='open'> does not take a dev attribute",
        "hostdev-duplicate" => "PCI device 0000:03:00.3 is listed more than once",
        "passthrough-duplicate" => "<interface dev='eth3'> is listed more than once",
        _ => "line ",
    }
}

fn check_error_case(name: &str) -> Option<String> {
    let input = read(corpus_dir().join("in").join(format!("{name}.xml")));
    match parse_network_xml(&input) {
        Ok(def) => Some(format!(
            "{name}: accepted, but libvirt rejects it\n{}",
            format_network_xml(&def)
        )),
        Err(e) => {
            let msg = e.to_string();
            let want = expected_rejection(name);
            let located = msg.starts_with("line ") && e.line > 0;
            (!located || !msg.contains(want))
                .then(|| format!("{name}: message {msg:?} should contain {want:?}"))
        }
    }
}

#[test]
fn libvirt_corpus() {
    let cases = cases();
    let mut failures = Vec::new();
    for (name, kind) in &cases {
        let failure = match kind.as_str() {
            "ok" | "ok-inactive" => check_ok_case(name),
            "parse-error" => check_error_case(name),
            other => Some(format!("{name}: unknown EXPECTED kind {other:?}")),
        };
        failures.extend(failure);
    }
    let ok = cases.len() - failures.len();
    println!("corpus: {ok} of {} ok", cases.len());
    assert!(
        failures.is_empty(),
        "corpus: {ok} of {} ok\n\n{}",
        cases.len(),
        failures.join("\n\n")
    );
}

/// Not required for compatibility, but a good sign: how many outputs are byte-identical.
#[test]
fn libvirt_corpus_byte_exact_report() {
    let dir = corpus_dir();
    let mut exact = 0;
    let mut total = 0;
    for (name, kind) in cases().iter().filter(|(_, k)| k.starts_with("ok")) {
        let _ = kind;
        total += 1;
        let input = read(dir.join("in").join(format!("{name}.xml")));
        let expected = read(dir.join("out").join(format!("{name}.xml")));
        if parse_network_xml(&input)
            .map(|d| format_network_xml(&d))
            .ok()
            .as_deref()
            == Some(expected.as_str())
        {
            exact += 1;
        }
    }
    println!("corpus: {exact} of {total} accepted cases are byte-identical to libvirt's output");
}

#[test]
fn canonicaliser_sees_real_differences() {
    assert_eq!(
        canonical("<a x='1' y='2'>\n  <b/>\n</a>"),
        canonical("<a y=\"2\" x=\"1\"><b></b></a>")
    );
    assert_ne!(canonical("<a x='1'/>"), canonical("<a x='2'/>"));
    assert_ne!(canonical("<a><b/><c/></a>"), canonical("<a><c/><b/></a>"));
    assert_ne!(canonical("<a>t</a>"), canonical("<a>u</a>"));
}

/// Attributes and elements the model does not interpret survive a round trip, on every
/// level, written after the known ones (golden file).
#[test]
fn unknown_content_is_kept() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/model");
    let input = read(dir.join("unknown-content.in.xml"));
    let def = parse_network_xml(&input).unwrap_or_else(|e| panic!("fixture rejected: {e}"));
    let out = format_network_xml(&def);
    let golden = dir.join("unknown-content.out.xml");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&golden, &out).expect("write golden file");
    }
    assert_eq!(
        out,
        read(golden),
        "formatted output differs from the golden file"
    );
    let again = parse_network_xml(&out).expect("own output parses");
    assert_eq!(format_network_xml(&again), out, "round trip is not stable");
}

/// Accepted cases whose definitions libvirt's network driver refuses at define time
/// (`networkValidate` in bridge_driver.c), although its XML parser takes them; they must be
/// refused by `validate` at the given path.
const DRIVER_REFUSES: [(&str, &str); 3] = [
    ("8021Qbh-net", "vlan"),
    ("passthrough-pf", "ip[0]"),
    ("passthrough-address-crash", "forward.address[0]"),
];

/// Every other accepted case also validates: `define` takes what libvirt defines (dubious
/// values only warn).
#[test]
fn libvirt_corpus_validates() {
    let dir = corpus_dir();
    let mut failures = Vec::new();
    let mut warned = 0;
    for (name, _) in cases().iter().filter(|(_, k)| k.starts_with("ok")) {
        let input = read(dir.join("in").join(format!("{name}.xml")));
        let Ok(def) = parse_network_xml(&input) else {
            continue; // reported by libvirt_corpus
        };
        let problems: Vec<String> = validate(&def, &[]).iter().map(|p| p.to_string()).collect();
        warned += usize::from(!dubious(&def).is_empty());
        match DRIVER_REFUSES.iter().find(|(n, _)| n == name) {
            Some((_, path)) if !problems.iter().any(|p| p.starts_with(&format!("{path}: "))) => {
                failures.push(format!(
                    "{name}: libvirt's driver refuses it; we said {problems:?}"
                ))
            }
            None if !problems.is_empty() => failures.push(format!("{name}: {problems:?}")),
            _ => {}
        }
    }
    println!("corpus: {warned} accepted cases define with warnings");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
