//! The entries of an access control list (Add/RemoveAccessControlListEntry), and
//! DescribeAccessControlListAttribute, which shows them with the listeners that use the list.

use serde::{Deserialize, Serialize};

use super::{Summary, binding, edit, find};
use crate::api::error::{AclError, ApiError};
use crate::api::params::lenient_json;
use crate::cidr::Cidr;
use crate::products::inputs;
use crate::products::slb::settings;
use crate::products::{Context, Fields, to_fields};
use crate::store::acls::{Acl, AclEntry};
use crate::store::load_balancers::{LoadBalancer, Owner};

/// Entries one Add or Remove call may name.
const MAX_PER_CALL: usize = 50;
const MAX_COMMENT_CHARS: usize = 100;
const DEFAULT_PAGE_SIZE: u64 = 10;
const MAX_PAGE_SIZE: u64 = 50;

#[derive(Deserialize)]
struct Given {
    entry: String,
    #[serde(default)]
    comment: Option<String>,
}

/// `AclEntrys`: a JSON array of `{"entry": CIDR, "comment": text}`; old Terraform sends it with
/// single quotes, which are read as double ones when strict JSON does not parse. Entries are
/// canonical (`10.1.2.3/8` is `10.0.0.0/8`, a bare address is its /32 or /128), of the list's
/// IP version, each once.
fn parse(acl: &Acl, text: &str) -> Result<Vec<AclEntry>, ApiError> {
    let given: Vec<Given> = lenient_json(text).ok_or_else(|| {
        AclError::EntryIllegal(
            r#"AclEntrys must be a JSON array like [{"entry":"10.0.0.0/8","comment":"office"}]"#
                .into(),
        )
    })?;
    if given.is_empty() {
        return Err(AclError::EntryIllegal("AclEntrys lists no entry".into()).into());
    }
    if given.len() > MAX_PER_CALL {
        return Err(AclError::EntryExceedLimit(format!(
            "{} entries in one call; at most {MAX_PER_CALL} are allowed",
            given.len()
        ))
        .into());
    }
    let mut entries: Vec<AclEntry> = Vec::new();
    for item in given {
        let block = Cidr::parse(item.entry.trim())
            .map_err(|_| AclError::EntryIllegal(format!("{:?} is not a CIDR block", item.entry)))?
            .network();
        if block.is_ipv4() != (acl.ip_version == "ipv4") {
            return Err(AclError::EntryOtherVersion(format!(
                "{block} in an {} list",
                acl.ip_version
            ))
            .into());
        }
        let comment = item.comment.unwrap_or_default();
        if comment.chars().count() > MAX_COMMENT_CHARS || comment.chars().any(char::is_control) {
            return Err(AclError::EntryIllegal(format!(
                "the comment of {block} is longer than {MAX_COMMENT_CHARS} characters or holds control characters"
            ))
            .into());
        }
        let entry = block.to_string();
        if !entries.iter().any(|e| e.entry == entry) {
            entries.push(AclEntry { entry, comment });
        }
    }
    Ok(entries)
}

pub async fn add_entries(context: &Context<'_>) -> Result<Fields, ApiError> {
    let text = context.params.required("AclEntrys")?;
    let limit = context.limits.load_balancers.entries_per_acl;
    // The other lists of the listeners that use this one, read first; a listener's lists
    // are judged together (binding.rs).
    let neighbours = binding::neighbours(context, &find(context).await?).await?;
    edit(context, |acl| {
        let added = parse(acl, text)?;
        let grown: Vec<AclEntry> = acl.entries.iter().chain(&added).cloned().collect();
        for others in &neighbours {
            binding::judge_together(&[&grown, others])?;
        }
        if let Some(taken) = added
            .iter()
            .find(|new| acl.entries.iter().any(|old| old.entry == new.entry))
        {
            return Err(AclError::EntryExists(taken.entry.clone()).into());
        }
        let total = acl.entries.len() + added.len();
        if total > limit {
            return Err(AclError::EntryExceedLimit(format!(
                "the list would hold {total} entries; at most {limit} are allowed"
            ))
            .into());
        }
        acl.entries.extend(added);
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

pub async fn remove_entries(context: &Context<'_>) -> Result<Fields, ApiError> {
    let text = context.params.required("AclEntrys")?;
    edit(context, |acl| {
        let removed = parse(acl, text)?;
        if let Some(absent) = removed
            .iter()
            .find(|gone| !acl.entries.iter().any(|e| e.entry == gone.entry))
        {
            return Err(AclError::EntryIllegal(format!(
                "{} is not in the access control list",
                absent.entry
            ))
            .into());
        }
        acl.entries
            .retain(|entry| !removed.iter().any(|gone| gone.entry == entry.entry));
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EntryView {
    #[serde(rename = "AclEntryIP")]
    acl_entry_ip: String,
    acl_entry_comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entries {
    acl_entry: Vec<EntryView>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RelatedListener {
    pub(super) load_balancer_id: String,
    pub(super) listener_port: u16,
    pub(super) protocol: &'static str,
    acl_type: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RelatedListeners {
    related_listener: Vec<RelatedListener>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Attribute {
    #[serde(flatten)]
    summary: Summary,
    total_acl_entry: usize,
    acl_entrys: Entries,
    related_listeners: RelatedListeners,
}

/// The load balancers of the list's account and region with the listeners that name it.
pub(super) async fn users(
    context: &Context<'_>,
    acl: &Acl,
) -> Result<Vec<(LoadBalancer, Vec<usize>)>, ApiError> {
    let owner = Owner {
        account_id: acl.account_id.clone(),
        region_id: Some(acl.region_id.clone()),
    };
    let mut users = Vec::new();
    for id in context.store.resource_users(&acl.id).await? {
        let Some(load_balancer) = context.store.load_balancer(&owner, &id).await? else {
            continue;
        };
        let naming: Vec<usize> = (0..load_balancer.listeners.len())
            .filter(|&i| {
                settings::text(&load_balancer.listeners[i].settings, "AclId")
                    .is_some_and(|ids| ids.split(',').any(|named| named == acl.id))
            })
            .collect();
        if !naming.is_empty() {
            users.push((load_balancer, naming));
        }
    }
    Ok(users)
}

/// The listeners of this account that name the list.
pub(super) async fn related(
    context: &Context<'_>,
    acl: &Acl,
) -> Result<Vec<RelatedListener>, ApiError> {
    let mut related = Vec::new();
    for (load_balancer, naming) in users(context, acl).await? {
        for listener in naming.into_iter().map(|i| &load_balancer.listeners[i]) {
            related.push(RelatedListener {
                load_balancer_id: load_balancer.id.clone(),
                listener_port: listener.port,
                protocol: listener.protocol.as_str(),
                acl_type: settings::text(&listener.settings, "AclType")
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
    }
    Ok(related)
}

/// Every entry unless `Page` or `PageSize` is given (clients that read the whole list in one
/// call, as older Terraform does, get all of it); `AclEntryComment` filters by comment.
pub async fn attribute(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let acl = find(context).await?;
    let comment = params.non_empty("AclEntryComment");
    let matching: Vec<&AclEntry> = acl
        .entries
        .iter()
        .filter(|entry| comment.is_none_or(|c| entry.comment == c))
        .collect();
    let paged = params.non_empty("Page").is_some() || params.non_empty("PageSize").is_some();
    let (page, size) = if paged {
        (
            inputs::bounded_number(params, "Page", 1, (1, u32::MAX as u64))?,
            inputs::bounded_number(params, "PageSize", DEFAULT_PAGE_SIZE, (1, MAX_PAGE_SIZE))?,
        )
    } else {
        (1, matching.len().max(1) as u64)
    };
    let shown = matching
        .iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .map(|entry| EntryView {
            acl_entry_ip: entry.entry.clone(),
            acl_entry_comment: entry.comment.clone(),
        })
        .collect();
    to_fields(Attribute {
        summary: Summary::of(&acl),
        total_acl_entry: matching.len(),
        acl_entrys: Entries { acl_entry: shown },
        related_listeners: RelatedListeners {
            related_listener: related(context, &acl).await?,
        },
    })
}
