//! What the kernel's files say about its modules: `/proc/modules`, `/sys/module`, the module
//! tree's `modules.builtin` and `modules.dep`, and the kernel's build configuration. Read from a
//! file tree rooted anywhere (`/` on the host, a fake tree in the tests); what they mean is
//! decided elsewhere, purely.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The module evidence of one kernel. `None`: the file does not exist (or cannot be read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelFiles {
    /// `uname -r`, from `/proc/sys/kernel/osrelease`.
    pub release: String,
    /// `/proc/modules`; absent on a kernel built without loadable-module support.
    pub loaded: Option<String>,
    /// Names in `/sys/module`: loaded modules, and built-in ones that have parameters or a
    /// version.
    pub sysfs: BTreeSet<String>,
    /// `/lib/modules/RELEASE/modules.builtin`.
    pub builtin: Option<String>,
    /// `/lib/modules/RELEASE/modules.dep`.
    pub dep: Option<String>,
    /// The build configuration: `/proc/config.gz` (unpacked), else `/boot/config-RELEASE`.
    pub config: Option<String>,
    /// Where the module tree is (or would be), for messages.
    pub modules_dir: PathBuf,
}

impl KernelFiles {
    /// Reads the evidence under `root` (`/` for this host).
    pub fn read(root: &Path) -> KernelFiles {
        let text = |rel: &str| std::fs::read_to_string(root.join(rel)).ok();
        let release = text("proc/sys/kernel/osrelease")
            .map(|r| r.trim().to_owned())
            .unwrap_or_default();
        let modules_dir = Path::new("/lib/modules").join(&release);
        let under_modules = |file: &str| text(&format!("lib/modules/{release}/{file}"));
        let sysfs = std::fs::read_dir(root.join("sys/module"))
            .map(|dir| {
                dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        KernelFiles {
            loaded: text("proc/modules"),
            sysfs,
            builtin: under_modules("modules.builtin"),
            dep: under_modules("modules.dep"),
            config: gunzip(&root.join("proc/config.gz"))
                .or_else(|| text(&format!("boot/config-{release}"))),
            release,
            modules_dir,
        }
    }
}

/// The text of a gzip file, `None` when it is missing or not gzip text.
fn gunzip(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}
