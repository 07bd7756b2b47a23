//! A renewed certificate put where the one it renews serves, through the same actions an
//! operator's rotation uses (so validated, quota-counted, audited and followed by the data
//! plane alike): for each SLB server certificate made from the old one (`AliCloudCertificateId`),
//! `UploadServerCertificate` makes a twin from the new one, then
//! `SetLoadBalancerHTTPSListenerAttribute` and `SetDomainExtensionAttribute` move every listener
//! and domain extension bound to it. The old server certificates stay; they serve nothing more.

use std::sync::Arc;

use crate::api::error::ApiError;
use crate::local::{LocalCaller, text};
use crate::products::SLB_VERSION;
use crate::regions::REGIONS;
use crate::state::AppState;
use crate::store::{Account, Certificate, CertificateFilter, CertificateKind, Scope};

/// The server certificates of `certificates` made from certificate `cert_id` of the list.
fn made_from<'a>(
    certificates: &'a [Certificate],
    cert_id: &'a str,
) -> impl Iterator<Item = &'a Certificate> {
    certificates.iter().filter(move |certificate| {
        certificate
            .ali_cloud
            .as_ref()
            .is_some_and(|source| source.certificate_id == cert_id)
    })
}

pub struct Rotator {
    pub state: Arc<AppState>,
}

#[async_trait::async_trait]
impl crate::issuance::Rotation for Rotator {
    async fn rotate(&self, account_id: &str, old: i64, new: i64) -> Result<usize, String> {
        self.move_bindings(account_id, old, new)
            .await
            .map_err(|error| format!("{}: {}", error.code(), error.message()))
    }
}

impl Rotator {
    /// How many listeners and domain extensions were moved.
    async fn move_bindings(&self, account_id: &str, old: i64, new: i64) -> Result<usize, ApiError> {
        let state = &self.state;
        let store = state.store.as_ref();
        let account: Account = store
            .accounts(Some(account_id), 1)
            .await?
            .pop()
            .ok_or(ApiError::Internal)?;
        let local = LocalCaller {
            store,
            vault: &state.vault,
            verifier: &state.verifier,
            directory: &state.directory,
            edit_locks: &state.edit_locks,
            limits: &state.limits,
            source: "acme renewal",
        };
        let (old, new) = (old.to_string(), new.to_string());
        let mut moved = 0;
        for region in REGIONS {
            let scope = Scope {
                account_id: account_id.to_owned(),
                region_id: region.id.to_owned(),
            };
            let certificates = store
                .list_certificates(
                    &scope,
                    CertificateKind::Server,
                    &CertificateFilter::default(),
                )
                .await?;
            for certificate in made_from(&certificates, &old) {
                // A twin made by an earlier try that did not finish is used, not made again.
                let twin = made_from(&certificates, &new)
                    .find(|twin| twin.name == certificate.name)
                    .map(|twin| twin.id.clone());
                let twin = match twin {
                    Some(twin) => twin,
                    None => {
                        self.twin(&local, &account, &scope, &certificate.name, &new)
                            .await?
                    }
                };
                moved += self
                    .rebind(&local, &account, &scope, &certificate.id, &twin)
                    .await?;
            }
        }
        Ok(moved)
    }

    /// A server certificate named `name` made from certificate `new` of the list.
    async fn twin(
        &self,
        local: &LocalCaller<'_>,
        account: &Account,
        scope: &Scope,
        name: &str,
        new: &str,
    ) -> Result<String, ApiError> {
        let region = scope.region_id.as_str();
        let uploaded = local
            .call_in(
                SLB_VERSION,
                account,
                "UploadServerCertificate",
                &[
                    ("RegionId", region),
                    ("AliCloudCertificateId", new),
                    ("ServerCertificateName", name),
                ],
            )
            .await?;
        Ok(text(&uploaded, "ServerCertificateId"))
    }

    /// Moves every listener and domain extension bound to server certificate `id` to `twin`.
    async fn rebind(
        &self,
        local: &LocalCaller<'_>,
        account: &Account,
        scope: &Scope,
        id: &str,
        twin: &str,
    ) -> Result<usize, ApiError> {
        let region = scope.region_id.as_str();
        let mut moved = 0;
        for load_balancer in self.state.store.list_load_balancers(scope).await? {
            for listener in &load_balancer.listeners {
                if listener.server_certificate_id.as_deref() == Some(id) {
                    let port = listener.port.to_string();
                    local
                        .call(
                            account,
                            "SetLoadBalancerHTTPSListenerAttribute",
                            &[
                                ("RegionId", region),
                                ("LoadBalancerId", &load_balancer.id),
                                ("ListenerPort", &port),
                                ("ServerCertificateId", twin),
                            ],
                        )
                        .await?;
                    moved += 1;
                }
                for extension in &listener.domain_extensions {
                    if extension.server_certificate_id == id {
                        local
                            .call(
                                account,
                                "SetDomainExtensionAttribute",
                                &[
                                    ("RegionId", region),
                                    ("DomainExtensionId", &extension.id),
                                    ("ServerCertificateId", twin),
                                ],
                            )
                            .await?;
                        moved += 1;
                    }
                }
            }
        }
        Ok(moved)
    }
}
