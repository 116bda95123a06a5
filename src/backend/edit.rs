//! Operations behind the wizards: plan preview of a draft, create-and-start (nothing stays
//! defined if the start fails), edit of an active network with rollback to the old definition,
//! and pinning a lease as a static DHCP host with a live dnsmasq reload.

use super::{Backend, BackendError};
use crate::host::Host;
use crate::model::{self, NetworkDef, Problem};
use crate::plan::Step;

fn invalid(path: &str, message: String) -> BackendError {
    BackendError::Invalid(vec![Problem {
        path: path.to_owned(),
        message,
    }])
}

impl<H: Host> Backend<H> {
    /// The exact plan `start` would run for a draft: the numbered steps, then the dnsmasq
    /// configuration and the nftables transaction as they would be loaded.
    pub async fn preview(&self, xml: &str) -> Result<String, BackendError> {
        let facts = super::host_facts(&self.host().observe().await?);
        let def = self.complete(model::parse_network_xml(xml)?, &facts)?;
        let plan = self.plan_for(&def).await?;
        let mut text = format!("{plan}");
        for step in &plan.steps {
            match step {
                Step::WriteFile { path, contents, .. }
                    if path.extension().is_some_and(|e| e == "conf") =>
                {
                    text.push_str(&format!(
                        "\n# dnsmasq configuration ({})\n{contents}",
                        path.display()
                    ));
                }
                Step::AddFirewall { net, .. } => {
                    let doc = crate::plan::firewall::add_network(net);
                    text.push_str(&format!(
                        "\n# nftables transaction (nft -j -f -), shown as rules\n{}",
                        crate::plan::firewall::describe(&doc)
                    ));
                }
                _ => {}
            }
        }
        Ok(text)
    }

    /// Defines a new network and optionally starts it; if the start fails, the definition is
    /// removed again so nothing of the failed create remains.
    pub async fn create_network(
        &self,
        xml: &str,
        autostart: bool,
        start: bool,
        progress: impl FnMut(usize, &Step),
    ) -> Result<NetworkDef, BackendError> {
        let facts = super::host_facts(&self.host().observe().await?);
        let draft = model::parse_network_xml(xml)?;
        super::check_name(&draft.name)?;
        let lock = self.store.lock()?;
        if self.store.exists(&draft.name) {
            return Err(invalid(
                "name",
                format!("a network named {} is already defined", draft.name),
            ));
        }
        let def = self.define_locked(&lock, draft, &facts)?;
        if autostart {
            self.store.set_autostart(&lock, &def.name, true)?;
        }
        if start {
            let started = self.start_locked(&lock, &def.name, progress).await;
            if let Err(e) = started {
                let _ = self.store.remove(&lock, &def.name);
                return Err(e);
            }
        }
        Ok(def)
    }
}
