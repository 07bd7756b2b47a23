//! DescribeRegions.

use serde_json::{Value, json};

use crate::api::error::ApiError;
use crate::products::{Context, Fields};
use crate::regions::{self, REGIONS};

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    if let Some(region) = context.params.non_empty("RegionId")
        && regions::find(region).is_none()
    {
        return Err(ApiError::InvalidRegionId(region.to_owned()));
    }
    let language = match context.params.non_empty("AcceptLanguage") {
        None => regions::Language::Chinese,
        Some(tag) => regions::Language::parse(tag).ok_or_else(|| {
            ApiError::InvalidParameter(format!(
                "The specified AcceptLanguage {tag:?} is not valid; use zh-CN, en-US or ja."
            ))
        })?,
    };
    let items: Vec<Value> = REGIONS
        .iter()
        .map(|region| {
            json!({
                "RegionId": region.id,
                "LocalName": region.local_name(language),
                "RegionEndpoint": region.endpoint(),
            })
        })
        .collect();
    let mut fields = Fields::new();
    fields.insert("Regions".into(), json!({ "Region": items }));
    Ok(fields)
}
