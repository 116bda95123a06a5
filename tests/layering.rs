//! The layering `lib.rs` promises, checked: every syscall, socket, `/proc` read and process
//! spawn lives under `host/` (our own files under `store/`; the terminal, its signals and the
//! UI's config files in the TUI's shell; the sandbox and the CLI at the edge). The pure and
//! the middle modules never name an I/O API; their unit tests (`#[cfg(test)]` at the end of a
//! file, or `*_tests.rs`/`tests.rs` files) may.

use std::path::{Path, PathBuf};

/// Modules (paths under `src/`) that may do I/O.
const IO_ALLOWED: &[&str] = &[
    "host/",
    "store/",
    "cli/",
    "sandbox/",
    "main.rs",
    // The TUI's shell: the terminal, its signals, config and theme files.
    "tui/mod.rs",
    "tui/terminal.rs",
    "tui/runloop.rs",
    "tui/config.rs",
    "tui/theme.rs",
];

/// What I/O looks like in Rust source.
const IO_APIS: &[&str] = &[
    "std::fs",
    "tokio::fs",
    "std::process::Command",
    "tokio::process",
    "std::os::unix::net",
    "TcpStream",
    "UdpSocket",
    "TcpListener",
    "File::open",
    "File::create",
    "OpenOptions",
    "libc::",
    "nix::",
    "netlink_sys",
    "rtnetlink::",
    "tokio::signal",
    "std::env::var",
    "tempfile::",
    "std::io::stdout",
    "std::io::stdin",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's text without its unit tests and comments.
fn production_code(text: &str) -> String {
    let code = match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => text,
    };
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn only_the_host_layer_and_the_edges_do_io() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut offences = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let name = file.file_name().unwrap().to_string_lossy();
        if IO_ALLOWED.iter().any(|a| rel.starts_with(a))
            || name.ends_with("_tests.rs")
            || name == "tests.rs"
        {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable");
        let code = production_code(&text);
        for (i, line) in code.lines().enumerate() {
            for api in IO_APIS {
                if line.contains(api) {
                    offences.push(format!("src/{rel}: `{api}` in: {}", line.trim()));
                    let _ = i;
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "I/O outside host/ (move it behind the Host trait or into store/):\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_check_sees_io_when_it_is_there() {
    let sample = "use std::fs;\nfn f() { let _ = std::fs::read(\"/proc/x\"); }\n#[cfg(test)]\nmod tests { use std::process::Command; }\n";
    let code = production_code(sample);
    assert!(code.contains("std::fs"));
    assert!(
        !code.contains("std::process::Command"),
        "unit tests may do I/O"
    );
}
