//! Runs the real binary in a pseudo-terminal and reads its screen through a VT parser, for
//! end-to-end TUI tests: poll the screen for text with a timeout, never fixed sleeps.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::pty::{openpty, Winsize};

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("terminal sizes are positive")
}

/// A child process attached to a pseudo-terminal of a fixed size.
pub struct PtyApp {
    pub child: Child,
    master: File,
    parser: Arc<Mutex<vt100::Parser>>,
    /// Every byte the program wrote, for checking the terminal was restored.
    raw: Arc<Mutex<Vec<u8>>>,
}

impl PtyApp {
    /// Starts `cmd` with its stdin/stdout/stderr on a new pty of `cols`×`rows`.
    pub fn spawn(mut cmd: Command, cols: u16, rows: u16) -> PtyApp {
        let size = Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).expect("openpty");
        let slave: OwnedFd = pty.slave;
        let slave_fd = slave.as_raw_fd();
        let stdio = || Stdio::from(slave.try_clone().expect("dup pty slave"));
        cmd.stdin(stdio())
            .stdout(stdio())
            .stderr(stdio())
            .env("TERM", "xterm-256color");
        // SAFETY: only async-signal-safe calls between fork and exec (setsid, ioctl).
        unsafe {
            cmd.pre_exec(move || {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                if libc::ioctl(slave_fd, libc::TIOCSCTTY as _, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn in pty");
        drop(slave);
        let master = File::from(pty.master);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(nz(rows), nz(cols), 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().expect("clone master");
        let (p, r) = (parser.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().expect("parser").process(&buf[..n]);
                r.lock().expect("raw").extend_from_slice(&buf[..n]);
            }
        });
        PtyApp {
            child,
            master,
            parser,
            raw,
        }
    }

    /// The screen as text, one line per row.
    pub fn screen(&self) -> String {
        self.parser.lock().expect("parser").screen().contents()
    }

    /// Waits until `pred(screen)` holds, or panics with the last screen after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for `text` to appear on screen.
    pub fn wait_text(&self, text: &str, timeout: Duration) -> String {
        self.wait_for(text, timeout, |s| s.contains(text))
    }

    /// Types `keys` (raw bytes: "q", "\r", "\x1b" …).
    pub fn send(&mut self, keys: &str) {
        self.master
            .write_all(keys.as_bytes())
            .expect("write to pty");
        self.master.flush().expect("flush pty");
    }

    /// Waits for the program to exit (up to `timeout`) and returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        None
    }

    /// Whether the output leaves the alternate screen and shows the cursor after entering
    /// the alternate screen: the terminal was restored.
    pub fn restored(&self) -> bool {
        let raw = self.raw.lock().expect("raw");
        let text = String::from_utf8_lossy(&raw);
        let entered = text.find("\x1b[?1049h");
        let left = text.rfind("\x1b[?1049l");
        let cursor = text.rfind("\x1b[?25h");
        matches!((entered, left, cursor), (Some(e), Some(l), Some(c)) if l > e && c > e)
    }
}

impl Drop for PtyApp {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
