//! Identifiers in the shapes Alibaba Cloud uses, drawn from the operating system's CSPRNG.

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LOWER_ALNUM: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    bytes
}

/// `length` characters from `alphabet`, uniformly (rejection sampling, no modulo bias).
fn random_string(alphabet: &[u8], length: usize) -> String {
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(length);
    while out.len() < length {
        for byte in random_bytes::<32>() {
            if (byte as usize) < limit && out.len() < length {
                out.push(alphabet[byte as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// An upper-case UUID, like `365F4154-92F6-4AE4-92F8-7FF34B540710`.
pub fn request_id() -> String {
    uuid::Builder::from_random_bytes(random_bytes())
        .into_uuid()
        .hyphenated()
        .to_string()
        .to_ascii_uppercase()
}

/// A 16-digit numeric account UID, like `1231579085529123`.
pub fn account_id() -> String {
    let mut id = random_string(b"123456789", 1);
    id.push_str(&random_string(b"0123456789", 15));
    id
}

/// `LTAI` and 20 alphanumerics, the shape of an Alibaba Cloud AccessKeyId.
pub fn access_key_id() -> String {
    format!("LTAI{}", random_string(BASE62, 20))
}

/// A temporary AccessKeyId of STS: `STS.` and 28 alphanumerics.
pub fn temporary_access_key_id() -> String {
    format!("STS.{}", random_string(BASE62, 28))
}

/// A numeric ID of `digits` digits (no leading zero), as RAM gives users, groups and roles.
pub fn ram_principal_id(digits: usize) -> String {
    let mut id = random_string(b"123456789", 1);
    id.push_str(&random_string(b"0123456789", digits.saturating_sub(1)));
    id
}

/// 30 alphanumerics, the shape of an AccessKeySecret (178 bits).
pub fn access_key_secret() -> String {
    random_string(BASE62, 30)
}

/// `rg-acfm` and 11 lower-case alphanumerics, like `rg-acfmxazb4ph6aiy`.
pub fn resource_group_id() -> String {
    format!("rg-acfm{}", random_string(LOWER_ALNUM, 11))
}

/// A load balancer's ID: `lb-` and 23 lower-case alphanumerics, like `lb-bp1b6c719dfa08exfuca5`.
pub fn load_balancer_id() -> String {
    format!("lb-{}", random_string(LOWER_ALNUM, 23))
}

/// A domain extension's ID, like `de-bp1rp7ta191dv`.
pub fn domain_extension_id() -> String {
    format!("de-{}", random_string(LOWER_ALNUM, 13))
}

/// A VServer group's ID, like `rsp-cige6j5e7p`.
/// An access control list's ID: `acl-` and 20 lower-case letters and digits.
pub fn acl_id() -> String {
    format!("acl-{}", random_string(LOWER_ALNUM, 20))
}

/// A forwarding rule's ID: `rule-` and 20 lower-case letters and digits.
pub fn rule_id() -> String {
    format!("rule-{}", random_string(LOWER_ALNUM, 20))
}

/// A custom TLS cipher policy's ID: `tls-` and 20 lower-case letters and digits.
pub fn tls_policy_id() -> String {
    format!("tls-{}", random_string(LOWER_ALNUM, 20))
}

pub fn vserver_group_id() -> String {
    format!("rsp-{}", random_string(LOWER_ALNUM, 10))
}

/// A server or CA certificate's ID: `<AccountId>_<creation ms in lower-case hex>_<i32>_<i32>`,
/// like `1231579085529123_166f8204689_1714763408_709981430`.
pub fn certificate_id(account_id: &str, created_ms: i64) -> String {
    let bytes = random_bytes::<8>();
    let first = i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let second = i32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    format!("{account_id}_{created_ms:x}_{first}_{second}")
}

/// An SSL Certificates Service certificate ID: 8 digits, like `12345678`.
pub fn user_certificate_id() -> i64 {
    let digits = random_string(b"123456789", 1) + &random_string(b"0123456789", 7);
    digits.parse().expect("8 digits fit an i64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_alibaba_examples() {
        let request = request_id();
        assert_eq!(request.len(), 36);
        assert_eq!(request, request.to_ascii_uppercase());
        assert_eq!(request.matches('-').count(), 4);

        let account = account_id();
        assert_eq!(account.len(), 16);
        assert!(account.bytes().all(|b| b.is_ascii_digit()) && !account.starts_with('0'));

        let key = access_key_id();
        assert!(key.starts_with("LTAI") && key.len() == 24);
        assert_eq!(access_key_secret().len(), 30);
        let group = resource_group_id();
        assert!(group.starts_with("rg-") && group.len() == 18);
        assert!(group[3..].bytes().all(|b| LOWER_ALNUM.contains(&b)));
        assert!((10_000_000..100_000_000).contains(&user_certificate_id()));
    }

    #[test]
    fn certificate_ids_carry_account_and_creation_time() {
        let id = certificate_id("1231579085529123", 1_541_761_156_745);
        let parts: Vec<&str> = id.split('_').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], "1231579085529123");
        assert_eq!(parts[1], "166f8204689");
        assert!(parts[2].parse::<i32>().is_ok() && parts[3].parse::<i32>().is_ok());
        assert_ne!(id, certificate_id("1231579085529123", 1_541_761_156_745));
    }
}
