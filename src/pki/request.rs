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
