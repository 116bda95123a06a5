//! `attach` and `detach`: macvtap links for QEMU guests.

use color_eyre::eyre::Result;

use crate::backend::Backend;

pub async fn attach(
    backend: &Backend,
    network: &str,
    name: Option<String>,
    mac: Option<String>,
    json: bool,
) -> Result<()> {
    let att = backend.attach(network, name, mac).await?;
    if json {
        // The QEMU line too, unwrapped, for a script to paste.
        let mut v = serde_json::to_value(&att)?;
        v["qemu"] = serde_json::Value::String(att.qemu_args());
        outln!("{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        outln!(
            "{} created on {} ({} mode), mac {}",
            att.ifname,
            att.parent,
            att.mode,
            att.mac
        )?;
        outln!("{}", att.tap_device)?;
        outln!("qemu: {}", att.qemu_args())?;
    }
    Ok(())
}

pub async fn detach(backend: &Backend, ifname: &str) -> Result<()> {
    let att = backend.detach(ifname).await?;
    outln!("{} removed from {}", att.ifname, att.parent)?;
    Ok(())
}
