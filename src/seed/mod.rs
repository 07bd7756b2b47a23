//! `serve --seed FILE`: accounts, certificates, load balancers, listeners and domain
//! extensions made at the first start, through the actions' own handlers. The file (YAML, or
//! JSON by its `.json` name) is read and checked before anything is made; a refusal names the
//! item (`accounts[0].load_balancers[1].listeners[0]`) and what is wrong with it.
//!
//! ```yaml
//! accounts:
//!   - access_key_id: LTAIciFixedKey000000001     # the first account: serve's own
//!     access_key_secret: ciFixedSecret0123456789abcdef
//!     certificates:
//!       - {name: web, certificate: certs/web.pem, private_key: certs/web.key}
//!     load_balancers:
//!       - name: shop
//!         listeners:
//!           - port: 443
//!             protocol: https
//!             backend_port: 80
//!             certificate: web
//!             domain_extensions: [{domain: www.example.com, certificate: web}]
//! ```

mod apply;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use apply::apply;

use crate::accounts::{
    FixedIdentity, parse_access_key_id, parse_access_key_secret, parse_account_id,
};
use crate::operator_files::read_text;

/// Seed files larger than this are refused: a seed is configuration, not data.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub accounts: Vec<SeedAccount>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAccount {
    #[serde(default)]
    pub name: String,
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    /// Redacted in `Debug`, zeroized when dropped.
    pub access_key_secret: Option<crate::crypto::Secret>,
    /// The region of this account's items that name none.
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default)]
    pub certificates: Vec<SeedCertificate>,
    #[serde(default)]
    pub ca_certificates: Vec<SeedCaCertificate>,
    #[serde(default)]
    pub load_balancers: Vec<SeedLoadBalancer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCertificate {
    /// Its ServerCertificateName, and how listeners of this file name it.
    pub name: String,
    /// Paths to PEM files, relative to the seed file.
    pub certificate: PathBuf,
    pub private_key: PathBuf,
    pub region: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCaCertificate {
    pub name: String,
    pub certificate: PathBuf,
    pub region: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedLoadBalancer {
    pub name: String,
    pub region: Option<String>,
    #[serde(default)]
    pub listeners: Vec<SeedListener>,
    /// More CreateLoadBalancer parameters, by their API names.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedListener {
    pub port: u16,
    /// http, https, tcp or udp.
    pub protocol: String,
    pub backend_port: u16,
    #[serde(default = "unlimited")]
    pub bandwidth: i32,
    /// A certificate of this file, by name (https).
    pub certificate: Option<String>,
    /// A CA certificate of this file, by name (https, two-way authentication).
    pub ca_certificate: Option<String>,
    /// Started (`running`) unless false.
    #[serde(default = "yes")]
    pub start: bool,
    #[serde(default)]
    pub domain_extensions: Vec<SeedDomainExtension>,
    /// More Create*Listener parameters, by their API names (HealthCheck, Scheduler, …).
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedDomainExtension {
    pub domain: String,
    pub certificate: String,
}

fn default_region() -> String {
    "cn-hangzhou".into()
}

fn unlimited() -> i32 {
    -1
}

fn yes() -> bool {
    true
}

/// A seed file, read and checked, with its PEM files read.
#[derive(Debug)]
pub struct Loaded {
    pub seed: Seed,
    /// Each certificate's (and CA certificate's) files, by path as written.
    pub files: BTreeMap<PathBuf, zeroize::Zeroizing<String>>,
}

impl Loaded {
    /// What the first entry fixes of the first account's identity.
    pub fn first_identity(&self) -> Result<FixedIdentity, String> {
        match self.seed.accounts.first() {
            Some(first) => identity(first).map_err(|why| format!("accounts[0]: {why}")),
            None => Ok(FixedIdentity::default()),
        }
    }
}

/// The identity an account entry fixes.
pub fn identity(account: &SeedAccount) -> Result<FixedIdentity, String> {
    Ok(FixedIdentity {
        account_id: account
            .account_id
            .as_deref()
            .map(parse_account_id)
            .transpose()?,
        access_key_id: account
            .access_key_id
            .as_deref()
            .map(parse_access_key_id)
            .transpose()?,
        access_key_secret: account
            .access_key_secret
            .as_ref()
            .map(|secret| parse_access_key_secret(secret.expose()))
            .transpose()?,
    })
}

/// A parser's refusal without the values it quotes of the file: its first line (the parsers
/// go on to show the source lines around the fault), with `…` for each quoted value (a string
/// in `"…"`, a number or character in backticks), since the file holds AccessKeySecrets. Names
/// (`unknown field `colour``) stay.
fn unquoted(error: &impl std::fmt::Display) -> String {
    const VALUE_KINDS: [&str; 5] = ["integer ", "point ", "character ", "boolean ", "value "];
    let text = error.to_string();
    let first = text.lines().next().unwrap_or_default();
    let mut out = String::with_capacity(first.len());
    let mut quote = None;
    for c in first.chars() {
        match quote {
            Some(open) if c == open => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                let value =
                    c == '"' || (c == '`' && VALUE_KINDS.iter().any(|kind| out.ends_with(kind)));
                out.push(c);
                if value {
                    quote = Some(c);
                }
            }
        }
    }
    out
}

/// Reads `path` and checks everything that can be checked before anything is made.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let shown = path.display();
    let text = read_text(path, MAX_FILE_BYTES).map_err(|why| format!("{shown}: {why}"))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let seed: Seed = if is_json {
        serde_json::from_str(&text).map_err(|error| format!("{shown}: {}", unquoted(&error)))?
    } else {
        serde_saphyr::from_str(&text).map_err(|error| format!("{shown}: {}", unquoted(&error)))?
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut files = BTreeMap::new();
    check(&seed, |file: &Path| {
        let full = base.join(file);
        let text =
            read_text(&full, MAX_FILE_BYTES).map_err(|why| format!("{}: {why}", full.display()))?;
        files.insert(file.to_owned(), text);
        Ok(())
    })
    .map_err(|why| format!("{shown}: {why}"))?;
    Ok(Loaded { seed, files })
}

/// The file's own consistency: identities, regions, names unique and every name a listener
/// uses defined in its account and region; `read` gets each PEM file.
fn check(seed: &Seed, mut read: impl FnMut(&Path) -> Result<(), String>) -> Result<(), String> {
    let mut access_keys = HashSet::new();
    for (a, account) in seed.accounts.iter().enumerate() {
        let at = format!("accounts[{a}]");
        let fixed = identity(account).map_err(|why| format!("{at}: {why}"))?;
        if fixed.access_key_secret.is_some() && fixed.access_key_id.is_none() {
            return Err(format!("{at}: access_key_secret needs access_key_id"));
        }
        if let Some(id) = &fixed.access_key_id
            && !access_keys.insert(id.clone())
        {
            return Err(format!("{at}: access_key_id {id} is used twice"));
        }
        let region = |own: &Option<String>, item: &str| -> Result<String, String> {
            let region = own.clone().unwrap_or_else(|| account.region.clone());
            match crate::regions::find(&region) {
                Some(_) => Ok(region),
                None => Err(format!("{item}: unknown region {region:?}")),
            }
        };
        let mut servers = HashSet::new();
        for (c, certificate) in account.certificates.iter().enumerate() {
            let item = format!("{at}.certificates[{c}]");
            let region = region(&certificate.region, &item)?;
            if !servers.insert((region, certificate.name.clone())) {
                return Err(format!(
                    "{item}: the name {:?} is used twice",
                    certificate.name
                ));
            }
            read(&certificate.certificate).map_err(|why| format!("{item}: {why}"))?;
            read(&certificate.private_key).map_err(|why| format!("{item}: {why}"))?;
        }
        let mut cas = HashSet::new();
        for (c, certificate) in account.ca_certificates.iter().enumerate() {
            let item = format!("{at}.ca_certificates[{c}]");
            let region = region(&certificate.region, &item)?;
            if !cas.insert((region, certificate.name.clone())) {
                return Err(format!(
                    "{item}: the name {:?} is used twice",
                    certificate.name
                ));
            }
            read(&certificate.certificate).map_err(|why| format!("{item}: {why}"))?;
        }
        for (l, load_balancer) in account.load_balancers.iter().enumerate() {
            let item = format!("{at}.load_balancers[{l}]");
            let region = region(&load_balancer.region, &item)?;
            for (n, listener) in load_balancer.listeners.iter().enumerate() {
                let item = format!("{item}.listeners[{n}]");
                if !["http", "https", "tcp", "udp"].contains(&listener.protocol.as_str()) {
                    return Err(format!(
                        "{item}: protocol {:?} is not http, https, tcp or udp",
                        listener.protocol
                    ));
                }
                let https = listener.protocol == "https";
                let named =
                    |name: &Option<String>, set: &HashSet<(String, String)>, what| match name {
                        Some(name) if !https => Err(format!(
                            "{item}: {what} {name:?} on a {} listener",
                            listener.protocol
                        )),
                        Some(name) if !set.contains(&(region.clone(), name.clone())) => Err(
                            format!("{item}: no {what} named {name:?} in {region} in this account"),
                        ),
                        _ => Ok(()),
                    };
                if https && listener.certificate.is_none() {
                    return Err(format!("{item}: an https listener needs a certificate"));
                }
                named(&listener.certificate, &servers, "certificate")?;
                named(&listener.ca_certificate, &cas, "ca_certificate")?;
                for (d, extension) in listener.domain_extensions.iter().enumerate() {
                    let item = format!("{item}.domain_extensions[{d}]");
                    if !https {
                        return Err(format!("{item}: domain extensions need an https listener"));
                    }
                    if !servers.contains(&(region.clone(), extension.certificate.clone())) {
                        return Err(format!(
                            "{item}: no certificate named {:?} in {region} in this account",
                            extension.certificate
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(yaml: &str) -> Result<(), String> {
        let seed: Seed = serde_saphyr::from_str(yaml).map_err(|error| error.to_string())?;
        check(&seed, |_| Ok(()))
    }

    const GOOD: &str = "accounts:
  - certificates: [{name: web, certificate: w.pem, private_key: w.key}]
    load_balancers:
      - name: shop
        listeners:
          - {port: 443, protocol: https, backend_port: 80, certificate: web,
             domain_extensions: [{domain: a.example, certificate: web}]}
";

    #[test]
    fn names_the_item_that_is_wrong() {
        assert_eq!(checked(GOOD), Ok(()));
        let cases = [
            (
                GOOD.replace("certificate: web,", "certificate: other,"),
                "accounts[0].load_balancers[0].listeners[0]: no certificate named \"other\" in cn-hangzhou in this account",
            ),
            (
                GOOD.replace("protocol: https", "protocol: ftp"),
                "accounts[0].load_balancers[0].listeners[0]: protocol \"ftp\" is not http, https, tcp or udp",
            ),
            (
                GOOD.replace("protocol: https", "protocol: tcp"),
                "accounts[0].load_balancers[0].listeners[0]: certificate \"web\" on a tcp listener",
            ),
            (
                GOOD.replace(
                    "{domain: a.example, certificate: web}",
                    "{domain: a.example, certificate: nope}",
                ),
                "accounts[0].load_balancers[0].listeners[0].domain_extensions[0]: no certificate named \"nope\" in cn-hangzhou in this account",
            ),
            (
                GOOD.replace("  - certificates:", "  - region: mars-1\n    certificates:"),
                "accounts[0].certificates[0]: unknown region \"mars-1\"",
            ),
            (
                GOOD.replace(
                    "  - certificates:",
                    "  - access_key_secret: abcdefghijklmnop0123\n    certificates:",
                ),
                "accounts[0]: access_key_secret needs access_key_id",
            ),
        ];
        for (yaml, expected) in cases {
            assert_eq!(checked(&yaml), Err(expected.to_owned()), "{yaml}");
        }
        // The same name twice in one region.
        let twice = GOOD.replace(
            "certificates: [{name: web, certificate: w.pem, private_key: w.key}]",
            "certificates: [{name: web, certificate: w.pem, private_key: w.key}, {name: web, certificate: w.pem, private_key: w.key}]",
        );
        assert_eq!(
            checked(&twice),
            Err("accounts[0].certificates[1]: the name \"web\" is used twice".to_owned())
        );
    }

    #[test]
    fn refusals_and_debug_output_never_show_a_secret() {
        const SECRET: &str = "Sekrit0123456789abcdef";
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "bad.yaml",
                format!("accounts:\n  - access_key_secret: {SECRET}\n    name: [\n"),
            ),
            (
                "bad2.yaml",
                format!("accounts:\n  - access_key_secret: {{a: {SECRET}}}\n"),
            ),
            (
                "bad.json",
                format!("{{\"accounts\": [{{\"access_key_secret\": 1, \"name\": \"{SECRET}\", ]}}"),
            ),
            (
                "bad2.json",
                format!(
                    "{{\"accounts\": [{{\"region\": 7, \"access_key_secret\": \"{SECRET}\"}}]}}"
                ),
            ),
        ];
        for (name, text) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let refusal = load(&path).unwrap_err();
            assert!(!refusal.contains(SECRET), "{refusal}");
            assert!(refusal.contains("line"), "{refusal}");
        }
        let seed: Seed =
            serde_saphyr::from_str(&format!("accounts:\n  - access_key_secret: {SECRET}\n"))
                .unwrap();
        assert!(!format!("{seed:?}").contains(SECRET));
        assert_eq!(
            seed.accounts[0]
                .access_key_secret
                .as_ref()
                .unwrap()
                .expose(),
            SECRET
        );
    }

    #[test]
    fn quoted_values_are_left_out_of_parse_errors() {
        assert_eq!(
            unquoted(&"invalid type: string \"abc\", expected u16 at line 2\n  | context"),
            "invalid type: string \"…\", expected u16 at line 2"
        );
        assert_eq!(unquoted(&"integer `42`"), "integer `…`");
        assert_eq!(
            unquoted(&"unknown field `colour`, expected `name`"),
            "unknown field `colour`, expected `name`"
        );
    }
}
