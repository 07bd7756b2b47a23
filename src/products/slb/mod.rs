//! Server Load Balancer (2014-05-15): certificates, load balancers, listeners, domain
//! extensions, backend servers, VServer groups, tags and regions.

pub mod acls;
pub mod backends;
pub mod ca_certificates;
mod certificates;
pub mod domain_extensions;
pub mod legacy_tags;
pub mod listeners;
pub mod load_balancers;
pub mod logging;
pub mod master_slave_groups;
pub mod regions;
pub mod resource_groups;
pub mod rules;
pub mod server_certificates;
mod settings;
pub mod tags;
pub mod tls_policies;
pub mod vserver_groups;
pub mod zones;

use crate::api::error::ApiError;
use crate::products::Context;
use crate::regions::{self as known_regions, Region};
use crate::store::load_balancers::{AddressPool, LoadBalancer, Owner};
use crate::store::{Quota, StoreError};

/// An edit that keeps racing with others on the same load balancer gives up after this many
/// fresh starts.
const MAX_EDIT_ATTEMPTS: usize = 16;

/// Quotas and the address pool, as `serve` flags set them.
#[derive(Clone, Debug)]
pub struct LoadBalancerLimits {
    pub per_region: Quota,
    pub listeners_per_load_balancer: usize,
    pub domain_extensions_per_listener: usize,
    pub rules_per_listener: usize,
    pub backend_servers_per_load_balancer: usize,
    pub backend_servers_per_call: usize,
    /// Access control lists per account per region, and entries per list.
    pub acls_per_region: Quota,
    pub entries_per_acl: usize,
    pub address_pool: AddressPool,
    /// Backend addresses refused (`serve --backend-deny`, and this server's own).
    pub backend_deny: std::sync::Arc<crate::dataplane::deny::BackendDeny>,
}

impl LoadBalancerLimits {
    /// For calls made in this process that touch no load balancer (`import`, `account keys`).
    pub fn none() -> LoadBalancerLimits {
        LoadBalancerLimits {
            per_region: Some(0),
            listeners_per_load_balancer: 0,
            domain_extensions_per_listener: 0,
            rules_per_listener: 0,
            backend_servers_per_load_balancer: 0,
            backend_servers_per_call: 0,
            acls_per_region: Some(0),
            entries_per_acl: 0,
            address_pool: AddressPool::from_cidr("127.18.0.0/16").expect("a valid block"),
            backend_deny: Default::default(),
        }
    }
}

/// The request's region ([`known_regions::of_request`]), for actions whose clients leave
/// RegionId out although the reference requires it.
pub fn region_or_default(context: &Context<'_>) -> Result<&'static Region, ApiError> {
    Ok(known_regions::of_request(
        context.params.non_empty("RegionId"),
        context.host,
    )?)
}

/// The caller's account, and the region only if the request names one: a load balancer's ID
/// says its region.
pub fn owner(context: &Context<'_>) -> Result<Owner, ApiError> {
    let region_id = match context.params.non_empty("RegionId") {
        Some(id) => Some(
            known_regions::find(id)
                .ok_or_else(|| ApiError::InvalidRegionId(id.to_owned()))?
                .id
                .to_owned(),
        ),
        None => None,
    };
    Ok(Owner {
        account_id: context.caller.account_id.clone(),
        region_id,
    })
}

/// How an action names the load balancer it acts on.
#[derive(Clone, Copy, Debug)]
pub enum Lookup<'a> {
    /// `LoadBalancerId`.
    Id(&'a str),
    /// A domain extension's or VServer group's ID, with the error for a missing one.
    Child(&'a str, fn(String) -> ApiError),
}

pub async fn find(context: &Context<'_>, lookup: Lookup<'_>) -> Result<LoadBalancer, ApiError> {
    let owner = owner(context)?;
    match lookup {
        Lookup::Id(id) => context
            .store
            .load_balancer(&owner, id)
            .await?
            .ok_or_else(|| ApiError::LoadBalancerNotFound(id.to_owned())),
        Lookup::Child(id, missing) => context
            .store
            .load_balancer_holding(&owner, id)
            .await?
            .ok_or_else(|| missing(id.to_owned())),
    }
}

/// `DryRun=true`: the change is validated and not made (`DryRunOperation`).
fn dry_run(context: &Context<'_>) -> Result<bool, ApiError> {
    match context.params.non_empty("DryRun") {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(ApiError::InvalidParameter(format!(
            "The specified DryRun {v:?} is not valid: use true or false."
        ))),
    }
}

/// Reads the load balancer, applies `change` and writes it back, after the edits of it that
/// came first in this process, and starting again from a fresh read if another process's
/// change came in between. `change` refuses with the client's error.
pub async fn edit<T>(
    context: &Context<'_>,
    lookup: Lookup<'_>,
    mut change: impl FnMut(&mut LoadBalancer) -> Result<T, ApiError>,
) -> Result<(LoadBalancer, T), ApiError> {
    let load_balancer_id = match lookup {
        Lookup::Id(id) => id.to_owned(),
        Lookup::Child(..) => find(context, lookup).await?.id,
    };
    let dry_run = dry_run(context)?;
    let _turn = context.edit_locks.lock(&load_balancer_id).await;
    for _ in 0..MAX_EDIT_ATTEMPTS {
        let mut load_balancer = find(context, lookup).await?;
        let output = change(&mut load_balancer)?;
        if dry_run {
            return Err(ApiError::DryRunOperation);
        }
        let line = context.audit.success(&load_balancer.id, None);
        match context
            .store
            .replace_load_balancers(vec![load_balancer], line)
            .await
        {
            Ok(mut written) => return Ok((written.remove(0), output)),
            Err(StoreError::Stale) => continue,
            Err(StoreError::NotFound(_)) => match lookup {
                Lookup::Id(id) => return Err(ApiError::LoadBalancerNotFound(id.to_owned())),
                Lookup::Child(id, missing) => return Err(missing(id.to_owned())),
            },
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::OperationBusy)
}

/// A certificate an edit names that is not an SLB certificate of this account and region, in
/// the words the real service uses for listeners ("is not Support").
pub fn certificate_refusal(error: ApiError) -> ApiError {
    match error {
        ApiError::ServerCertificateNotFound(_) => ApiError::InvalidParameter(
            "The specified parameter ServerCertificateId is not Support.".into(),
        ),
        ApiError::CaCertificateNotFound(_) => ApiError::InvalidParameter(
            "The specified parameter CACertificateId is not Support.".into(),
        ),
        other => other,
    }
}
