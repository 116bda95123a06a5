//! `switchyard sandbox`: a private world of network namespaces with three networks, five guests
//! taking leases and exchanging traffic, and the TUI opened inside it. On exit or any signal,
//! every namespace, process and file it made is removed; the machine's own namespace is never
//! touched.

pub mod traffic;
pub mod world;

use std::os::fd::AsRawFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::time::Duration;

use std::process::Command;

use color_eyre::eyre::{eyre, Result, WrapErr};
use tokio::signal::unix::{signal, SignalKind};

use traffic::{Flow, Traffic, ECHO_PORT};
use world::{World, UPSTREAM_ADDR};

/// Set in the environment of a sandbox re-executed inside a user namespace.
const USERNS_ENV: &str = "SWITCHYARD_SANDBOX_USERNS";

/// Whether this kernel lets an unprivileged user make user namespaces (and `unshare` exists).
pub fn userns_available() -> bool {
    let read = |p: &str| std::fs::read_to_string(p).ok().map(|s| s.trim().to_owned());
    let allowed = read("/proc/sys/kernel/unprivileged_userns_clone").is_none_or(|v| v != "0");
    let max = read("/proc/sys/user/max_user_namespaces").and_then(|v| v.parse::<u64>().ok());
    allowed && max.is_none_or(|m| m > 0) && crate::host::find_program("unshare").is_some()
}

/// Without root: re-executes this same command inside a new user, network and mount
/// namespace where we are root (`unshare --user --map-root-user`). Returns only on failure.
pub fn reexec_in_user_namespace() -> std::io::Error {
    use std::os::unix::process::CommandExt;
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return e,
    };
    Command::new("unshare")
        .args(["--user", "--map-root-user", "--net", "--mount", "--"])
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(USERNS_ENV, "1")
        .exec()
}

/// Whether this process is the sandbox re-executed in a user namespace.
pub fn in_user_namespace() -> bool {
    std::env::var_os(USERNS_ENV).is_some()
}

/// Inside the user namespace: a private /run/netns (the real one belongs to root), and dnsmasq
/// in the foreground (its privilege drop fails in a user namespace).
fn prepare_user_namespace() -> Result<()> {
    use nix::mount::{mount, MsFlags};
    let target = if std::path::Path::new("/run/netns").is_dir() {
        "/run/netns"
    } else {
        "/run"
    };
    mount(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        MsFlags::empty(),
        None::<&str>,
    )
    .wrap_err_with(|| format!("cannot mount a private tmpfs on {target}"))?;
    // SAFETY: set before any thread of ours reads the environment concurrently.
    unsafe { std::env::set_var(crate::host::dnsmasq::FOREGROUND_ENV, "1") };
    Ok(())
}

/// What the sandbox needs, checked before anything is made.
pub fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    if !nix::unistd::geteuid().is_root() && !userns_available() {
        missing.push(
            "root or unprivileged user namespaces: the sandbox creates network namespaces; \
             run it with sudo, or allow user namespaces (sysctl kernel.unprivileged_userns_clone=1)"
                .to_owned(),
        );
    }
    for (tool, package) in [
        ("dnsmasq", "dnsmasq-base"),
        ("nft", "nftables"),
        ("busybox", "busybox"),
        ("ip", "iproute2"),
    ] {
        if crate::host::find_program(tool).is_none() {
            missing.push(format!(
                "{tool}: install it with: sudo apt-get install {package}"
            ));
        }
    }
    missing
}

/// How the sandbox runs the TUI inside its world.
pub struct SandboxOptions {
    pub keep: bool,
    /// Extra arguments for the TUI (interval, theme, units).
    pub tui_args: Vec<String>,
}

/// Builds the world, opens the TUI in it, and tears everything down afterwards.
pub async fn run(opts: SandboxOptions) -> Result<()> {
    if in_user_namespace() {
        prepare_user_namespace()?;
    }
    // Installed first, so a signal during set-up still ends in a clean teardown.
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    let home = std::env::temp_dir().join(format!("switchyard-sandbox-{}", std::process::id()));
    std::fs::DirBuilder::new()
        // dnsmasq re-reads its hosts files here after dropping to an unprivileged user.
        .mode(0o755)
        .create(&home)
        .wrap_err_with(|| format!("cannot make the sandbox's folder {}", home.display()))?;
    eprintln!(
        "switchyard sandbox: building a private world in namespaces (files in {})",
        home.display()
    );
    let mut world = World::build(home.clone(), true)?;
    world.start_dhcp()?;
    let _traffic = start_traffic(&world)?;
    let mut tui = spawn_tui(&world, &opts.tui_args)?;
    let status = tokio::select! {
        s = tui.wait() => Some(s?),
        _ = term.recv() => None,
        _ = hup.recv() => None,
        _ = int.recv() => None,
    };
    if status.is_none() {
        // A signal: end the TUI (it restores the terminal on SIGTERM) before tearing down.
        if let Some(pid) = tui.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), tui.wait()).await;
    } else if opts.keep {
        world.remove_home = false;
        print_keep_help(&world);
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = int.recv() => {}
        }
        world.remove_home = true;
    }
    eprintln!("switchyard sandbox: removing the sandbox");
    drop(world);
    match status {
        Some(s) if !s.success() => Err(eyre!("the TUI exited with {s}")),
        _ => Ok(()),
    }
}

fn start_traffic(world: &World) -> Result<Traffic> {
    let mut traffic = Traffic::new();
    let any = |port: u16| -> std::net::SocketAddr { ([0, 0, 0, 0], port).into() };
    traffic.echo(&world.upstream, any(ECHO_PORT))?;
    let upstream: std::net::SocketAddr = format!("{UPSTREAM_ADDR}:{ECHO_PORT}").parse()?;
    let flow = |target, size, low_pps, high_pps, secs| Flow {
        target,
        size,
        low_pps,
        high_pps,
        period: Duration::from_secs(secs),
    };
    let peer: std::net::SocketAddr = format!("10.20.0.15:{ECHO_PORT}").parse()?;
    // New connections through the UDP port forward to web1's echo server, from upstream.
    let forward: std::net::SocketAddr =
        format!("{}:{}", world::UPLINK_ADDR, world::ECHO_FORWARD_PORT).parse()?;
    traffic.send_new_flows(&world.upstream, flow(forward, 200, 1.0, 6.0, 20))?;
    for (ns, spec) in &world.guests {
        match spec.name {
            "web1" => {
                traffic.send(ns, flow(upstream, 900, 20.0, 120.0, 30))?;
                traffic.echo(ns, any(ECHO_PORT))?;
            }
            "web2" => traffic.send(ns, flow(upstream, 400, 5.0, 60.0, 12))?,
            "build" => traffic.send(ns, flow(upstream, 1200, 40.0, 200.0, 45))?,
            "db1" => traffic.send(ns, flow(peer, 600, 10.0, 80.0, 20))?,
            "db2" => traffic.echo(ns, any(ECHO_PORT))?,
            _ => {}
        }
    }
    Ok(traffic)
}

/// Starts this same program's TUI inside the host namespace, on our terminal.
fn spawn_tui(world: &World, extra: &[String]) -> Result<tokio::process::Child> {
    let exe = std::env::current_exe().wrap_err("cannot find switchyard's own executable")?;
    let ns = world.host.open()?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("--home").arg(&world.home).args(extra);
    // The guests' namespaces carry our pid (see `World::build`); their names do not.
    cmd.arg(format!("--netns-suffix=-{}", std::process::id()));
    let fd = ns.as_raw_fd();
    // SAFETY: setns is async-signal-safe; the fd stays open in the parent until spawn returns.
    unsafe {
        cmd.pre_exec(move || {
            let file = std::os::fd::BorrowedFd::borrow_raw(fd);
            nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(std::io::Error::from)
        });
    }
    let child = cmd.spawn().wrap_err("cannot start the TUI")?;
    drop(ns);
    Ok(child)
}

fn print_keep_help(world: &World) {
    let host = world.host.name();
    eprintln!("switchyard sandbox is still running (--keep). Explore it from another terminal:");
    eprintln!(
        "  sudo ip netns exec {host} {} --home {}",
        exe_name(),
        world.home.display()
    );
    eprintln!("  sudo ip netns exec {host} ip -br addr");
    for (ns, spec) in &world.guests {
        eprintln!(
            "  sudo ip netns exec {} ip -br addr      # guest {}",
            ns.name(),
            spec.name
        );
    }
    eprintln!("Press Ctrl-C here (or send SIGTERM) to remove it all.");
}

fn exe_name() -> String {
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| PathBuf::from("switchyard").display().to_string())
}
