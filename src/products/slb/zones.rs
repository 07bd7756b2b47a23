//! DescribeZones and DescribeAvailableResource, from the region table: every region has the
//! two zones `<region>-a` and `<region>-b` (the ones CreateLoadBalancer defaults to), each the
//! other's slave zone, and offers every address type and IP version in both.

use serde::Serialize;

use super::region_or_default;
use crate::api::error::ApiError;
use crate::products::{Context, Fields, to_fields};
use crate::regions::{Language, Region};

const ZONES: [(&str, &str); 2] = [("a", "b"), ("b", "a")];
const ADDRESS_TYPES: [&str; 3] = ["vpc", "classic_internet", "classic_intranet"];
const IP_VERSIONS: [&str; 2] = ["ipv4", "ipv6"];

fn language(context: &Context<'_>) -> Result<Language, ApiError> {
    match context.params.non_empty("AcceptLanguage") {
        None => Ok(Language::Chinese),
        Some(tag) => Language::parse(tag).ok_or_else(|| {
            ApiError::InvalidParameter(format!(
                "The specified AcceptLanguage {tag:?} is not valid; use zh-CN, en-US or ja."
            ))
        }),
    }
}

fn zone_name(region: &Region, letter: &str, language: Language) -> String {
    let upper = letter.to_ascii_uppercase();
    match language {
        Language::Chinese => format!("{} 可用区 {upper}", region.local_name(language)),
        _ => format!("{} Zone {upper}", region.local_name(language)),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SlaveZone {
    zone_id: String,
    local_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SlaveZones {
    slave_zone: Vec<SlaveZone>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Zone {
    zone_id: String,
    local_name: String,
    slave_zones: SlaveZones,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ZoneList {
    zone: Vec<Zone>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Zones {
    zones: ZoneList,
}

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let region = region_or_default(context)?;
    let language = language(context)?;
    let zone = |letter: &str| {
        (
            format!("{}-{letter}", region.id),
            zone_name(region, letter, language),
        )
    };
    let zones = ZONES
        .iter()
        .map(|(master, slave)| {
            let (zone_id, local_name) = zone(master);
            let (slave_id, slave_name) = zone(slave);
            Zone {
                zone_id,
                local_name,
                slave_zones: SlaveZones {
                    slave_zone: vec![SlaveZone {
                        zone_id: slave_id,
                        local_name: slave_name,
                    }],
                },
            }
        })
        .collect();
    to_fields(Zones {
        zones: ZoneList { zone: zones },
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SupportResource {
    address_type: &'static str,
    #[serde(rename = "AddressIPVersion")]
    address_ip_version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SupportResources {
    support_resource: Vec<SupportResource>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AvailableResource {
    master_zone_id: String,
    slave_zone_id: String,
    support_resources: SupportResources,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AvailableResourceList {
    available_resource: Vec<AvailableResource>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Available {
    available_resources: AvailableResourceList,
}

/// A filter among `allowed`, `-` and `_` alike (the model's text mixes them).
fn filter(
    context: &Context<'_>,
    name: &str,
    allowed: &[&'static str],
) -> Result<Vec<&'static str>, ApiError> {
    let Some(given) = context.params.non_empty(name) else {
        return Ok(allowed.to_vec());
    };
    let wanted = given.replace('-', "_").to_ascii_lowercase();
    match allowed.iter().find(|value| **value == wanted) {
        Some(value) => Ok(vec![*value]),
        None => Err(ApiError::InvalidParameter(format!(
            "The specified {name} {given:?} is not valid: use one of {}.",
            allowed.join(", ")
        ))),
    }
}

pub async fn available(context: &Context<'_>) -> Result<Fields, ApiError> {
    let region = region_or_default(context)?;
    let types = filter(context, "AddressType", &ADDRESS_TYPES)?;
    let versions = filter(context, "AddressIPVersion", &IP_VERSIONS)?;
    let resources = ZONES
        .iter()
        .map(|(master, slave)| AvailableResource {
            master_zone_id: format!("{}-{master}", region.id),
            slave_zone_id: format!("{}-{slave}", region.id),
            support_resources: SupportResources {
                support_resource: types
                    .iter()
                    .flat_map(|address_type| {
                        versions.iter().map(|version| SupportResource {
                            address_type,
                            address_ip_version: version,
                        })
                    })
                    .collect(),
            },
        })
        .collect();
    to_fields(Available {
        available_resources: AvailableResourceList {
            available_resource: resources,
        },
    })
}
