//! `doctor`: checks what switchyard needs on this host and says how to fix what is missing.

use std::path::Path;

use color_eyre::eyre::Result;
use serde::Serialize;

use crate::backend::Backend;
use crate::host::nft;

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: String,
    pub ok: bool,
    pub detail: String,
    /// How to fix it, when not ok.
    pub fix: Option<String>,
}

fn finding(check: &str, ok: bool, detail: String, fix: &str) -> Finding {
    Finding {
        check: check.to_owned(),
        ok,
        detail,
        fix: (!ok).then(|| fix.to_owned()),
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

/// Pure: how a kernel module is present, from /proc/modules, modules.builtin and modules.dep.
pub fn module_state(name: &str, loaded: &str, builtin: &str, dep: &str) -> Option<&'static str> {
    let file = format!("/{name}.ko");
    if loaded
        .lines()
        .any(|l| l.split_whitespace().next() == Some(name))
    {
        Some("loaded")
    } else if builtin.lines().any(|l| l.ends_with(&file)) {
        Some("built in")
    } else if dep
        .lines()
        .any(|l| l.split(':').next().is_some_and(|m| m.contains(&file)))
    {
        Some("available, loads on demand")
    } else {
        None
    }
}

fn modules() -> Vec<Finding> {
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let loaded = read("/proc/modules");
    let builtin = read(&format!("/lib/modules/{release}/modules.builtin"));
    let dep = read(&format!("/lib/modules/{release}/modules.dep"));
    [
        "bridge",
        "tun",
        "macvtap",
        "veth",
        "nf_tables",
        "nft_masq",
        "nft_reject_inet",
    ]
    .iter()
    .map(|m| {
        let state = module_state(m, &loaded, &builtin, &dep);
        finding(
            &format!("kernel module {m}"),
            state.is_some(),
            state.unwrap_or("not found").to_owned(),
            "install the kernel's modules package (linux-image-*) or build the module",
        )
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

pub async fn run(backend: &Backend, json: bool) -> Result<()> {
    let mut findings = vec![privilege()];
    findings.extend(programs());
    findings.push(finding(
        "/dev/net/tun",
        Path::new("/dev/net/tun").exists(),
        "tap devices for guests".into(),
        "modprobe tun",
    ));
    findings.extend(modules());
    findings.extend(firewalls());
    let dirs = backend.paths();
    findings.push(finding(
        "definitions",
        true,
        dirs.defs.display().to_string(),
        "",
    ));
    if json {
        println!("{}", serde_json::to_string_pretty(&findings)?);
    } else {
        for f in &findings {
            let mark = if f.ok { "ok  " } else { "FAIL" };
            println!("[{mark}] {}: {}", f.check, f.detail);
            if let Some(fix) = &f.fix {
                println!("       fix: {fix}");
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

    #[test]
    fn module_presence() {
        let loaded = "bridge 311296 0 - Live 0x0\n";
        let builtin = "kernel/drivers/net/tun.ko\n";
        let dep = "kernel/drivers/net/macvtap.ko: kernel/drivers/net/macvlan.ko\n";
        assert_eq!(module_state("bridge", loaded, builtin, dep), Some("loaded"));
        assert_eq!(module_state("tun", loaded, builtin, dep), Some("built in"));
        assert_eq!(
            module_state("macvtap", loaded, builtin, dep),
            Some("available, loads on demand")
        );
        assert_eq!(module_state("macvlan", loaded, builtin, ""), None);
        assert_eq!(module_state("dummy", loaded, builtin, dep), None);
    }
}
