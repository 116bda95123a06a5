//! `doctor`: checks what switchyard needs on this host and says how to fix what is missing.

use std::path::Path;

use color_eyre::eyre::Result;
use serde::Serialize;

use crate::backend::{Backend, WhyRequest};
use crate::host::kernel::KernelFiles;
use crate::host::{inotify, nft, Host};
use crate::model::why;
use crate::plan::start::INOTIFY_RESERVE;

/// How a check came out: `Warn` is said but does not fail `doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: String,
    /// `false` only for `Fail`.
    pub ok: bool,
    pub status: Status,
    pub detail: String,
    /// How to fix it (or find out), when not `Ok`.
    pub fix: Option<String>,
}

fn finding(check: &str, ok: bool, detail: String, fix: &str) -> Finding {
    let status = if ok { Status::Ok } else { Status::Fail };
    with_status(check, status, detail, fix)
}

fn with_status(check: &str, status: Status, detail: String, fix: &str) -> Finding {
    Finding {
        check: check.to_owned(),
        ok: status != Status::Fail,
        status,
        detail,
        fix: (status != Status::Ok).then(|| fix.to_owned()),
    }
}

/// Pure: whether a `/proc/self/status` text grants CAP_NET_ADMIN (bit 12) in CapEff.
pub fn has_net_admin(status: &str) -> bool {
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << 12) != 0)
}

/// The kernel features switchyard needs: module name and configuration symbol.
pub const MODULES: [(&str, &str); 7] = [
    ("bridge", "BRIDGE"),
    ("tun", "TUN"),
    ("macvtap", "MACVTAP"),
    ("veth", "VETH"),
    ("nf_tables", "NF_TABLES"),
    ("nft_masq", "NFT_MASQ"),
    ("nft_reject_inet", "NFT_REJECT_INET"),
];

/// A module's name as the kernel spells it: `-` and `_` are the same in module names.
fn module_name(name: &str) -> String {
    name.replace('-', "_")
}

/// Whether a `modules.builtin` or `modules.dep` text names module `name` (as a path
/// `…/NAME.ko`, compressed or not).
fn in_module_list(text: &str, name: &str) -> bool {
    text.lines().any(|l| {
        let path = l.split(':').next().unwrap_or_default().trim();
        let file = path.rsplit('/').next().unwrap_or_default();
        file.split_once(".ko")
            .is_some_and(|(stem, _)| module_name(stem) == name)
    })
}

/// `y`, `m` or `n` for `CONFIG_SYMBOL` in a kernel configuration text.
fn config_value(config: &str, symbol: &str) -> Option<char> {
    let set = format!("CONFIG_{symbol}=");
    let unset = format!("# CONFIG_{symbol} is not set");
    config.lines().find_map(|l| {
        if l.trim() == unset {
            Some('n')
        } else {
            l.strip_prefix(&set).and_then(|v| v.chars().next())
        }
    })
}

/// Pure: how module `name` (configuration symbol `symbol`) is present in the kernel the files
/// describe. Loaded, built in, or loadable on demand are all fine; missing is a failure only
/// when the files prove it, else a warning that says what could not be read.
pub fn module_verdict(name: &str, symbol: &str, k: &KernelFiles) -> (Status, String, String) {
    let name = module_name(name);
    let dir = k.modules_dir.display();
    let config = k.config.as_deref().and_then(|c| config_value(c, symbol));
    let loaded = k.loaded.as_deref().is_some_and(|text| {
        text.lines()
            .any(|l| l.split_whitespace().next().map(module_name) == Some(name.clone()))
    });
    let ok = |detail: &str| (Status::Ok, detail.to_owned(), String::new());
    if loaded {
        return ok("loaded");
    }
    if k.builtin
        .as_deref()
        .is_some_and(|t| in_module_list(t, &name))
        || config == Some('y')
        || k.sysfs.contains(&name)
    {
        return ok("built into the kernel");
    }
    if k.dep.as_deref().is_some_and(|t| in_module_list(t, &name)) {
        return ok("not loaded; the kernel loads it when it is first used");
    }
    let modules_fix = format!(
        "install the modules of the running kernel {} (its linux-image package)",
        k.release
    );
    match (config, &k.loaded, &k.dep) {
        (Some('m'), _, _) => (
            Status::Fail,
            format!("built as a module, but {dir} has no {name}.ko"),
            modules_fix,
        ),
        (Some(_), _, _) => (
            Status::Fail,
            format!("not in this kernel (CONFIG_{symbol} is not set)"),
            format!("boot a kernel built with CONFIG_{symbol}=y or =m"),
        ),
        (None, None, _) => (
            Status::Warn,
            "cannot tell: this kernel loads no modules (no /proc/modules), so it is built in \
             if it is there at all, and the kernel's configuration is not readable"
                .to_owned(),
            "start a network: a missing feature is named in the error".to_owned(),
        ),
        (None, Some(_), None) => (
            Status::Warn,
            format!("not loaded, and {dir} is missing: cannot tell whether it is built in"),
            modules_fix,
        ),
        (None, Some(_), Some(_)) => (
            Status::Fail,
            format!("not loaded, not built in, and not in {dir}"),
            "install the kernel's modules package (linux-image-*) or build the module".to_owned(),
        ),
    }
}

fn modules(k: &KernelFiles) -> Vec<Finding> {
    MODULES
        .iter()
        .map(|(name, symbol)| {
            let (status, detail, fix) = module_verdict(name, symbol, k);
            with_status(&format!("kernel module {name}"), status, detail, &fix)
        })
        .collect()
}

fn privilege() -> Finding {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = nix::unistd::geteuid().is_root();
    let ok = root || has_net_admin(&status);
    let detail = if root {
        "running as root"
    } else if ok {
        "CAP_NET_ADMIN"
    } else {
        "neither root nor CAP_NET_ADMIN"
    };
    finding(
        "privilege",
        ok,
        detail.to_owned(),
        "run as root: sudo switchyard …",
    )
}

fn programs() -> Vec<Finding> {
    [
        ("nft", "apt-get install nftables"),
        ("dnsmasq", "apt-get install dnsmasq-base"),
    ]
    .iter()
    .map(|(p, fix)| {
        let found = crate::host::find_program(p).map(|p| p.display().to_string());
        finding(
            p,
            found.is_some(),
            found.unwrap_or_else(|| "not found".into()),
            fix,
        )
    })
    .collect()
}

fn firewalls() -> Vec<Finding> {
    let mut out = Vec::new();
    match nft::foreign_drop_chains() {
        Ok(chains) => {
            let list: Vec<String> = chains
                .iter()
                .map(|c| format!("{} chain {} ({})", c.table, c.chain, c.hook))
                .collect();
            out.push(finding(
                "other firewalls",
                chains.is_empty(),
                if list.is_empty() { "no drop-policy chains outside inet switchyard".into() } else { list.join(", ") },
                "these chains drop by default; allow DHCP/DNS (udp 53, 67) from switchyard bridges and forwarding of their subnets in them",
            ));
        }
        Err(e) => out.push(finding(
            "other firewalls",
            false,
            e.to_string(),
            "apt-get install nftables",
        )),
    }
    let ufw = std::fs::read_to_string("/etc/ufw/ufw.conf").unwrap_or_default();
    if ufw.lines().any(|l| l.trim() == "ENABLED=yes") {
        out.push(finding(
            "ufw",
            false,
            "ufw is enabled".into(),
            "allow the bridges: ufw allow in on sybr0; ufw route allow in on sybr0",
        ));
    }
    if Path::new("/run/firewalld").exists() {
        out.push(finding(
            "firewalld",
            false,
            "firewalld is running".into(),
            "add the bridges to a trusted zone: firewall-cmd --zone=trusted --add-interface=sybr0",
        ));
    }
    out
}

/// Pure: the inotify headroom. `ours`: instances held by switchyard's dnsmasqs; `all`: by every
/// process (an upper bound of what counts against the user dnsmasq is charged to). Below
/// [`INOTIFY_RESERVE`] free instances a warning: `start` raises the limit itself when its own
/// dnsmasqs approach it, but not when other programs take the room.
pub fn inotify_finding(limit: Option<u64>, ours: usize, all: usize) -> Finding {
    let check = "inotify instances";
    let Some(limit) = limit else {
        return with_status(
            check,
            Status::Warn,
            "fs.inotify.max_user_instances cannot be read".into(),
            "check /proc/sys/fs/inotify/max_user_instances",
        );
    };
    let free = limit.saturating_sub(all as u64);
    let detail = format!(
        "{ours} held by switchyard's dnsmasq, {all} by all processes, of {limit} per user          (fs.inotify.max_user_instances): room for at least {free} more"
    );
    let status = if free < INOTIFY_RESERVE {
        Status::Warn
    } else {
        Status::Ok
    };
    let fix = format!(
        "each network's dnsmasq needs one: sysctl -w fs.inotify.max_user_instances={}",
        (limit.max(all as u64) + INOTIFY_RESERVE) * 2
    );
    with_status(check, status, detail, &fix)
}

/// Instances held by the dnsmasq of every active network, and by every process.
fn inotify(backend: &Backend) -> Finding {
    let names = backend.store.names().unwrap_or_default();
    let ours = names
        .iter()
        .filter(|n| backend.record(n).ok().flatten().is_some())
        .filter_map(|n| {
            let p = backend.live_dnsmasq_paths(n);
            backend.host().dnsmasq_pid(&p.pid_file, &p.conf)
        })
        .map(inotify::instances_of)
        .sum();
    inotify_finding(inotify::limit(), ours, inotify::instances_of_all())
}

/// Pure: the findings about other tables' chains that would drop a running network's
/// traffic, one per network (`Ok` when none would).
pub fn blocking_findings(nets: &[(String, String, Vec<why::Blocker>)]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, bridge, blockers) in nets {
        let check = format!("firewall paths of {}", name.escape_debug());
        if blockers.is_empty() {
            out.push(finding(
                &check,
                true,
                format!("no other table drops forwarding, DHCP or DNS of {bridge}"),
                "",
            ));
            continue;
        }
        for b in blockers {
            let how = match (&b.by.policy, &b.by.rule) {
                (Some(p), _) => format!("policy {p}"),
                (None, Some(r)) => format!("rule {r}"),
                (None, None) => "a rule".into(),
            };
            let detail = format!(
                "{} of {bridge} is dropped by {} table {} {}, chain {} ({how})",
                b.need.as_str(),
                b.owner.as_str(),
                b.by.family,
                b.by.table.escape_debug(),
                b.by.chain.escape_debug(),
            );
            let fix = b.fix.as_ref().map(why::Fix::text).unwrap_or_else(|| {
                "allow the bridge in that chain (its name cannot be written as a command)".into()
            });
            out.push(finding(&check, false, detail, &fix));
        }
    }
    out
}

/// `doctor --probe`: DHCP, DNS and (for a forwarding network) one packet out, traced from
/// each running network as `why` traces them.
async fn probes(backend: &Backend, nets: &[(String, String, Vec<why::Blocker>)]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, _, _) in nets {
        let Ok(def) = backend.live_def(name) else {
            continue;
        };
        let Some(gw) = def.ips.iter().find_map(|ip| match ip.address {
            std::net::IpAddr::V4(a) => Some(a),
            _ => None,
        }) else {
            continue;
        };
        let mut targets = vec![("DHCP", gw, 67), ("DNS", gw, 53)];
        if def.forward.is_some() {
            // TEST-NET-1: routed like any outside address, owned by nobody.
            targets.push(("forwarding", std::net::Ipv4Addr::new(192, 0, 2, 1), 9));
        }
        for (what, to, port) in targets {
            let req = WhyRequest {
                network: name.clone(),
                to,
                port: Some(port),
                proto: why::WhyProto::Udp,
                from_guest: None,
                inbound: false,
                from: None,
            };
            let check = format!("probe {what} of {}", name.escape_debug());
            match backend.why(&req).await {
                Ok(o) => {
                    let r = &o.report;
                    let by = r.by.as_ref().map_or(String::new(), |b| {
                        format!(
                            " by {} {} chain {}",
                            b.family,
                            b.table.escape_debug(),
                            b.chain.escape_debug()
                        )
                    });
                    out.push(finding(
                        &check,
                        r.verdict == why::Verdict::Delivered,
                        format!("udp to {to}:{port}: {}{by}", r.verdict.as_str()),
                        &r.fix.as_ref().map(why::Fix::text).unwrap_or_default(),
                    ));
                }
                Err(e) => out.push(with_status(
                    &check,
                    Status::Warn,
                    format!("could not trace: {e}"),
                    "run as root with nft installed",
                )),
            }
        }
    }
    out
}

pub async fn run(backend: &Backend, json: bool, probe: bool) -> Result<()> {
    let mut findings = vec![privilege()];
    findings.extend(programs());
    findings.push(finding(
        "/dev/net/tun",
        Path::new("/dev/net/tun").exists(),
        "tap devices for guests".into(),
        "modprobe tun",
    ));
    findings.extend(modules(&KernelFiles::read(Path::new("/"))));
    findings.extend(firewalls());
    match backend.blocking_chains().await {
        Ok(nets) => {
            findings.extend(blocking_findings(&nets));
            if probe {
                findings.extend(probes(backend, &nets).await);
            }
        }
        Err(e) => findings.push(with_status(
            "firewall paths",
            Status::Warn,
            format!("cannot read the ruleset: {e}"),
            "run as root with nft installed",
        )),
    }
    findings.push(inotify(backend));
    let dirs = backend.paths();
    findings.push(finding(
        "definitions",
        true,
        dirs.defs.display().to_string(),
        "",
    ));
    if json {
        outln!("{}", serde_json::to_string_pretty(&findings)?)?;
    } else {
        for f in &findings {
            let mark = match f.status {
                Status::Ok => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
            };
            outln!("[{mark}] {}: {}", f.check, f.detail)?;
            if let Some(fix) = &f.fix {
                outln!("       fix: {fix}")?;
            }
        }
    }
    if findings.iter().any(|f| !f.ok) {
        std::process::exit(1);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_bits() {
        assert!(has_net_admin("Name:\tx\nCapEff:\t0000000000001000\n"));
        assert!(has_net_admin("CapEff:\t000001ffffffffff\n"));
        assert!(!has_net_admin("CapEff:\t0000000000000000\n"));
        assert!(!has_net_admin("nothing"));
    }

    /// A fake file tree: files with their text, and empty folders (names ending in `/`).
    fn tree(entries: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().expect("tree");
        for (path, text) in entries {
            let p = root.path().join(path);
            if path.ends_with('/') {
                std::fs::create_dir_all(&p).expect("dir");
                continue;
            }
            std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
            if path.ends_with(".gz") {
                use std::io::Write;
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(text.as_bytes()).expect("gzip");
                std::fs::write(&p, gz.finish().expect("gzip")).expect("write");
            } else {
                std::fs::write(&p, text).expect("write");
            }
        }
        root
    }

    const RELEASE: (&str, &str) = ("proc/sys/kernel/osrelease", "6.1.0-test\n");
    const DEP: &str = "lib/modules/6.1.0-test/modules.dep";
    const BUILTIN: &str = "lib/modules/6.1.0-test/modules.builtin";

    /// Every needed module's verdict on a kernel, as (module, status, words of the detail).
    #[test]
    fn module_verdicts_on_fake_kernels() {
        use Status::{Fail, Ok, Warn};
        let all_y = MODULES
            .iter()
            .map(|(_, s)| format!("CONFIG_{s}=y\n"))
            .collect::<String>();
        let all_y = format!("# CONFIG_MODULES is not set\n{all_y}");
        type Case<'a> = (
            &'a str,
            Vec<(&'a str, &'a str)>,
            Vec<(&'a str, Status, &'a str)>,
        );
        let cases: Vec<Case> = vec![
            (
                "built-in kernel, /lib/modules absent, no configuration (the issue's host)",
                vec![RELEASE, ("proc/modules", ""), ("sys/module/bridge/", "")],
                vec![
                    ("bridge", Ok, "built into the kernel"),
                    ("tun", Warn, "/lib/modules/6.1.0-test is missing"),
                    ("nf_tables", Warn, "cannot tell whether it is built in"),
                ],
            ),
            (
                "kernel without module support, configuration in /proc/config.gz",
                vec![
                    RELEASE,
                    ("proc/config.gz", &all_y),
                    ("sys/module/bridge/", ""),
                ],
                MODULES
                    .iter()
                    .map(|(m, _)| (*m, Ok, "built into the kernel"))
                    .collect(),
            ),
            (
                "kernel without module support and no configuration",
                vec![RELEASE],
                vec![("veth", Warn, "this kernel loads no modules")],
            ),
            (
                "a distribution kernel: loaded, built in, loadable (compressed), by configuration",
                vec![
                    RELEASE,
                    (
                        "proc/modules",
                        "bridge 311296 0 - Live 0x0\nstp 16384 1 bridge, Live 0x0\n",
                    ),
                    (BUILTIN, "kernel/drivers/net/tun.ko\n"),
                    (
                        DEP,
                        "kernel/drivers/net/macvtap.ko.xz: kernel/drivers/net/macvlan.ko.xz\n\
                         kernel/drivers/net/veth.ko.zst:\n\
                         kernel/net/netfilter/nf_tables.ko:\n\
                         kernel/net/netfilter/nft-masq.ko:\n",
                    ),
                    ("boot/config-6.1.0-test", "CONFIG_NFT_REJECT_INET=y\n"),
                ],
                vec![
                    ("bridge", Ok, "loaded"),
                    ("tun", Ok, "built into the kernel"),
                    ("macvtap", Ok, "loads it when it is first used"),
                    ("veth", Ok, "loads it when it is first used"),
                    ("nf_tables", Ok, "loads it when it is first used"),
                    ("nft_masq", Ok, "loads it when it is first used"),
                    ("nft_reject_inet", Ok, "built into the kernel"),
                ],
            ),
            (
                "loaded modules also have a /sys/module entry: still loaded",
                vec![
                    RELEASE,
                    ("proc/modules", "tun 61440 0 - Live 0x0\n"),
                    ("sys/module/tun/", ""),
                ],
                vec![("tun", Ok, "loaded")],
            ),
            (
                "missing, proven by the module tree or the configuration",
                vec![
                    RELEASE,
                    ("proc/modules", "bridge 311296 0 - Live 0x0\n"),
                    (BUILTIN, "kernel/net/bridge/bridge.ko\n"),
                    (DEP, "kernel/drivers/net/tun.ko:\n"),
                    (
                        "boot/config-6.1.0-test",
                        "CONFIG_MACVTAP=m\n# CONFIG_NFT_MASQ is not set\n",
                    ),
                ],
                vec![
                    (
                        "macvtap",
                        Fail,
                        "built as a module, but /lib/modules/6.1.0-test has no macvtap.ko",
                    ),
                    (
                        "nft_masq",
                        Fail,
                        "not in this kernel (CONFIG_NFT_MASQ is not set)",
                    ),
                    (
                        "veth",
                        Fail,
                        "not loaded, not built in, and not in /lib/modules/6.1.0-test",
                    ),
                    ("tun", Ok, "loads it when it is first used"),
                ],
            ),
        ];
        for (what, files, want) in cases {
            let root = tree(&files);
            let kernel = KernelFiles::read(root.path());
            for (module, status, words) in want {
                let symbol = MODULES
                    .iter()
                    .find(|(m, _)| *m == module)
                    .map(|(_, s)| *s)
                    .expect("a needed module");
                let (got, detail, fix) = module_verdict(module, symbol, &kernel);
                assert_eq!(got, status, "{what}: {module}: {detail}");
                assert!(detail.contains(words), "{what}: {module}: {detail}");
                assert_eq!(
                    fix.is_empty(),
                    status == Ok,
                    "{what}: {module}: fix {fix:?}"
                );
            }
        }
    }

    #[test]
    fn inotify_headroom() {
        let ok = inotify_finding(Some(128), 3, 40);
        assert_eq!(ok.status, Status::Ok);
        assert!(ok
            .detail
            .contains("3 held by switchyard's dnsmasq, 40 by all processes, of 128"));
        assert!(
            ok.detail.contains("room for at least 88 more"),
            "{}",
            ok.detail
        );
        let tight = inotify_finding(Some(128), 70, 100);
        assert_eq!(tight.status, Status::Warn);
        assert!(tight.ok, "a warning does not fail doctor");
        assert!(
            tight
                .fix
                .as_deref()
                .unwrap_or_default()
                .contains("max_user_instances=384"),
            "{:?}",
            tight.fix
        );
        let over = inotify_finding(Some(128), 0, 200);
        assert!(
            over.detail.contains("room for at least 0 more"),
            "{}",
            over.detail
        );
        assert_eq!(inotify_finding(None, 0, 0).status, Status::Warn);
    }

    #[test]
    fn only_failures_fail() {
        let warn = with_status("x", Status::Warn, "cannot tell".into(), "look");
        assert!(warn.ok && warn.fix.is_some());
        let fail = finding("x", false, "missing".into(), "install");
        assert!(!fail.ok && fail.status == Status::Fail);
        let ok = finding("x", true, "fine".into(), "");
        assert_eq!((ok.status, ok.fix), (Status::Ok, None));
    }
}
