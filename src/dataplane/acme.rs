//! ACME http-01 proofs answered by the listeners themselves ("zero-touch" file validation): a
//! request for `/.well-known/acme-challenge/<token>` whose token is a pending FILE order of the
//! listener's own account, for the host asked, gets the file before any backend sees it.
//! Another account's order is never answered: a listener proves only its owner's domains.

use crate::store::Store;
use crate::store::certificate_orders::{OrderStatus, ValidateType};

pub const PREFIX: &str = "/.well-known/acme-challenge/";
/// ACME tokens are base64url of at least 128 bits; anything longer is not one of ours.
const MAX_TOKEN_CHARS: usize = 128;

/// The file to answer `path` on a listener of `account_id` asked for `host`, if it is a proof.
pub async fn proof(
    store: &dyn Store,
    account_id: &str,
    host: Option<String>,
    path: &str,
) -> Option<String> {
    let token = path.strip_prefix(PREFIX)?;
    let well_formed = !token.is_empty()
        && token.len() <= MAX_TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return None;
    }
    let order = match store.certificate_order_by_token(account_id, token).await {
        Ok(order) => order?,
        Err(error) => {
            tracing::warn!(%error, "an ACME proof cannot be looked up");
            return None;
        }
    };
    let pending = matches!(
        order.status,
        OrderStatus::DomainVerify | OrderStatus::Process
    );
    let host = host?.to_ascii_lowercase();
    if !pending || order.validate_type != ValidateType::File || order.domain != host {
        return None;
    }
    Some(order.challenge?.key_authorization)
}
