//! `forward add|remove|list`: port forwards into NAT networks.

use color_eyre::eyre::{eyre, Result};
use serde_json::{json, Value};

use super::args::ForwardCmd;
use super::table::Table;
use crate::backend::{Backend, ForwardRow};
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
