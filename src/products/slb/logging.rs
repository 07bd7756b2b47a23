//! Where logs would go (slb-families.md §7): a load balancer's layer-7 access logs
//! (Set/Delete/DescribeAccessLogsDownloadAttribute) and a region's high-definition monitoring
//! (Enable/Modify/DescribeHighDefinationMonitor, spelled as the API spells it). Both are kept and
//! shown; this server delivers nothing to Log Service.

use serde::Serialize;
use serde_json::Value;

use super::{Lookup, edit, find, region_or_default};
use crate::api::error::ApiError;
use crate::products::inputs;
use crate::products::{Context, Fields, to_fields};
use crate::store::load_balancers::LogDestination;
use crate::store::monitoring::HdMonitor;
use crate::store::region_resources as resources;
use crate::store::{Scope, StoreError};

const DEFAULT_PAGE_SIZE: u64 = 10;
const MAX_PAGE_SIZE: u64 = 50;

/// A Log Service name: `min` to `max` of lower-case letters, digits and `extra`, starting and
/// ending with a letter or digit.
fn log_name(
    parameter: &str,
    text: &str,
    (min, max): (usize, usize),
    extra: &[u8],
) -> Result<String, ApiError> {
    let bytes = text.as_bytes();
    let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let valid = (min..=max).contains(&bytes.len())
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && bytes.iter().all(|b| edge(b) || extra.contains(b));
    if !valid {
        return Err(ApiError::InvalidParameter(format!(
            "The specified {parameter} {text:?} is not valid: {min} to {max} lower-case letters, digits and {}, a letter or digit at each end.",
            String::from_utf8_lossy(extra)
        )));
    }
    Ok(text.to_owned())
}

fn destination(project: &str, store: &str) -> Result<LogDestination, ApiError> {
    Ok(LogDestination {
        project: log_name("LogProject", project, (4, 63), b"-")?,
        store: log_name("LogStore", store, (2, 64), b"-_")?,
    })
}

/// The first entry of `LogsDownloadAttributes` (keys in any case, as the help's example mixes
/// `logProject` and `LogStore`).
fn download_attribute(context: &Context<'_>) -> Result<LogDestination, ApiError> {
    let text = context.params.required("LogsDownloadAttributes")?;
    let entries: Vec<Value> = serde_json::from_str(text).map_err(|_| {
        ApiError::InvalidParameter(
            "The specified LogsDownloadAttributes is not a JSON list like [{\"LogProject\":\"p\",\"LogStore\":\"s\"}].".into(),
        )
    })?;
    let [Value::Object(entry)] = entries.as_slice() else {
        return Err(ApiError::InvalidParameter(
            "The specified LogsDownloadAttributes must hold one object.".into(),
        ));
    };
    let key = |name: &str| {
        entry
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.as_str())
    };
    destination(
        key("LogProject").ok_or(ApiError::MissingParameter("LogProject"))?,
        key("LogStore").ok_or(ApiError::MissingParameter("LogStore"))?,
    )
}

pub async fn set_access_logs(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let wanted = download_attribute(context)?;
    edit(context, Lookup::Id(id), |load_balancer| {
        if load_balancer.access_log.is_some() {
            return Err(ApiError::OperationNotAllowed(
                "The AccessLogDownloadAttribute already exists.".into(),
            ));
        }
        load_balancer.access_log = Some(wanted.clone());
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

/// Deleting what is not there changes nothing and succeeds.
pub async fn delete_access_logs(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    edit(context, Lookup::Id(id), |load_balancer| {
        load_balancer.access_log = None;
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DownloadAttribute {
    load_balancer_id: String,
    log_project: String,
    log_store: String,
    log_type: &'static str,
    region: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DownloadAttributes {
    logs_download_attribute: Vec<DownloadAttribute>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Described {
    logs_download_attributes: DownloadAttributes,
    total_count: usize,
    page_number: u64,
    page_size: u64,
}

pub async fn describe_access_logs(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    if let Some(kind) = params.non_empty("LogType")
        && kind != "layer7"
    {
        return Err(ApiError::InvalidParameter(format!(
            "The specified LogType {kind:?} is not valid: use layer7."
        )));
    }
    let page_number = inputs::bounded_number(params, "PageNumber", 1, (1, u32::MAX as u64))?;
    let page_size =
        inputs::bounded_number(params, "PageSize", DEFAULT_PAGE_SIZE, (1, MAX_PAGE_SIZE))?;
    let load_balancers = match params.non_empty("LoadBalancerId") {
        Some(id) => vec![find(context, Lookup::Id(id)).await?],
        None => context.store.list_load_balancers(&scope(context)?).await?,
    };
    let all: Vec<DownloadAttribute> = load_balancers
        .into_iter()
        .filter_map(|load_balancer| {
            let log = load_balancer.access_log?;
            Some(DownloadAttribute {
                load_balancer_id: load_balancer.id,
                log_project: log.project,
                log_store: log.store,
                log_type: "layer7",
                region: load_balancer.region_id,
            })
        })
        .collect();
    let total_count = all.len();
    let page = all
        .into_iter()
        .skip(((page_number - 1) * page_size) as usize)
        .take(page_size as usize)
        .collect();
    to_fields(Described {
        logs_download_attributes: DownloadAttributes {
            logs_download_attribute: page,
        },
        total_count,
        page_number,
        page_size,
    })
}

fn scope(context: &Context<'_>) -> Result<Scope, ApiError> {
    Ok(Scope {
        account_id: context.caller.account_id.clone(),
        region_id: region_or_default(context)?.id.to_owned(),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Monitor {
    success: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_store: Option<String>,
}

fn success() -> Result<Fields, ApiError> {
    to_fields(Monitor {
        success: "true",
        log_project: None,
        log_store: None,
    })
}

pub async fn enable_monitor(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let wanted = destination(params.required("LogProject")?, params.required("LogStore")?)?;
    let scope = scope(context)?;
    let monitor = HdMonitor {
        id: HdMonitor::id_of(&scope),
        name: "hd-monitor".into(),
        account_id: scope.account_id,
        region_id: scope.region_id,
        project: wanted.project,
        store: wanted.store,
        tags: inputs::tags_with_legacy(params)?,
        revision: 0,
    };
    let line = context.audit.success(&monitor.id, None);
    match resources::insert(context.store, monitor, Some(1), line).await {
        Ok(_) => success(),
        Err(StoreError::Conflict(_) | StoreError::OverQuota { .. }) => {
            Err(ApiError::OperationNotAllowed(
                "High-definition monitoring is enabled in this region already; modify it instead."
                    .into(),
            ))
        }
        Err(other) => Err(other.into()),
    }
}

fn not_enabled() -> ApiError {
    ApiError::OperationNotAllowed(
        "High-definition monitoring is not enabled in this region; enable it first.".into(),
    )
}

pub async fn modify_monitor(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let wanted = destination(params.required("LogProject")?, params.required("LogStore")?)?;
    let scope = scope(context)?;
    let id = HdMonitor::id_of(&scope);
    let _turn = context.edit_locks.lock(&id).await;
    let mut monitor = resources::get::<HdMonitor>(context.store, &scope, &id)
        .await?
        .ok_or_else(not_enabled)?;
    monitor.project = wanted.project;
    monitor.store = wanted.store;
    let line = context.audit.success(&id, None);
    resources::replace(context.store, monitor, line).await?;
    success()
}

pub async fn describe_monitor(context: &Context<'_>) -> Result<Fields, ApiError> {
    let scope = scope(context)?;
    let monitor =
        resources::get::<HdMonitor>(context.store, &scope, &HdMonitor::id_of(&scope)).await?;
    to_fields(match monitor {
        Some(monitor) => Monitor {
            success: "true",
            log_project: Some(monitor.project),
            log_store: Some(monitor.store),
        },
        None => Monitor {
            success: "false",
            log_project: None,
            log_store: None,
        },
    })
}
