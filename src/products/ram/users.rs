//! CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser.

use super::model::{MAX_USERS, User};
use super::views::UserView;
use super::{Page, change, conflict, exists, limit, name, not_found, one, read, text};
use crate::api::error::{ApiError, Entity};
use crate::ids;
use crate::products::{Context, Fields};

/// RAM's rule for user names: letters, digits, `.`, `_` and `-`.
pub const NAME_CHARS: &str = "._-";
const MAX_NAME: usize = 64;

pub fn view(user: &User, with_update: bool) -> UserView<'_> {
    UserView::of(user, with_update)
}

/// The details CreateUser and UpdateUser take.
struct Details<'a> {
    display_name: Option<&'a str>,
    mobile_phone: Option<&'a str>,
    email: Option<&'a str>,
    comments: Option<&'a str>,
}

/// The parameters of the details: CreateUser's, and UpdateUser's `New…` ones.
const CREATE_FIELDS: [&str; 4] = ["DisplayName", "MobilePhone", "Email", "Comments"];
const UPDATE_FIELDS: [&str; 4] = [
    "NewDisplayName",
    "NewMobilePhone",
    "NewEmail",
    "NewComments",
];

impl<'a> Details<'a> {
    fn parse(
        context: &'a Context<'_>,
        [display, mobile, email, comments]: [&'static str; 4],
    ) -> Result<Details<'a>, ApiError> {
        Ok(Details {
            display_name: text(context, display, 128)?,
            mobile_phone: text(context, mobile, 32)?,
            email: text(context, email, 128)?,
            comments: text(context, comments, 128)?,
        })
    }

    fn apply(&self, user: &mut User) {
        for (value, field) in [
            (self.display_name, &mut user.display_name),
            (self.mobile_phone, &mut user.mobile_phone),
            (self.email, &mut user.email),
            (self.comments, &mut user.comments),
        ] {
            if let Some(value) = value {
                *field = value.to_owned();
            }
        }
    }
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = name(context, "UserName", MAX_NAME, NAME_CHARS)?;
    let details = Details::parse(context, CREATE_FIELDS)?;
    let id = ids::ram_principal_id(16);
    let user = change(context, name, |draft| {
        if draft.state.user(name).is_some() {
            return Err(exists(Entity::User, name));
        }
        if draft.state.users.len() >= MAX_USERS {
            return Err(limit(
                "User",
                format!("An account may have at most {MAX_USERS} users."),
            ));
        }
        let mut user = User {
            id: id.clone(),
            name: name.to_owned(),
            display_name: name.to_owned(),
            created_ms: draft.now_ms,
            updated_ms: draft.now_ms,
            ..User::default()
        };
        details.apply(&mut user);
        draft.state.users.push(user.clone());
        Ok(user)
    })
    .await?;
    one("User", view(&user, false))
}

pub async fn get(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("UserName")?;
    let state = read(context).await?;
    let user = state
        .user(name)
        .ok_or_else(|| not_found(Entity::User, name))?;
    let mut view = view(user, true);
    view.last_login_date = Some("");
    one("User", view)
}

pub async fn list(context: &Context<'_>) -> Result<Fields, ApiError> {
    let page = Page::parse(context)?;
    let state = read(context).await?;
    let users = state.users.iter().map(|user| view(user, true)).collect();
    page.render(users, "Users", "User")
}

pub async fn update(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("UserName")?;
    let new_name = match context.params.non_empty("NewUserName") {
        Some(new_name) => {
            super::check_name(new_name, "NewUserName", MAX_NAME, NAME_CHARS)?;
            Some(new_name)
        }
        None => None,
    };
    let details = Details::parse(context, UPDATE_FIELDS)?;
    let user = change(context, name, |draft| {
        if let Some(new_name) = new_name
            && new_name != name
            && draft.state.user(new_name).is_some()
        {
            return Err(exists(Entity::User, new_name));
        }
        let now = draft.now_ms;
        let user = draft
            .state
            .user_mut(name)
            .ok_or_else(|| not_found(Entity::User, name))?;
        if let Some(new_name) = new_name {
            user.name = new_name.to_owned();
        }
        details.apply(user);
        user.updated_ms = now;
        Ok(user.clone())
    })
    .await?;
    one("User", view(&user, true))
}

/// Refused while the user has AccessKeys, policies or groups, as RAM does.
pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("UserName")?;
    change(context, name, |draft| {
        let user = draft
            .state
            .user(name)
            .ok_or_else(|| not_found(Entity::User, name))?;
        if !user.keys.is_empty() {
            return Err(conflict(
                "User.AccessKey",
                "You should delete all access keys of the user before deleting the user.".into(),
            ));
        }
        if !user.policies.is_empty() {
            return Err(conflict(
                "User.Policy",
                "You should detach all policies from the user before deleting the user.".into(),
            ));
        }
        let id = user.id.clone();
        if draft.state.groups_of(&id).next().is_some() {
            return Err(conflict(
                "User.Group",
                "You should remove the user from all groups before deleting the user.".into(),
            ));
        }
        draft.state.users.retain(|user| user.id != id);
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}
