//! DescribeRegions.

use serde::Serialize;

use crate::api::error::ApiError;
use crate::products::views::{Listed, listed};
use crate::products::{Context, Fields, to_fields};
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
    let items = REGIONS.iter().map(|region| RegionView {
        region_id: region.id,
        local_name: region.local_name(language),
        region_endpoint: region.endpoint(),
    });
    to_fields(Listing {
        regions: listed("Region", items.collect()),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RegionView {
    region_id: &'static str,
    local_name: &'static str,
    region_endpoint: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Listing {
    regions: Listed<RegionView>,
}
