//! A new key pair and a certificate signing request for one domain, for certificates applied
//! for through the SSL Certificates Service.

use rcgen::{CertificateParams, DistinguishedName, KeyPair};
use zeroize::Zeroizing;

/// A new RSA-2048 key (what the service's DV products issue on), PKCS#8 PEM. aws-lc-rs makes
/// it: rcgen's backend here (ring) cannot make RSA keys.
pub fn new_key() -> Result<Zeroizing<String>, String> {
    use aws_lc_rs::encoding::AsDer;
    let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|_| "RSA key generation failed".to_owned())?;
    let der = key
        .as_der()
        .map_err(|_| "the new RSA key cannot be encoded".to_owned())?;
    Ok(super::pem::encode("PRIVATE KEY", der.as_ref()))
}

/// A CSR (DER) for `domain`, named in its subjectAltName, signed with `key_pem`.
pub fn signing_request(domain: &str, key_pem: &str) -> Result<Vec<u8>, rcgen::Error> {
    let key = KeyPair::from_pem(key_pem)?;
    let mut params = CertificateParams::new(vec![domain.to_owned()])?;
    params.distinguished_name = DistinguishedName::new();
    Ok(params.serialize_request(&key)?.der().to_vec())
}

const MIN_CSR_RSA_BITS: usize = 2048;

/// A customer's CSR (`CreateCertificateWithCsrRequest`), read: its DER and the one domain it
/// names (its CommonName and DNS subjectAltNames, which must agree).
#[derive(Clone, Debug)]
pub struct SigningRequest {
    pub der: Vec<u8>,
    pub domain: String,
}

/// Reads a PEM CSR; what is wrong with it, in a sentence, if it cannot be used.
pub fn parse_signing_request(text: &str) -> Result<SigningRequest, String> {
    use x509_parser::certification_request::X509CertificationRequest;
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    use x509_parser::prelude::FromDer;
    let blocks = super::pem::parse(text).map_err(|error| error.to_string())?;
    let [block] = blocks.as_slice() else {
        return Err(format!("it holds {} PEM blocks, not one CSR", blocks.len()));
    };
    if !block.label.ends_with("CERTIFICATE REQUEST") {
        return Err(format!(
            "it is a {}, not a CERTIFICATE REQUEST",
            block.label
        ));
    }
    let (rest, request) = X509CertificationRequest::from_der(&block.der)
        .map_err(|error| format!("it is not a PKCS#10 request ({error})"))?;
    if !rest.is_empty() {
        return Err("it has bytes after the request".into());
    }
    let info = &request.certification_request_info;
    let key =
        super::public_key::of_spki(&info.subject_pki).ok_or("its public key cannot be read")?;
    // Stricter than uploads (which take RSA 1024): what the CAs issue DV certificates for.
    let weak = matches!(&key, super::public_key::PublicKey::Rsa { modulus, .. }
        if super::public_key::rsa_bits(modulus) < MIN_CSR_RSA_BITS);
    if let Some(refused) = key.refusal().or_else(|| weak.then(|| key.to_string())) {
        return Err(format!(
            "its key ({refused}) is not RSA of 2048 bits or more, or ECC"
        ));
    }
    let mut names: Vec<String> = info
        .subject
        .iter_common_name()
        .filter_map(|name| name.as_str().ok())
        .map(str::to_ascii_lowercase)
        .collect();
    for extension in request.requested_extensions().into_iter().flatten() {
        if let ParsedExtension::SubjectAlternativeName(san) = extension {
            for name in &san.general_names {
                if let GeneralName::DNSName(dns) = name {
                    names.push(dns.to_ascii_lowercase());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    match names.as_slice() {
        [domain] => Ok(SigningRequest {
            der: block.der.to_vec(),
            domain: domain.clone(),
        }),
        [] => Err("it names no domain (no CommonName, no DNS subjectAltName)".into()),
        _ => Err(format!(
            "it names {} domains; one request is for one domain",
            names.len()
        )),
    }
}
