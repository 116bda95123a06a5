//! Carrying out the TUI's commands through the same backend as the CLI, each on a thread of
//! its own so a slow kernel, nft or dnsmasq never stalls the UI loop.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::{oneshot, Notify};

use crate::backend::Backend;
use crate::host::apply::Faults;
use crate::host::Netlink;
use crate::tui::data::{Command, CommandResult, ProgressSender};

/// Runs `cmd` on a new thread and resolves with its result; `done` is notified afterwards so
/// the snapshot loop refreshes at once.
pub fn spawn(
    backend: Backend,
    id: u64,
    cmd: Command,
    (done, busy): (Arc<Notify>, super::Busy),
    progress: ProgressSender,
) -> BoxFuture<'static, CommandResult> {
    let (tx, rx) = oneshot::channel();
    let network = cmd.network();
    if let (Some(n), Ok(mut set)) = (&network, busy.lock()) {
        set.insert(n.clone());
    }
    let spawned = std::thread::Builder::new()
        .name("switchyard-command".into())
        .spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| rt.block_on(execute(&backend, cmd, &progress)));
            let _ = tx.send(result);
            if let (Some(n), Ok(mut set)) = (&network, busy.lock()) {
                set.remove(n);
            }
            done.notify_one();
        });
    async move {
        let result = match spawned {
            Err(e) => Err(format!("cannot start a worker thread: {e}")),
            Ok(_) => rx
                .await
                .unwrap_or_else(|_| Err("the command's worker died".to_owned())),
        };
        match result {
            Ok(message) => CommandResult {
                id,
                ok: true,
                message,
            },
            Err(message) => CommandResult {
                id,
                ok: false,
                message,
            },
        }
    }
    .boxed()
}

async fn connect() -> Result<Netlink, String> {
    Netlink::connect().await.map_err(|e| e.to_string())
}

/// One command against the backend; the message is what the operator reads. Each plan step
/// is reported to `progress` as it begins.
pub async fn execute(
    backend: &Backend,
    cmd: Command,
    progress: &ProgressSender,
) -> Result<String, String> {
    let s = |e: crate::backend::BackendError| e.to_string();
    let report = |_: usize, step: &crate::plan::Step| progress.step(step.to_string());
    match cmd {
        Command::StartNetwork(name) | Command::RepairNetwork(name) => {
            let plan = backend
                .start(connect().await?, &name, Faults::default(), report)
                .await
                .map_err(s)?;
            Ok(match plan.steps.len() {
                0 => format!("{name} is already running as defined"),
                n => format!("{name} started ({n} steps)"),
            })
        }
        Command::StopNetwork(name) => {
            backend
                .stop(connect().await?, &name, report)
                .await
                .map_err(s)?;
            Ok(format!("{name} stopped"))
        }
        Command::SetAutostart(name, on) => {
            backend.set_autostart(&name, on).map_err(s)?;
            Ok(format!(
                "{name}: autostart {}",
                if on { "on" } else { "off" }
            ))
        }
        Command::Undefine(name) => {
            backend.undefine(&name).map_err(s)?;
            Ok(format!("{name} undefined"))
        }
        Command::PreviewStart { xml } => backend.preview(&xml).await.map_err(s),
        Command::CreateNetwork {
            xml,
            autostart,
            start,
        } => {
            let def = backend
                .create_network(&xml, autostart, start, report)
                .await
                .map_err(s)?;
            let state = if start {
                "defined and started"
            } else {
                "defined"
            };
            Ok(format!("{} {state}", def.name))
        }
        Command::EditNetwork { name, xml } => {
            backend.edit_network(&name, &xml, report).await.map_err(s)
        }
        Command::Attach { network, name, mac } => {
            let nl = connect().await?;
            let att = backend.attach(&nl, &network, name, mac).await.map_err(s)?;
            Ok(format!(
                "{} on {} ({} mode), mac {}\n{}\nqemu: {}",
                att.ifname,
                att.parent,
                att.mode,
                att.mac,
                att.tap_device,
                att.qemu_args()
            ))
        }
        Command::PinLease {
            network,
            mac,
            ip,
            hostname,
        } => {
            let mac = mac.parse().map_err(|e| format!("mac: {e}"))?;
            let ip = ip
                .parse()
                .map_err(|_| format!("ip: '{ip}' is not an IP address"))?;
            backend
                .pin_host(&network, Some(mac), hostname.as_deref(), ip, false)
                .await
                .map_err(s)
        }
    }
}
