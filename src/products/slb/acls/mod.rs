//! Access control lists: Create, Delete, SetAttribute and DescribeAccessControlLists here;
//! their entries and DescribeAccessControlListAttribute in [`entries`]. Listeners name a list
//! by `AclId`; the data plane filters client addresses by it.

pub mod binding;
mod entries;

pub use entries::{add_entries, attribute, remove_entries};

use serde::Serialize;

use super::certificates::{TagsView, listing};
use super::region_or_default;
use crate::api::error::{AclError, ApiError};
use crate::clock;
use crate::ids;
use crate::products::inputs;
use crate::products::{Context, Fields, to_fields};
use crate::store::acls::Acl;
use crate::store::region_resources as resources;
use crate::store::{Scope, StoreError, TagFilter};

const MAX_NAME_CHARS: usize = 80;
const DEFAULT_PAGE_SIZE: u64 = 10;
const MAX_PAGE_SIZE: u64 = 50;
/// An edit that keeps racing with others on the same list gives up after this many reads.
const MAX_EDIT_ATTEMPTS: usize = 16;

/// `AclName`: 1 to 80 letters, digits, `.`, `-`, `/` and `_`.
fn acl_name(name: &str) -> Result<String, ApiError> {
    let valid = name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '/' | '_'));
    if !valid {
        return Err(ApiError::InvalidParameter(format!(
            "The specified AclName {name:?} is not valid: use 1 to {MAX_NAME_CHARS} letters, digits, '.', '-', '/' and '_'."
        )));
    }
    Ok(name.to_owned())
}

fn ip_version(context: &Context<'_>) -> Result<Option<&'static str>, ApiError> {
    match context.params.non_empty("AddressIPVersion") {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("ipv4") => Ok(Some("ipv4")),
        Some(v) if v.eq_ignore_ascii_case("ipv6") => Ok(Some("ipv6")),
        Some(v) => Err(ApiError::InvalidParameter(format!(
            "The specified AddressIPVersion {v:?} is not valid: use ipv4 or ipv6."
        ))),
    }
}

fn scope(context: &Context<'_>) -> Result<Scope, ApiError> {
    Ok(Scope {
        account_id: context.caller.account_id.clone(),
        region_id: region_or_default(context)?.id.to_owned(),
    })
}

/// The list `AclId` names in the caller's scope; another account's answers like a missing one.
async fn find(context: &Context<'_>) -> Result<Acl, ApiError> {
    let id = context.params.required("AclId")?;
    resources::get::<Acl>(context.store, &scope(context)?, id)
        .await?
        .ok_or_else(|| AclError::NotExist(id.to_owned()).into())
}

/// The store's refusals in the words of access control lists.
fn refusal(error: StoreError, acl: &Acl) -> ApiError {
    match error {
        StoreError::Conflict("name") => AclError::NameExist(acl.name.clone()).into(),
        StoreError::OverQuota { used, limit } => {
            AclError::NumberOverLimit(format!("{used} of {limit} used in this region")).into()
        }
        StoreError::NotFound(id) => AclError::NotExist(id).into(),
        StoreError::InUse(id) => AclError::InUse(id).into(),
        other => other.into(),
    }
}

/// Reads the list, applies `change` and writes it back, after this process's earlier edits of
/// it, starting again from a fresh read if another process changed it in between.
async fn edit(
    context: &Context<'_>,
    mut change: impl FnMut(&mut Acl) -> Result<(), ApiError>,
) -> Result<Acl, ApiError> {
    let id = context.params.required("AclId")?;
    let _turn = context.edit_locks.lock(id).await;
    for _ in 0..MAX_EDIT_ATTEMPTS {
        let mut acl = find(context).await?;
        change(&mut acl)?;
        let line = context.audit.success(&acl.id, None);
        match resources::replace(context.store, acl.clone(), line).await {
            Ok(written) => return Ok(written),
            Err(StoreError::Stale) => continue,
            Err(other) => return Err(refusal(other, &acl)),
        }
    }
    Err(ApiError::OperationBusy)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    acl_id: String,
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let name = acl_name(params.required("AclName")?)?;
    let ip_version = ip_version(context)?.unwrap_or("ipv4");
    let tags = inputs::tags(params)?;
    let resource_group_id = inputs::resource_group(params)?
        .unwrap_or_else(|| context.caller.default_resource_group_id.clone());
    let scope = scope(context)?;
    let created_ms = clock::unix_ms(context.now);
    let acl = Acl {
        id: ids::acl_id(),
        account_id: scope.account_id,
        region_id: scope.region_id,
        name,
        ip_version: ip_version.into(),
        resource_group_id,
        created_ms: created_ms - created_ms.rem_euclid(1000),
        tags,
        entries: Vec::new(),
        revision: 0,
    };
    let line = context.audit.success(&acl.id, None);
    let quota = context.limits.load_balancers.acls_per_region;
    match resources::insert(context.store, acl.clone(), quota, line).await {
        Ok(stored) => to_fields(Created { acl_id: stored.id }),
        Err(error) => Err(refusal(error, &acl)),
    }
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("AclId")?;
    let _turn = context.edit_locks.lock(id).await;
    for _ in 0..MAX_EDIT_ATTEMPTS {
        let acl = find(context).await?;
        let line = context.audit.success(&acl.id, None);
        match resources::delete(context.store, &acl, line).await {
            Ok(()) => return Ok(Fields::new()),
            Err(StoreError::Stale) => continue,
            Err(other) => return Err(refusal(other, &acl)),
        }
    }
    Err(ApiError::OperationBusy)
}

/// MoveResourceGroup of the list `id`.
pub async fn move_to(context: &Context<'_>, id: &str, group: &str) -> Result<(), ApiError> {
    let _turn = context.edit_locks.lock(id).await;
    let scope = scope(context)?;
    for _ in 0..MAX_EDIT_ATTEMPTS {
        let Some(mut acl) = resources::get::<Acl>(context.store, &scope, id).await? else {
            return Err(AclError::NotExist(id.to_owned()).into());
        };
        acl.resource_group_id = group.to_owned();
        let line = context.audit.success(&acl.id, None);
        match resources::replace(context.store, acl.clone(), line).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Stale) => continue,
            Err(other) => return Err(refusal(other, &acl)),
        }
    }
    Err(ApiError::OperationBusy)
}

pub async fn set(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = acl_name(context.params.required("AclName")?)?;
    edit(context, |acl| {
        acl.name = name.clone();
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

fn tagged(acl: &Acl, filter: &TagFilter) -> bool {
    acl.tags.iter().any(|tag| {
        tag.key == filter.key
            && filter
                .value
                .as_ref()
                .is_none_or(|value| &tag.value == value)
    })
}

/// One list in DescribeAccessControlLists.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Summary {
    acl_id: String,
    acl_name: String,
    #[serde(rename = "AddressIPVersion")]
    address_ip_version: String,
    create_time: String,
    resource_group_id: String,
    tags: TagsView,
}

impl Summary {
    fn of(acl: &Acl) -> Summary {
        Summary {
            acl_id: acl.id.clone(),
            acl_name: acl.name.clone(),
            address_ip_version: acl.ip_version.clone(),
            create_time: clock::iso8601(clock::from_unix_ms(acl.created_ms)),
            resource_group_id: acl.resource_group_id.clone(),
            tags: TagsView::of(&acl.tags),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    count: usize,
    total_count: usize,
    page_number: u64,
    page_size: u64,
}

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let name = params.non_empty("AclName");
    let version = ip_version(context)?;
    let group = inputs::resource_group(params)?;
    let tags: Vec<TagFilter> = inputs::tag_filters(params)?;
    let page_number = inputs::bounded_number(params, "PageNumber", 1, (1, u32::MAX as u64))?;
    let page_size =
        inputs::bounded_number(params, "PageSize", DEFAULT_PAGE_SIZE, (1, MAX_PAGE_SIZE))?;
    let matching: Vec<Acl> = resources::list::<Acl>(context.store, &scope(context)?)
        .await?
        .into_iter()
        .filter(|acl| name.is_none_or(|name| acl.name.contains(name)))
        .filter(|acl| version.is_none_or(|v| acl.ip_version == v))
        .filter(|acl| group.as_ref().is_none_or(|g| &acl.resource_group_id == g))
        .filter(|acl| tags.iter().all(|filter| tagged(acl, filter)))
        .collect();
    let items: Vec<Fields> = matching
        .iter()
        .skip(((page_number - 1) * page_size) as usize)
        .take(page_size as usize)
        .map(|acl| to_fields(Summary::of(acl)))
        .collect::<Result<_, _>>()?;
    let mut out = to_fields(Page {
        count: items.len(),
        total_count: matching.len(),
        page_number,
        page_size,
    })?;
    out.extend(listing("Acls", "Acl", items));
    Ok(out)
}
