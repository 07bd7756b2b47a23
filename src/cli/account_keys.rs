//! `slbcert account keys`: an account's own AccessKeys, for an operator — the same RAM
//! actions (CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey without
//! UserName) the account's own key may call, run through their handlers as the account's
//! owner, audited as `cli`. Works while a server runs on the same store: every node sees a
//! change at once.

use clap::Subcommand;
use serde_json::Value;

use super::{BoxError, Storage};
use crate::access::Verifier;
use crate::local::LocalCaller;
use crate::products::slb::LoadBalancerLimits;
use crate::products::{Limits, RAM_VERSION};

#[derive(clap::Args)]
pub(super) struct AccountKeysArgs {
    /// The account whose own keys these are.
    #[arg(long)]
    account_id: String,
    #[command(flatten)]
    storage: Storage,
    /// Print the answer as JSON (the RAM action's fields).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    action: KeysAction,
}

#[derive(Subcommand)]
enum KeysAction {
    /// The account's keys, with their status.
    List,
    /// A new key pair (an account has two at most); its secret is printed once.
    Create,
    /// Refuse requests signed with this key, at once on every node.
    Disable { access_key_id: String },
    /// Accept requests signed with this key again.
    Enable { access_key_id: String },
    /// Delete this key.
    Delete { access_key_id: String },
}

impl KeysAction {
    /// The RAM action, and its parameters.
    fn request(&self) -> (&'static str, Vec<(&'static str, &str)>) {
        match self {
            KeysAction::List => ("ListAccessKeys", vec![]),
            KeysAction::Create => ("CreateAccessKey", vec![]),
            KeysAction::Disable { access_key_id } => (
                "UpdateAccessKey",
                vec![("UserAccessKeyId", access_key_id), ("Status", "Inactive")],
            ),
            KeysAction::Enable { access_key_id } => (
                "UpdateAccessKey",
                vec![("UserAccessKeyId", access_key_id), ("Status", "Active")],
            ),
            KeysAction::Delete { access_key_id } => {
                ("DeleteAccessKey", vec![("UserAccessKeyId", access_key_id)])
            }
        }
    }
}

pub(super) async fn run(args: AccountKeysArgs) -> Result<(), BoxError> {
    let data = args.storage.open().await?;
    let account = data
        .store
        .accounts(Some(&args.account_id), 1)
        .await?
        .pop()
        .ok_or_else(|| format!("no account {} in this store", args.account_id))?;
    let limits = Limits {
        server_certificates_per_region: None,
        ca_certificates_per_region: None,
        load_balancers: LoadBalancerLimits::none(),
    };
    let caller = LocalCaller {
        store: data.store.as_ref(),
        vault: &data.vault,
        verifier: &Verifier::new(&data.vault),
        directory: &Default::default(),
        edit_locks: &Default::default(),
        limits: &limits,
        source: "cli",
    };
    let (action, params) = args.action.request();
    let result = caller.call_in(RAM_VERSION, &account, action, &params).await;
    data.export_audit().await?;
    let fields = result.map_err(|error| format!("{}: {}", error.code(), error.message()))?;
    if args.json {
        println!("{}", Value::Object(fields));
        return Ok(());
    }
    if let Some(key) = fields.get("AccessKey") {
        for name in ["AccessKeyId", "AccessKeySecret", "Status"] {
            println!(
                "{:<16} {}",
                format!("{name}:"),
                key[name].as_str().unwrap_or_default()
            );
        }
    }
    let listed = fields
        .get("AccessKeys")
        .and_then(|keys| keys["AccessKey"].as_array());
    for key in listed.into_iter().flatten() {
        let text = |name: &str| key[name].as_str().unwrap_or_default().to_owned();
        println!(
            "{}  {:<8}  {}",
            text("AccessKeyId"),
            text("Status"),
            text("CreateDate")
        );
    }
    Ok(())
}
