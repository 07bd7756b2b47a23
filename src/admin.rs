//! `POST /_slbcert/reset`, for test suites that reuse one server: empties the store but for the
//! first account and its own key pair, so that the credentials a suite was given keep working.
//! Off unless `serve --admin-token` is given; the token is asked for as a bearer token.

use http::StatusCode;

use crate::audit::AuditRecord;
use crate::http::Response;
use crate::state::AppState;

pub const RESET: &str = "/_slbcert/reset";

pub fn unauthorized() -> Response {
    Response::new(
        StatusCode::UNAUTHORIZED,
        "text/plain; charset=utf-8",
        "POST /_slbcert/reset needs Authorization: Bearer <the --admin-token>\n",
    )
}

/// Empties the store (one transaction) and forgets this node's opened keys; other nodes
/// follow RAM and load balancers at once, and forget the removed accounts' keys within their
/// key cache's minute.
pub async fn reset(state: &AppState) -> Response {
    let json = "application/json";
    let first = match state.store.accounts(None, 1).await {
        Ok(mut accounts) if !accounts.is_empty() => accounts.remove(0),
        Ok(_) => {
            return Response::new(
                StatusCode::CONFLICT,
                json,
                r#"{"Reset":false,"Message":"the store holds no account"}"#,
            );
        }
        Err(error) => return unavailable(&error),
    };
    let mut record = AuditRecord::new(&crate::ids::request_id(), "Reset", "admin");
    record.account_id = first.account_id.clone();
    record.principal = "admin".into();
    let line = record.success(&first.account_id, None);
    if let Err(error) = state.store.reset(&first.account_id, line).await {
        return unavailable(&error);
    }
    state.verifier.forget_keys();
    tracing::info!(kept = %first.account_id, "reset: the store was emptied");
    let body = serde_json::json!({ "Reset": true, "AccountId": first.account_id });
    Response::new(StatusCode::OK, json, body.to_string())
}

fn unavailable(error: &crate::store::StoreError) -> Response {
    tracing::warn!(%error, "reset: the store cannot be written");
    Response::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "application/json",
        r#"{"Reset":false,"Message":"the store cannot be written now"}"#,
    )
}
