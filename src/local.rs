//! Running an action's own handler in this process as an account's owner, with the server's
//! limits: `import` and `--seed` create what they create exactly as the API would (validated,
//! counted against quotas, sealed, audited), without a signed request. The files they read are
//! [`crate::operator_files`]'.

use std::net::{IpAddr, Ipv4Addr};

use serde_json::Value;
use zeroize::Zeroizing;

use crate::access::{Caller, Verifier};
use crate::access::{Directory, Facts, Principal};
use crate::api::error::ApiError;
use crate::api::params::RpcParams;
use crate::audit::AuditRecord;
use crate::products::{Context, EditLocks, Fields, Limits};
use crate::store::{Account, Store};
use crate::vault::Vault;

/// What an action needs besides its parameters, for calls made as one account's owner.
pub struct LocalCaller<'a> {
    pub store: &'a dyn Store,
    pub vault: &'a Vault,
    pub verifier: &'a Verifier,
    pub directory: &'a Directory,
    pub edit_locks: &'a EditLocks,
    pub limits: &'a Limits,
    /// How the audit trail names where the calls came from (`cli import`, `seed`).
    pub source: &'static str,
}

impl LocalCaller<'_> {
    /// Runs SLB action `name` with `params` as `account`'s owner; its fields, or its refusal.
    pub async fn call(
        &self,
        account: &Account,
        name: &str,
        params: &[(&str, &str)],
    ) -> Result<Fields, ApiError> {
        self.call_in(crate::products::SLB_VERSION, account, name, params)
            .await
    }

    /// Runs action `name` of the product of `version` with `params` as `account`'s owner.
    pub async fn call_in(
        &self,
        version: &str,
        account: &Account,
        name: &str,
        params: &[(&str, &str)],
    ) -> Result<Fields, ApiError> {
        // Zeroized when dropped: it may hold a private key.
        let body = Zeroizing::new(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish(),
        );
        let params = RpcParams::parse("", body.as_bytes(), None)?;
        let action = crate::dispatch::resolve(version, name)?;
        let caller = Caller {
            account_id: account.account_id.clone(),
            access_key_id: String::new(),
            default_resource_group_id: account.default_resource_group_id.clone(),
            account_name: account.name.clone(),
            principal: Principal::Root,
        };
        let mut audit = AuditRecord::new(&crate::ids::request_id(), action.name, self.source);
        audit.account_id = account.account_id.clone();
        audit.principal = caller.principal.label();
        audit.resource_id = action.audit_target(&params);
        let now = crate::clock::now();
        let facts = Facts {
            source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            current_time: now,
            secure_transport: true,
        };
        let context = Context {
            store: self.store,
            vault: self.vault,
            verifier: self.verifier,
            directory: self.directory,
            facts: &facts,
            caller: &caller,
            params: &params,
            limits: self.limits,
            host: "",
            audit: &audit,
            edit_locks: self.edit_locks,
            health: None,
            issuer: None,
            now,
        };
        (action.handler)(&context).await
    }
}

/// Field `name` of an answer, as text (numbers too).
pub fn text(fields: &Fields, name: &str) -> String {
    match fields.get(name) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    }
}
