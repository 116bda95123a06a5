//! The previous release's layout, kept until every caller uses the JSON layer: one text script
//! that replaces the whole table, with base chains `input`, `forward` and `postrouting` whose
//! rules carry the raw network name as comment.
//!
//! Names are spliced into text here (`quoted`), which is why this is on its way out.

use std::fmt::Write;

use super::{FirewallMode, FirewallNet, TABLE};

/// The script that makes `inet switchyard` hold exactly the rules of `nets`.
///
/// With no network needing rules, the table is deleted (if present) instead.
pub fn render_table(nets: &[FirewallNet]) -> String {
    let mut out = String::new();
    // `add` makes the following `delete` safe when the table does not exist yet.
    let _ = writeln!(out, "add table {TABLE}");
    let _ = writeln!(out, "delete table {TABLE}");
    let nets: Vec<&FirewallNet> = nets
        .iter()
        .filter(|n| n.mode != FirewallMode::Open)
        .collect();
    if nets.is_empty() {
        return out;
    }
    let _ = writeln!(out, "table {TABLE} {{");
    render_input(&mut out, &nets);
    render_forward(&mut out, &nets);
    render_postrouting(&mut out, &nets);
    out.push_str("}\n");
    out
}

/// The script that removes our table; used when nothing of ours needs rules any more.
pub fn render_delete() -> String {
    format!("add table {TABLE}\ndelete table {TABLE}\n")
}

fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

fn render_input(out: &mut String, nets: &[&FirewallNet]) {
    out.push_str("  chain input {\n    type filter hook input priority filter; policy accept;\n");
    for n in nets.iter().filter(|n| n.serves_dhcp_dns) {
        let br = quoted(&n.bridge);
        let _ = writeln!(
            out,
            "    iifname {br} udp dport {{ 53, 67, 547 }} accept comment {}",
            quoted(&n.name)
        );
        let _ = writeln!(
            out,
            "    iifname {br} tcp dport 53 accept comment {}",
            quoted(&n.name)
        );
    }
    out.push_str("  }\n");
}

fn render_forward(out: &mut String, nets: &[&FirewallNet]) {
    out.push_str(
        "  chain forward {\n    type filter hook forward priority filter; policy accept;\n",
    );
    for n in nets {
        let br = quoted(&n.bridge);
        let tag = quoted(&n.name);
        // Guests on one bridge always talk to each other.
        let _ = writeln!(out, "    iifname {br} oifname {br} accept comment {tag}");
        match n.mode {
            FirewallMode::Nat | FirewallMode::Route => forward_subnets(out, n),
            FirewallMode::Isolated | FirewallMode::Open => {}
        }
        // Everything else to or from the bridge is refused, as libvirt does.
        let _ = writeln!(out, "    iifname {br} reject comment {tag}");
        let _ = writeln!(out, "    oifname {br} reject comment {tag}");
    }
    out.push_str("  }\n");
}

/// `oifname "dev" ` (with the trailing space) or nothing when any device will do.
fn dev_match(dir: &str, n: &FirewallNet) -> String {
    match &n.forward_dev {
        Some(dev) => format!("{dir} {} ", quoted(dev)),
        None => String::new(),
    }
}

fn forward_subnets(out: &mut String, n: &FirewallNet) {
    let br = quoted(&n.bridge);
    let tag = quoted(&n.name);
    let subnets = n
        .ipv4
        .iter()
        .map(|s| ("ip", s.trunc().to_string()))
        .chain(n.ipv6.iter().map(|s| ("ip6", s.trunc().to_string())));
    for (fam, net) in subnets {
        let (odev, idev) = (dev_match("oifname", n), dev_match("iifname", n));
        let nat_like = n.mode == FirewallMode::Nat && (fam == "ip" || n.nat_ipv6);
        // Return traffic only for NAT; routed subnets are reachable both ways.
        let state = if nat_like {
            "ct state established,related "
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    iifname {br} {odev}{fam} saddr {net} accept comment {tag}"
        );
        let _ = writeln!(
            out,
            "    {idev}oifname {br} {fam} daddr {net} {state}accept comment {tag}"
        );
    }
}

fn render_postrouting(out: &mut String, nets: &[&FirewallNet]) {
    out.push_str(
        "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n",
    );
    for n in nets.iter().filter(|n| n.mode == FirewallMode::Nat) {
        for net in &n.ipv4 {
            masquerade(
                out,
                n,
                "ip",
                &net.trunc().to_string(),
                &["224.0.0.0/24", "255.255.255.255/32"],
            );
        }
        if n.nat_ipv6 {
            for net in &n.ipv6 {
                masquerade(out, n, "ip6", &net.trunc().to_string(), &["ff00::/8"]);
            }
        }
    }
    out.push_str("  }\n");
}

fn masquerade(out: &mut String, n: &FirewallNet, fam: &str, net: &str, keep: &[&str]) {
    let tag = quoted(&n.name);
    // Multicast and broadcast leave un-NATed, as libvirt keeps them.
    for dst in keep {
        let _ = writeln!(
            out,
            "    {fam} saddr {net} {fam} daddr {dst} return comment {tag}"
        );
    }
    let (lo, hi) = n.nat_ports;
    let (plain, ported) = match (fam, n.nat_addresses) {
        ("ip", Some((start, end))) => {
            let range = if start == end {
                start.to_string()
            } else {
                format!("{start}-{end}")
            };
            (
                format!("snat ip to {range}"),
                format!("snat ip to {range}:{lo}-{hi}"),
            )
        }
        _ => ("masquerade".to_owned(), format!("masquerade to :{lo}-{hi}")),
    };
    let odev = dev_match("oifname", n);
    let base = format!("{fam} saddr {net} {fam} daddr != {net} {odev}");
    for proto in ["tcp", "udp"] {
        let _ = writeln!(out, "    {base}meta l4proto {proto} {ported} comment {tag}");
    }
    let _ = writeln!(out, "    {base}{plain} comment {tag}");
}
