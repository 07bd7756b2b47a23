//! The rules SLB sets on the lists one listener uses together (help doc-detail/85979): each of
//! the load balancer's IP version, no entry in two of them, at most 1,000 entries across them,
//! and a list bound to at most 50 listeners. Checked when a listener names lists, and when
//! entries are added to a list that listeners use.

use std::collections::HashSet;

use super::entries::{related, users};
use crate::api::error::{AclError, ApiError};
use crate::products::Context;
use crate::products::slb::settings;
use crate::store::Scope;
use crate::store::acls::{Acl, AclEntry};
use crate::store::load_balancers::Setting;
use crate::store::load_balancers::{Listener, LoadBalancer, Owner, Protocol};
use crate::store::region_resources as resources;

pub const MAX_ENTRIES_PER_LISTENER: usize = 1000;
pub const MAX_LISTENERS_PER_ACL: usize = 50;

/// The lists a listener's Create or Set names, each with how many other listeners use it,
/// read before the change; [`Named::check`] judges them against the changed listener.
pub struct Named {
    acls: Vec<(Acl, usize)>,
}

/// A listener's place: its load balancer, protocol and port.
#[derive(Clone, Copy)]
pub struct Place<'a> {
    pub load_balancer_id: &'a str,
    pub protocol: Protocol,
    pub port: u16,
}

impl Named {
    /// The lists of `AclId` (a comma list) in the load balancer's region; missing ones are
    /// left for the store to refuse.
    pub async fn load(
        context: &Context<'_>,
        place: Place<'_>,
        acl_ids: Option<&str>,
    ) -> Result<Named, ApiError> {
        let mut acls = Vec::new();
        let Some(ids) = acl_ids else {
            return Ok(Named { acls });
        };
        let owner = Owner {
            account_id: context.caller.account_id.clone(),
            region_id: None,
        };
        let Some(load_balancer) = context
            .store
            .load_balancer(&owner, place.load_balancer_id)
            .await?
        else {
            return Ok(Named { acls });
        };
        let scope = Scope {
            account_id: owner.account_id,
            region_id: load_balancer.region_id,
        };
        for id in ids.split(',').filter(|id| !id.is_empty()) {
            if let Some(acl) = resources::get::<Acl>(context.store, &scope, id).await? {
                let others = related(context, &acl)
                    .await?
                    .iter()
                    .filter(|l| {
                        (l.load_balancer_id.as_str(), l.protocol, l.listener_port)
                            != (place.load_balancer_id, place.protocol.as_str(), place.port)
                    })
                    .count();
                acls.push((acl, others));
            }
        }
        Ok(Named { acls })
    }

    /// The lists the changed `listener` names, judged together.
    pub fn check(&self, load_balancer: &LoadBalancer, listener: &Listener) -> Result<(), ApiError> {
        let named = settings::text(&listener.settings, "AclId").unwrap_or_default();
        let version = match load_balancer.attributes.get("AddressIPVersion") {
            Some(Setting::Text(version)) => version.as_str(),
            _ => "ipv4",
        };
        let mut lists = Vec::new();
        for id in named.split(',').filter(|id| !id.is_empty()) {
            let Some((acl, others)) = self.acls.iter().find(|(acl, _)| acl.id == id) else {
                continue;
            };
            if *others >= MAX_LISTENERS_PER_ACL {
                return Err(AclError::ListenerOverLimit(format!(
                    "{id} is used by {others} listeners already; at most {MAX_LISTENERS_PER_ACL} may use one list"
                ))
                .into());
            }
            if acl.ip_version != version {
                return Err(ApiError::InvalidParameter(format!(
                    "The specified AclId {id} is an {} list; this load balancer's listeners take {version} lists.",
                    acl.ip_version
                )));
            }
            lists.push(acl.entries.as_slice());
        }
        judge_together(&lists)
    }
}

/// At most [`MAX_ENTRIES_PER_LISTENER`] entries across `lists`, none in two of them.
pub fn judge_together(lists: &[&[AclEntry]]) -> Result<(), ApiError> {
    let total: usize = lists.iter().map(|list| list.len()).sum();
    if total > MAX_ENTRIES_PER_LISTENER {
        return Err(AclError::EntryExceedLimit(format!(
            "a listener's lists would hold {total} entries together; at most {MAX_ENTRIES_PER_LISTENER} are allowed"
        ))
        .into());
    }
    let mut seen = HashSet::with_capacity(total);
    for entry in lists.iter().flat_map(|list| list.iter()) {
        if !seen.insert(entry.entry.as_str()) {
            return Err(AclError::EntryInTwoLists(entry.entry.clone()).into());
        }
    }
    Ok(())
}

/// For each listener that uses `acl`, the entries of its other lists: entries added to `acl`
/// are judged with them by [`judge_together`].
pub async fn neighbours(context: &Context<'_>, acl: &Acl) -> Result<Vec<Vec<AclEntry>>, ApiError> {
    let scope = Scope {
        account_id: acl.account_id.clone(),
        region_id: acl.region_id.clone(),
    };
    let mut out = Vec::new();
    for (load_balancer, naming) in users(context, acl).await? {
        for listener in naming.into_iter().map(|i| &load_balancer.listeners[i]) {
            let named = settings::text(&listener.settings, "AclId").unwrap_or_default();
            let mut entries = Vec::new();
            for other in named
                .split(',')
                .filter(|id| !id.is_empty() && *id != acl.id)
            {
                if let Some(list) = resources::get::<Acl>(context.store, &scope, other).await? {
                    entries.extend(list.entries);
                }
            }
            out.push(entries);
        }
    }
    Ok(out)
}
