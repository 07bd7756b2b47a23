//! CreateGroup, GetGroup, ListGroups, DeleteGroup, and group membership.

use super::model::{Group, MAX_GROUPS, MAX_GROUPS_PER_USER};
use super::views::{GroupView, Member, Membership};
use super::{
    Page, change, conflict, date, exists, limit, name, not_found, one, read, text, wrapped,
};
use crate::api::error::{ApiError, Entity};
use crate::ids;
use crate::products::{Context, Fields};

const NAME_CHARS: &str = "-";
const MAX_NAME: usize = 64;

fn view(group: &Group) -> GroupView<'_> {
    GroupView::of(group)
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = name(context, "GroupName", MAX_NAME, NAME_CHARS)?;
    let comments = text(context, "Comments", 128)?.unwrap_or_default();
    let id = ids::ram_principal_id(16);
    let group = change(context, name, |draft| {
        if draft.state.group(name).is_some() {
            return Err(exists(Entity::Group, name));
        }
        if draft.state.groups.len() >= MAX_GROUPS {
            return Err(limit(
                "Group",
                format!("An account may have at most {MAX_GROUPS} groups."),
            ));
        }
        let group = Group {
            id: id.clone(),
            name: name.to_owned(),
            comments: comments.to_owned(),
            created_ms: draft.now_ms,
            updated_ms: draft.now_ms,
            ..Group::default()
        };
        draft.state.groups.push(group.clone());
        Ok(group)
    })
    .await?;
    let mut view = view(&group);
    view.update_date = None;
    one("Group", view)
}

pub async fn get(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("GroupName")?;
    let state = read(context).await?;
    let group = state
        .group(name)
        .ok_or_else(|| not_found(Entity::Group, name))?;
    one("Group", view(group))
}

pub async fn list(context: &Context<'_>) -> Result<Fields, ApiError> {
    let page = Page::parse(context)?;
    let state = read(context).await?;
    page.render(state.groups.iter().map(view).collect(), "Groups", "Group")
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("GroupName")?;
    change(context, name, |draft| {
        let group = draft
            .state
            .group(name)
            .ok_or_else(|| not_found(Entity::Group, name))?;
        if !group.members.is_empty() {
            return Err(conflict(
                "Group.User",
                "You should remove all users from the group before deleting the group.".into(),
            ));
        }
        if !group.policies.is_empty() {
            return Err(conflict(
                "Group.Policy",
                "You should detach all policies from the group before deleting the group.".into(),
            ));
        }
        draft.state.groups.retain(|g| g.name != name);
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

/// The ID of the user named `name` (group members are kept by ID, which renames keep).
fn user_id(state: &super::model::RamState, name: &str) -> Result<String, ApiError> {
    Ok(state
        .user(name)
        .ok_or_else(|| not_found(Entity::User, name))?
        .id
        .clone())
}

pub async fn add_user(context: &Context<'_>) -> Result<Fields, ApiError> {
    let group_name = context.params.required("GroupName")?;
    let user_name = context.params.required("UserName")?;
    change(context, group_name, |draft| {
        let user_id = user_id(&draft.state, user_name)?;
        if draft.state.groups_of(&user_id).count() >= MAX_GROUPS_PER_USER {
            return Err(limit(
                "User.Group",
                format!("A user may be in at most {MAX_GROUPS_PER_USER} groups."),
            ));
        }
        let group = draft
            .state
            .group_mut(group_name)
            .ok_or_else(|| not_found(Entity::Group, group_name))?;
        if group.members.contains(&user_id) {
            return Err(exists(Entity::UserGroup, user_name));
        }
        group.members.push(user_id);
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

pub async fn remove_user(context: &Context<'_>) -> Result<Fields, ApiError> {
    let group_name = context.params.required("GroupName")?;
    let user_name = context.params.required("UserName")?;
    change(context, group_name, |draft| {
        let user_id = user_id(&draft.state, user_name)?;
        let group = draft
            .state
            .group_mut(group_name)
            .ok_or_else(|| not_found(Entity::Group, group_name))?;
        let before = group.members.len();
        group.members.retain(|member| *member != user_id);
        if group.members.len() == before {
            return Err(not_found(Entity::UserGroup, user_name));
        }
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

pub async fn list_for_user(context: &Context<'_>) -> Result<Fields, ApiError> {
    let user_name = context.params.required("UserName")?;
    let state = read(context).await?;
    let user = state
        .user(user_name)
        .ok_or_else(|| not_found(Entity::User, user_name))?;
    let groups = state
        .groups_of(&user.id)
        .map(|group| Membership {
            group_name: &group.name,
            comments: &group.comments,
            join_date: date(group.updated_ms),
        })
        .collect();
    wrapped("Groups", "Group", groups)
}

pub async fn list_users(context: &Context<'_>) -> Result<Fields, ApiError> {
    let group_name = context.params.required("GroupName")?;
    let page = Page::parse(context)?;
    let state = read(context).await?;
    let group = state
        .group(group_name)
        .ok_or_else(|| not_found(Entity::Group, group_name))?;
    let users = group
        .members
        .iter()
        .filter_map(|id| state.user_by_id(id))
        .map(|user| Member {
            user_name: &user.name,
            display_name: &user.display_name,
            join_date: date(group.updated_ms),
        })
        .collect();
    page.render(users, "Users", "User")
}
