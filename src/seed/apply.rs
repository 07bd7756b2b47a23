//! Making what a checked seed file describes, item by item through the actions' handlers.

use std::collections::HashMap;

use super::{Loaded, SeedAccount, SeedListener, identity};
use crate::audit::AuditRecord;
use crate::local::{LocalCaller, text};
use crate::state::AppState;
use crate::store::Account;

/// Makes every item of `loaded`; its first entry describes `first`, the store's first account
/// (just made), the others are made. The first refusal names its item and stops.
pub async fn apply(state: &AppState, loaded: &Loaded, first: &Account) -> Result<(), String> {
    let caller = LocalCaller {
        store: state.store.as_ref(),
        vault: &state.vault,
        verifier: &state.verifier,
        directory: &state.directory,
        edit_locks: &state.edit_locks,
        limits: &state.limits,
        source: "seed",
    };
    for (a, entry) in loaded.seed.accounts.iter().enumerate() {
        let at = format!("accounts[{a}]");
        let account = match a {
            0 => first.clone(),
            _ => make_account(state, entry)
                .await
                .map_err(|why| format!("{at}: {why}"))?,
        };
        Items {
            caller: &caller,
            account: &account,
            entry,
            loaded,
            at,
            ids: HashMap::new(),
        }
        .make()
        .await?;
    }
    Ok(())
}

async fn make_account(state: &AppState, entry: &SeedAccount) -> Result<Account, String> {
    let fixed = identity(entry)?;
    let audit = AuditRecord::new(&crate::ids::request_id(), "CreateAccount", "seed");
    let store = state.store.as_ref();
    let made = crate::accounts::create_with(store, &state.vault, &entry.name, &audit, &fixed)
        .await
        .map_err(|error| error.to_string())?;
    let mut found = store
        .accounts(Some(&made.account_id), 1)
        .await
        .map_err(|error| error.to_string())?;
    found
        .pop()
        .ok_or_else(|| "the new account cannot be read".into())
}

/// One account's items.
struct Items<'a> {
    caller: &'a LocalCaller<'a>,
    account: &'a Account,
    entry: &'a SeedAccount,
    loaded: &'a Loaded,
    at: String,
    /// IDs made so far, by (kind, region, name).
    ids: HashMap<(&'static str, String, String), String>,
}

impl Items<'_> {
    async fn make(mut self) -> Result<(), String> {
        let entry = self.entry;
        for (c, certificate) in entry.certificates.iter().enumerate() {
            let region = self.region(&certificate.region);
            let params = [
                ("RegionId", region.as_str()),
                ("ServerCertificateName", &certificate.name),
                ("ServerCertificate", self.file(&certificate.certificate)),
                ("PrivateKey", self.file(&certificate.private_key)),
            ];
            let item = format!("{}.certificates[{c}]", self.at);
            let made = self.call(&item, "UploadServerCertificate", &params).await?;
            let key = ("server", region, certificate.name.clone());
            self.ids.insert(key, text(&made, "ServerCertificateId"));
        }
        for (c, certificate) in entry.ca_certificates.iter().enumerate() {
            let region = self.region(&certificate.region);
            let params = [
                ("RegionId", region.as_str()),
                ("CACertificateName", &certificate.name),
                ("CACertificate", self.file(&certificate.certificate)),
            ];
            let item = format!("{}.ca_certificates[{c}]", self.at);
            let made = self.call(&item, "UploadCACertificate", &params).await?;
            let key = ("ca", region, certificate.name.clone());
            self.ids.insert(key, text(&made, "CACertificateId"));
        }
        for (l, load_balancer) in entry.load_balancers.iter().enumerate() {
            let item = format!("{}.load_balancers[{l}]", self.at);
            let region = self.region(&load_balancer.region);
            let mut params = vec![
                ("RegionId", region.as_str()),
                ("LoadBalancerName", load_balancer.name.as_str()),
            ];
            params.extend(
                load_balancer
                    .parameters
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            );
            let made = self.call(&item, "CreateLoadBalancer", &params).await?;
            let id = text(&made, "LoadBalancerId");
            for (n, listener) in load_balancer.listeners.iter().enumerate() {
                let item = format!("{item}.listeners[{n}]");
                self.listener(&item, &region, &id, listener).await?;
            }
        }
        Ok(())
    }

    async fn listener(
        &self,
        item: &str,
        region: &str,
        load_balancer_id: &str,
        listener: &SeedListener,
    ) -> Result<(), String> {
        let (port, backend_port) = (listener.port.to_string(), listener.backend_port.to_string());
        let bandwidth = listener.bandwidth.to_string();
        let id_of = |kind, name: &Option<String>| {
            name.as_ref()
                .and_then(|name| self.ids.get(&(kind, region.to_owned(), name.clone())))
        };
        let mut params = vec![
            ("RegionId", region),
            ("LoadBalancerId", load_balancer_id),
            ("ListenerPort", port.as_str()),
            ("BackendServerPort", backend_port.as_str()),
            ("Bandwidth", bandwidth.as_str()),
        ];
        if let Some(id) = id_of("server", &listener.certificate) {
            params.push(("ServerCertificateId", id));
        }
        if let Some(id) = id_of("ca", &listener.ca_certificate) {
            params.push(("CACertificateId", id));
        }
        let http = matches!(listener.protocol.as_str(), "http" | "https");
        if http && !listener.parameters.contains_key("HealthCheck") {
            params.push(("HealthCheck", "off"));
        }
        params.extend(
            listener
                .parameters
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let action = format!(
            "CreateLoadBalancer{}Listener",
            listener.protocol.to_ascii_uppercase()
        );
        self.call(item, &action, &params).await?;
        for (d, extension) in listener.domain_extensions.iter().enumerate() {
            let certificate = id_of("server", &Some(extension.certificate.clone()));
            let params = [
                ("RegionId", region),
                ("LoadBalancerId", load_balancer_id),
                ("ListenerPort", port.as_str()),
                ("Domain", extension.domain.as_str()),
                (
                    "ServerCertificateId",
                    certificate.map_or("", String::as_str),
                ),
            ];
            let item = format!("{item}.domain_extensions[{d}]");
            self.call(&item, "CreateDomainExtension", &params).await?;
        }
        if listener.start {
            let params = [
                ("RegionId", region),
                ("LoadBalancerId", load_balancer_id),
                ("ListenerPort", port.as_str()),
            ];
            self.call(item, "StartLoadBalancerListener", &params)
                .await?;
        }
        Ok(())
    }

    fn region(&self, own: &Option<String>) -> String {
        own.clone().unwrap_or_else(|| self.entry.region.clone())
    }

    fn file(&self, path: &std::path::Path) -> &str {
        self.loaded.files.get(path).map_or("", |text| text.as_str())
    }

    async fn call(
        &self,
        item: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<crate::products::Fields, String> {
        self.caller
            .call(self.account, action, params)
            .await
            .map_err(|error| format!("{item}: {action}: {}: {}", error.code(), error.message()))
    }
}
