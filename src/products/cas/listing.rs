//! ListUserCertificateOrder: one action over two lists, the account's certificates (order types
//! UPLOAD and CERT) and its certificate orders (CPACK; none are bought here, BUY).

use super::{certificate_requests, user_certificates, views};
use crate::api::error::ApiError;
use crate::products::{Context, Fields, inputs, to_fields};

const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 100;
/// Pages beyond this are refused: (page - 1) * size must stay a valid SQL offset.
const MAX_PAGE: u64 = i32::MAX as u64;

pub async fn list(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let page = inputs::bounded_number(params, "CurrentPage", 1, (1, MAX_PAGE))?;
    let page_size =
        inputs::bounded_number(params, "ShowSize", DEFAULT_PAGE_SIZE, (1, MAX_PAGE_SIZE))?;
    let order_type = params
        .non_empty("OrderType")
        .unwrap_or("CPACK")
        .to_ascii_uppercase();
    let (items, total) = match order_type.as_str() {
        "UPLOAD" | "CERT" => return user_certificates::list(context, page, page_size).await,
        "CPACK" => {
            let status = params.non_empty("Status");
            certificate_requests::list(context, status, page, page_size).await?
        }
        "BUY" => (Vec::new(), 0),
        other => {
            return Err(ApiError::InvalidParameter(format!(
                "The specified OrderType {other:?} is not valid; use CPACK, BUY, UPLOAD or CERT."
            )));
        }
    };
    to_fields(views::Orders {
        certificate_order_list: items,
        current_page: page,
        show_size: page_size,
        total_count: total,
    })
}
