//! Whether a domain's proof is in place, looked at as the CA will look: the TXT record at
//! `_acme-challenge.<domain>` (`DNS`) or the file at `/.well-known/acme-challenge/<token>` on
//! the domain's address (`FILE`). The CA is told to look only once this sees the proof, since
//! the CA looks once and a failed look fails the order (cert-manager checks alike).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::store::certificate_orders::{CertificateOrder, ValidateType};

/// One look (a lookup, a fetch) that takes longer counts as not in place.
const LOOK_TIMEOUT: Duration = Duration::from_secs(5);
/// A proof file is a key authorization (under 200 bytes); more is not one.
const MAX_FILE_BYTES: usize = 4096;

pub struct Checker {
    resolver: TokioResolver,
    http_port: u16,
    http: Client<HttpConnector, Empty<Bytes>>,
}

/// Where a proof is to be put, as `DescribeCertificateState` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    Dns {
        /// The record's whole name: the service shows a name relative to the DNS zone, which
        /// is not knowable here, so the full one is given.
        record_domain: String,
        record_value: String,
    },
    File {
        domain: String,
        uri: String,
        content: String,
    },
}

impl Placement {
    pub fn of(order: &CertificateOrder) -> Option<Placement> {
        let challenge = order.challenge.as_ref()?;
        // A wildcard's proof is its base domain's (RFC 8555 §8.4).
        let base = order.domain.trim_start_matches("*.");
        Some(match order.validate_type {
            ValidateType::Dns => Placement::Dns {
                record_domain: format!("_acme-challenge.{base}"),
                record_value: challenge.dns_value.clone(),
            },
            ValidateType::File => Placement::File {
                domain: base.to_owned(),
                uri: format!("/.well-known/acme-challenge/{}", challenge.token),
                content: challenge.key_authorization.clone(),
            },
        })
    }
}

impl Checker {
    pub fn new(resolver: Option<SocketAddr>, http_port: u16) -> Result<Checker, String> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = match resolver {
            Some(address) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = address.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = address.port();
                let server = NameServerConfig::new(address.ip(), true, vec![udp, tcp]);
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![server]),
                    provider,
                )
            }
            None => TokioResolver::builder(provider)
                .map_err(|error| format!("the system's DNS configuration: {error}"))?,
        };
        // Each look asks again: a record put in place a moment ago must be seen.
        builder.options_mut().cache_size = 0;
        builder.options_mut().timeout = LOOK_TIMEOUT;
        builder.options_mut().attempts = 1;
        let resolver = builder
            .build()
            .map_err(|error| format!("the DNS resolver: {error}"))?;
        let http = Client::builder(TokioExecutor::new()).build_http();
        Ok(Checker {
            resolver,
            http_port,
            http,
        })
    }

    /// `Ok` once the proof is where the CA will look; else what is missing, in a sentence.
    pub async fn in_place(&self, placement: &Placement) -> Result<(), String> {
        match tokio::time::timeout(LOOK_TIMEOUT * 2, self.look(placement)).await {
            Ok(result) => result,
            Err(_) => Err("looking for the proof took too long".into()),
        }
    }

    async fn look(&self, placement: &Placement) -> Result<(), String> {
        match placement {
            Placement::Dns {
                record_domain,
                record_value,
            } => {
                let name = format!("{record_domain}.");
                let lookup = self
                    .resolver
                    .txt_lookup(name.as_str())
                    .await
                    .map_err(|error| {
                        format!("no TXT record {record_domain} was found ({error})")
                    })?;
                let found = lookup.answers().iter().any(|record| match &record.data {
                    RData::TXT(txt) => txt.txt_data.concat() == record_value.as_bytes(),
                    _ => false,
                });
                match found {
                    true => Ok(()),
                    false => Err(format!(
                        "the TXT record {record_domain} does not hold {record_value}"
                    )),
                }
            }
            Placement::File {
                domain,
                uri,
                content,
            } => {
                let addresses = self
                    .resolver
                    .lookup_ip(format!("{domain}.").as_str())
                    .await
                    .map_err(|error| format!("{domain} has no address ({error})"))?;
                let address = addresses
                    .iter()
                    .next()
                    .ok_or_else(|| format!("{domain} has no address"))?;
                let target = SocketAddr::new(address, self.http_port);
                let request = http::Request::get(format!("http://{target}{uri}"))
                    .header(http::header::HOST, domain.as_str())
                    .body(Empty::new())
                    .map_err(|error| error.to_string())?;
                let response =
                    self.http.request(request).await.map_err(|error| {
                        format!("http://{domain}{uri} did not answer ({error})")
                    })?;
                if !response.status().is_success() {
                    return Err(format!(
                        "http://{domain}{uri} answered {}",
                        response.status()
                    ));
                }
                let body = Limited::new(response.into_body(), MAX_FILE_BYTES)
                    .collect()
                    .await
                    .map_err(|error| format!("http://{domain}{uri}: {error}"))?
                    .to_bytes();
                match body.trim_ascii() == content.as_bytes() {
                    true => Ok(()),
                    false => Err(format!("http://{domain}{uri} does not hold the content")),
                }
            }
        }
    }
}
