//! The XML parser must never panic, whatever it is fed: random bytes, XML-ish token soup,
//! and libvirt corpus files with flipped bytes, truncation and duplicated elements. Whatever
//! it accepts must validate without panicking and format to XML it accepts again, stably.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use switchyard::model::{dubious, format_network_xml, parse_network_xml, validate};

fn corpus() -> &'static Vec<String> {
    static FILES: OnceLock<Vec<String>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/compat/libvirt-networkxml/in");
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("libvirt corpus not found at {}: {e}", dir.display()));
        let mut files: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no corpus files in {}", dir.display());
        files
    })
}

/// Parse; if accepted, the output must be accepted again and be a fixed point.
fn check(text: &str) -> Result<(), TestCaseError> {
    let Ok(def) = parse_network_xml(text) else {
        return Ok(());
    };
    // Validation must cope with anything the parser accepts, clashing with itself included.
    let _ = validate(&def, std::slice::from_ref(&def));
    let _ = dubious(&def);
    let once = format_network_xml(&def);
    let reparsed = parse_network_xml(&once);
    prop_assert!(
        reparsed.is_ok(),
        "our output is rejected: {:?}\n{once}",
        reparsed.err()
    );
    let twice = format_network_xml(&reparsed.expect("checked above"));
    prop_assert_eq!(&once, &twice, "format is not stable for input:\n{}", text);
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, xor: u8 },
    Truncate { at: usize },
    DuplicateLines { at: usize, len: usize },
    Insert { at: usize, snippet: &'static str },
}

const SNIPPETS: &[&str] = &[
    "<forward mode='open' dev='x'/>",
    "<ip address='10.0.0.1' prefix='99'><dhcp><range start='1.2.3.4' end='::1'/></dhcp></ip>",
    "<bridge name='a b' stp='maybe'/>",
    "<mac address='zz'/>",
    "<dns enable='no'><txt name='a' value='b'/></dns>",
    "<metadata><x:y xmlns:x='urn:x'>t<z/>u</x:y></metadata>",
    "<unknown a='1'><deeper/></unknown>",
    "&amp;&#10;&#0;&bogus;",
    "<![CDATA[<not>]]>",
    "<!-- c -->",
    "<!DOCTYPE network>",
    "</network>",
    "<forward mode='hostdev'><address type='pci' bus='0x999'/></forward>",
    "<vlan trunk='no'><tag id='70000'/></vlan>",
    "<portgroup name='p'><vlan><tag id='1'/></vlan></portgroup>",
    "<bridge name='br&#x202E;0'/>",
    "<name>&#x2066;-x</name>",
    "<ip address='192.168.122.0' prefix='24'><dhcp><host mac='52:54:00:00:00:01' ip='10.0.0.1'/></dhcp></ip>",
    "<virtualport type='openvswitch'/>",
    "<a b='1' b='2'/>",
    "<dnsmasq:options xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><dnsmasq:option value='a'/></dnsmasq:options>",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), 1usize..6).prop_map(|(at, len)| Mutation::DuplicateLines { at, len }),
        (any::<usize>(), prop::sample::select(SNIPPETS))
            .prop_map(|(at, snippet)| Mutation::Insert { at, snippet }),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut bytes = text.as_bytes().to_vec();
    match *m {
        Mutation::Flip { at, xor } => {
            let i = at % bytes.len().max(1);
            if let Some(b) = bytes.get_mut(i) {
                *b ^= xor;
            }
        }
        Mutation::Truncate { at } => bytes.truncate(at % (bytes.len() + 1)),
        Mutation::DuplicateLines { at, len } => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let start = at % lines.len().max(1);
            let end = (start + len).min(lines.len());
            let mut out: Vec<&str> = lines[..end].to_vec();
            out.extend_from_slice(&lines[start..]);
            return out.concat();
        }
        Mutation::Insert { at, snippet } => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let i = at % (lines.len() + 1);
            let mut out: Vec<&str> = lines[..i].to_vec();
            out.push(snippet);
            out.extend_from_slice(&lines[i..]);
            return out.concat();
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

const TOKENS: &[&str] = &[
    "<network>",
    "</network>",
    "<network ipv6='yes'>",
    "<name>",
    "</name>",
    "n",
    "<uuid>",
    "</uuid>",
    "81ff0d90-c91e-6742-64da-4a736edb9a9b",
    "<forward/>",
    "<forward mode='route' dev='e'>",
    "</forward>",
    "<interface dev='e'/>",
    "<bridge name='b'/>",
    "<ip address='192.168.1.1' netmask='255.255.255.0'>",
    "<ip family='ipv6' address='fd00::1' prefix='64'>",
    "</ip>",
    "<dhcp>",
    "</dhcp>",
    "<range start='192.168.1.2' end='192.168.1.9'>",
    "</range>",
    "<lease expiry='0'/>",
    "<host mac='52:54:00:00:00:01' ip='192.168.1.5'/>",
    "<dns>",
    "</dns>",
    "<host ip='1.1.1.1'>",
    "<hostname>h</hostname>",
    "</host>",
    "<txt name='t' value='v'/>",
    "<srv service='s' protocol='tcp'/>",
    "<metadata>",
    "</metadata>",
    "<a:b xmlns:a='urn:a'>",
    "</a:b>",
    "text",
    " ",
    "\n",
    "&lt;",
    "&#65;",
    "&",
    "<",
    ">",
    "'",
    "\"",
    "=",
    "<?xml version='1.0'?>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "/>",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..60).prop_map(|t| t.concat())
}

/// 512 cases per property unless PROPTEST_CASES says otherwise; failures are kept with
/// the other model fixtures.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let file = "tests/fixtures/model/xml_fuzz.proptest-regressions";
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        check(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn random_strings_never_panic(text in ".{0,300}") {
        check(&text)?;
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        check(&text)?;
    }

    #[test]
    fn mutated_corpus_never_panics(pick in any::<prop::sample::Index>(), muts in prop::collection::vec(mutation(), 1..4)) {
        let files = corpus();
        let mut text = files[pick.index(files.len())].clone();
        for m in &muts {
            text = apply(&text, m);
        }
        check(&text)?;
    }
}

#[test]
fn deep_nesting_is_rejected_not_overflowed() {
    let depth = 100_000;
    let text = format!(
        "<network><name>n</name><metadata>{}{}</metadata></network>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    let err = parse_network_xml(&text).expect_err("too deep");
    assert!(err.to_string().contains("nested too deeply"), "{err}");
}
