//! Certificates: a PEM leaf optionally followed by its chain, each signed by the next.

use std::net::IpAddr;

use der::asn1::ObjectIdentifier as Oid;
use sha1::{Digest, Sha1};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

use super::pem::{self, PemBlock, PemError};
use super::public_key::{self, PublicKey};
use super::signature;

/// More would only cost CPU: real chains are two to four certificates long.
pub const MAX_CHAIN_LENGTH: usize = 10;

/// What the API reports about a certificate.
#[derive(Clone, Debug)]
pub struct CertificateInfo {
    /// SHA-1 of the DER, lower-case hex pairs joined by `:`.
    pub fingerprint: String,
    /// The subject's first CommonName, or empty.
    pub common_name: String,
    /// DNS names and IP addresses of the subjectAltName extension, in certificate order.
    pub subject_alternative_names: Vec<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub public_key: PublicKey,
    /// The issuer's organization (O), else its CommonName.
    pub issuer: String,
    /// Lower-case hex.
    pub serial_number: String,
}

/// A validated chain: the leaf's facts and the whole chain as normalised PEM.
#[derive(Clone, Debug)]
pub struct CertificateChain {
    pub leaf: CertificateInfo,
    pub pem: String,
    pub length: usize,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("the certificate is empty")]
    Empty,
    #[error("{0}")]
    Format(String),
    /// `position` (1-based) of a CA bundle is not a CA.
    #[error("certificate {position} is not a CA certificate (basicConstraints CA:TRUE is missing)")]
    NotCa { position: usize },
    /// `position` (1-based, the leaf is 1) did not sign the certificate before it.
    #[error("certificate {position} did not sign certificate {signed}: {reason}")]
    Chain {
        position: usize,
        signed: usize,
        reason: String,
    },
}

/// Parses a PEM leaf certificate followed by zero or more chain certificates and checks that each
/// following certificate signed the one before it.
pub fn parse_chain(text: &str) -> Result<CertificateChain, CertificateError> {
    let blocks = decode(text)?;
    let (parsed, mut keys) = parse_all(&blocks)?;
    for index in 1..parsed.len() {
        signature::verify(&parsed[index - 1], &parsed[index], &keys[index]).map_err(|reason| {
            CertificateError::Chain {
                position: index + 1,
                signed: index,
                reason,
            }
        })?;
    }
    let leaf = describe(&parsed[0], keys.swap_remove(0));
    Ok(chain(leaf, &blocks))
}

/// Parses one or more PEM CA certificates (a bundle for client authentication): each must be
/// a CA. They need not sign one another; the first one is described.
pub fn parse_ca_bundle(text: &str) -> Result<CertificateChain, CertificateError> {
    let blocks = decode(text)?;
    let (parsed, mut keys) = parse_all(&blocks)?;
    if let Some(position) = parsed.iter().position(|certificate| !certificate.is_ca()) {
        return Err(CertificateError::NotCa {
            position: position + 1,
        });
    }
    let first = describe(&parsed[0], keys.swap_remove(0));
    Ok(chain(first, &blocks))
}

/// The PEM blocks of `text`, which must all be certificates.
fn decode(text: &str) -> Result<Vec<PemBlock>, CertificateError> {
    let blocks = pem::parse(text).map_err(|error| match error {
        PemError::Empty => CertificateError::Empty,
        other => CertificateError::Format(other.to_string()),
    })?;
    if let Some((index, block)) = blocks
        .iter()
        .enumerate()
        .find(|(_, block)| block.label != "CERTIFICATE")
    {
        return Err(CertificateError::Format(format!(
            "PEM block {} is a \"{}\", not a CERTIFICATE",
            index + 1,
            block.label
        )));
    }
    if blocks.len() > MAX_CHAIN_LENGTH {
        return Err(CertificateError::Format(format!(
            "it holds {} certificates; at most {MAX_CHAIN_LENGTH} are accepted",
            blocks.len()
        )));
    }
    Ok(blocks)
}

type Parsed<'a> = (Vec<X509Certificate<'a>>, Vec<PublicKey>);

fn parse_all(blocks: &[PemBlock]) -> Result<Parsed<'_>, CertificateError> {
    let mut parsed = Vec::with_capacity(blocks.len());
    let mut keys = Vec::with_capacity(blocks.len());
    for (index, block) in blocks.iter().enumerate() {
        let certificate = parse_der(&block.der, index + 1)?;
        keys.push(public_key_of(&certificate, index + 1)?);
        parsed.push(certificate);
    }
    Ok((parsed, keys))
}

fn chain(leaf: CertificateInfo, blocks: &[PemBlock]) -> CertificateChain {
    CertificateChain {
        leaf,
        pem: blocks
            .iter()
            .map(|block| pem::encode("CERTIFICATE", &block.der).to_string())
            .collect(),
        length: blocks.len(),
    }
}

fn parse_der(der: &[u8], position: usize) -> Result<X509Certificate<'_>, CertificateError> {
    if !is_canonical_outer_encoding(der) {
        return Err(CertificateError::Format(format!(
            "certificate {position} is not a valid X.509 certificate (its DER framing is malformed)"
        )));
    }
    match X509Certificate::from_der(der) {
        Ok(([], certificate)) => Ok(certificate),
        Ok(_) => Err(CertificateError::Format(format!(
            "certificate {position} has trailing bytes after its DER encoding"
        ))),
        Err(error) => Err(CertificateError::Format(format!(
            "certificate {position} is not a valid X.509 certificate ({error})"
        ))),
    }
}

/// x509-parser tolerates loose framing around the signed part: any tag class on the outer
/// SEQUENCE, any tag in place of the signature algorithm's OID, unused bits in the signature.
/// The issuer's signature does not cover those bytes, so they are checked here: a certificate
/// has one encoding, and so one fingerprint.
fn is_canonical_outer_encoding(bytes: &[u8]) -> bool {
    use der::asn1::{AnyRef, BitStringRef};
    use der::{Decode, Reader, SliceReader, Tag, Tagged};
    let check = || -> der::Result<()> {
        let mut reader = SliceReader::new(bytes)?;
        reader.sequence(|certificate| {
            AnyRef::decode(certificate)?
                .tag()
                .assert_eq(Tag::Sequence)?;
            certificate.sequence(|algorithm| {
                <Oid as Decode<'_>>::decode(algorithm)?;
                if !algorithm.is_finished() {
                    AnyRef::decode(algorithm)?;
                }
                Ok::<_, der::Error>(())
            })?;
            if BitStringRef::decode(certificate)?.unused_bits() != 0 {
                return Err(der::Error::from(Tag::BitString.value_error()));
            }
            Ok::<_, der::Error>(())
        })?;
        reader.finish()
    };
    check().is_ok()
}

fn public_key_of(
    certificate: &X509Certificate<'_>,
    position: usize,
) -> Result<PublicKey, CertificateError> {
    public_key::of_spki(certificate.public_key()).ok_or_else(|| {
        CertificateError::Format(format!(
            "certificate {position}'s public key cannot be read"
        ))
    })
}

fn describe(certificate: &X509Certificate<'_>, public_key: PublicKey) -> CertificateInfo {
    let common_name = certificate
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut subject_alternative_names = Vec::new();
    if let Ok(Some(san)) = certificate.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => subject_alternative_names.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_address(bytes) {
                        subject_alternative_names.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let validity = certificate.validity();
    CertificateInfo {
        fingerprint: fingerprint(certificate.as_raw()),
        common_name,
        subject_alternative_names,
        not_before: validity.not_before.to_datetime(),
        not_after: validity.not_after.to_datetime(),
        public_key,
        issuer: issuer_name(certificate),
        serial_number: hex::encode(certificate.raw_serial()),
    }
}

fn issuer_name(certificate: &X509Certificate<'_>) -> String {
    let issuer = certificate.issuer();
    issuer
        .iter_organization()
        .chain(issuer.iter_common_name())
        .find_map(|attribute| attribute.as_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn ip_address(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

/// What `openssl x509 -noout -fingerprint -sha1` prints, lower-cased.
pub fn fingerprint(der: &[u8]) -> String {
    Sha1::digest(der)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_lower_case_colon_hex_of_sha1() {
        // SHA-1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d
        assert_eq!(
            fingerprint(b"abc"),
            "a9:99:3e:36:47:06:81:6a:ba:3e:25:71:78:50:c2:6c:9c:d0:d8:9d"
        );
    }

    #[test]
    fn refuses_keys_and_empty_input_where_a_certificate_belongs() {
        assert_eq!(parse_chain(" ").unwrap_err(), CertificateError::Empty);
        let key = "-----BEGIN RSA PRIVATE KEY-----\nAQID\n-----END RSA PRIVATE KEY-----\n";
        let error = parse_chain(key).unwrap_err().to_string();
        assert!(
            error.contains("\"RSA PRIVATE KEY\", not a CERTIFICATE"),
            "{error}"
        );
        let junk = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
        let error = parse_chain(junk).unwrap_err().to_string();
        assert!(
            error.contains("certificate 1 is not a valid X.509"),
            "{error}"
        );
    }
}
