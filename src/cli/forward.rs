//! `forward add|remove|list|test`: port forwards into NAT networks.

use color_eyre::eyre::{eyre, Result};
use serde_json::{json, Value};

use super::args::ForwardCmd;
use super::table::Table;
use crate::backend::{Backend, ForwardRow, ForwardTest, PathResult, ProbeOutcome};
use crate::host::Host;
use crate::model::forward::{parse_to, parse_to_guest, Forward, PortRange, Proto, Target};

pub async fn run<H: Host>(backend: &Backend<H>, cmd: ForwardCmd) -> Result<()> {
    match cmd {
        ForwardCmd::Add {
            network,
            proto,
            port,
            to,
            to_guest,
            address,
            comment,
            force,
            no_test,
        } => {
            let proto: Proto = proto.parse().map_err(|e| eyre!("--proto: {e}"))?;
            let port: PortRange = port.parse().map_err(|e| eyre!("--port: {e}"))?;
            let (target, to_port) = match (to, to_guest) {
                (Some(to), _) => {
                    let (a, p) = parse_to(&to).map_err(|e| eyre!("--to: {e}"))?;
                    (Target::Addr(a), p)
                }
                (None, Some(g)) => {
                    let (g, p) = parse_to_guest(&g).map_err(|e| eyre!("--to-guest: {e}"))?;
                    (Target::Guest(g), p)
                }
                (None, None) => return Err(eyre!("give --to or --to-guest")),
            };
            let address = address
                .map(|a| {
                    a.parse()
                        .map_err(|_| eyre!("--address: {a:?} is not an IPv4 address"))
                })
                .transpose()?;
            let f = Forward {
                proto,
                port,
                address,
                target,
                to_port,
                comment,
            };
            let ssh = std::env::var("SSH_CONNECTION").ok();
            let said = backend
                .add_forward(&network, f, force, ssh.as_deref())
                .await?;
            outln!("{said}")?;
            // A forward just added to a running network is probed the ways a user will reach
            // it; the add stands whatever the probes find.
            if !no_test && backend.record(&network)?.is_some() {
                match backend.test_forward(&network, proto, port).await {
                    Ok(report) => out!("self-test: {}", report_text(&report))?,
                    Err(e) => outln!("self-test could not run: {e}")?,
                }
            }
        }
        ForwardCmd::Test {
            network,
            proto,
            port,
            json,
        } => {
            let proto: Proto = proto.parse().map_err(|e| eyre!("--proto: {e}"))?;
            let port: PortRange = port.parse().map_err(|e| eyre!("--port: {e}"))?;
            let report = backend.test_forward(&network, proto, port).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&report_json(&report))?)?;
            } else {
                out!("{}", report_text(&report))?;
            }
            if !report.all_answered() {
                use std::io::Write as _;
                let _ = std::io::stdout().flush();
                eprintln!("forward {proto}/{port} of {network}: not every path reached the guest");
                std::process::exit(1);
            }
        }
        ForwardCmd::Remove {
            network,
            proto,
            port,
        } => {
            let proto: Proto = proto.parse().map_err(|e| eyre!("--proto: {e}"))?;
            let port: PortRange = port.parse().map_err(|e| eyre!("--port: {e}"))?;
            outln!("{}", backend.remove_forward(&network, proto, port).await?)?;
        }
        ForwardCmd::List { network, json } => {
            let rows = backend.forwards(network.as_deref()).await?;
            if json {
                let rows: Vec<Value> = rows.iter().map(row_json).collect();
                outln!("{}", serde_json::to_string_pretty(&rows)?)?;
            } else {
                list_text(&rows)?;
            }
        }
    }
    Ok(())
}

/// The report of `forward test` for scripts: the forward, and each path's outcome with
/// `counter_hit` (whether the forward's DNAT counter moved; an answer implies it).
fn report_json(r: &ForwardTest) -> Value {
    let f = &r.forward;
    let paths: Vec<Value> = r
        .paths
        .iter()
        .map(|p| {
            let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
            let hit = match &p.outcome {
                ProbeOutcome::Answered { .. } => Some(true),
                ProbeOutcome::NoAnswer { counter_hit, .. } => Some(*counter_hit),
                ProbeOutcome::Skipped { .. } => None,
            };
            v["counter_hit"] = json!(hit);
            v
        })
        .collect();
    json!({
        "network": r.network,
        "proto": f.proto.as_str(),
        "port": port_json(f.port),
        "probed_port": f.port.first,
        "to": r.to.map(|a| a.to_string()),
        "to_port": port_json(f.target_ports()),
        "ok": r.all_answered(),
        "paths": paths,
    })
}

/// The report of `forward test` to read: one line per path, its caveat below it.
pub fn report_text(r: &ForwardTest) -> String {
    let f = &r.forward;
    let to = match r.to {
        Some(a) => format!("{a}:{}", f.target_ports()),
        None => "(no address)".to_owned(),
    };
    let mut out = format!("forward {} of {} to {to}\n", f.key(), r.network);
    for p in &r.paths {
        out.push_str(&path_line(p));
    }
    out
}

fn path_line(p: &PathResult) -> String {
    let name = match p.path {
        crate::backend::ProbePath::Outside => "outside",
        crate::backend::ProbePath::Host => "host",
        crate::backend::ProbePath::Hairpin => "hairpin",
    };
    let route = if p.to.is_empty() {
        p.from.clone()
    } else {
        format!("{} -> {}", p.from, p.to)
    };
    let said = match &p.outcome {
        ProbeOutcome::Answered { how } => format!("ok, the guest answered ({how})"),
        ProbeOutcome::NoAnswer {
            counter_hit,
            stopped_by,
        } => {
            let counter = if *counter_hit {
                "the forward's counter moved"
            } else {
                "the forward's counter did not move"
            };
            match stopped_by {
                Some(why) => format!("NO ANSWER ({counter}): {why}"),
                None => format!("NO ANSWER ({counter})"),
            }
        }
        ProbeOutcome::Skipped { reason } => format!("skipped: {reason}"),
    };
    let mut line = format!("  {name:<8} {route}: {said}\n");
    if let Some(note) = &p.note {
        line.push_str(&format!("  {:<8} note: {note}\n", ""));
    }
    line
}

/// A port as scripts want it: a number, or "P-Q".
fn port_json(p: PortRange) -> Value {
    if p.is_single() {
        json!(p.first)
    } else {
        json!(p.to_string())
    }
}

fn row_json(r: &ForwardRow) -> Value {
    let f = &r.forward;
    json!({
        "network": r.network,
        "active": r.active,
        "proto": f.proto.as_str(),
        "port": port_json(f.port),
        "address": f.address.map(|a| a.to_string()),
        "to": r.to.map(|a| a.to_string()),
        "to_port": port_json(f.target_ports()),
        "guest": match &f.target {
            Target::Guest(g) => Some(g.to_string()),
            Target::Addr(_) => None,
        },
        "comment": f.comment,
        "hits": r.hits,
        "bytes": r.bytes,
    })
}

fn list_text(rows: &[ForwardRow]) -> Result<()> {
    if rows.is_empty() {
        outln!("no forwards")?;
        return Ok(());
    }
    let text = |s: String| (s, false);
    let num = |s: String| (s, true);
    let mut table = Table::new(vec![
        text("NETWORK".into()),
        text("PROTO".into()),
        text("PORT".into()),
        text("ADDRESS".into()),
        text("TO".into()),
        text("GUEST".into()),
        num("HITS".into()),
        num("BYTES".into()),
        text("COMMENT".into()),
    ]);
    let dash = || "-".to_owned();
    for r in rows {
        let f = &r.forward;
        table.push(vec![
            text(r.network.clone()),
            text(f.proto.to_string()),
            text(f.port.to_string()),
            text(f.address.map_or_else(|| "*".into(), |a| a.to_string())),
            text(match r.to {
                Some(a) => format!("{a}:{}", f.target_ports()),
                None => dash(),
            }),
            text(match &f.target {
                Target::Guest(g) => g.to_string(),
                Target::Addr(_) => dash(),
            }),
            num(r.hits.map_or_else(dash, |h| h.to_string())),
            num(r.bytes.map_or_else(dash, |b| b.to_string())),
            text(
                f.comment
                    .clone()
                    .unwrap_or_else(dash)
                    .escape_debug()
                    .to_string(),
            ),
        ]);
    }
    out!("{}", table.render())?;
    Ok(())
}
