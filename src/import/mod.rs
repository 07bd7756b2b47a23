//! `slbcert import --region R DIR…`: uploads every certificate and key pair found in the given
//! directories into one account, skipping certificates it already holds (same fingerprint),
//! and says what it refused and why. Each pair goes through `UploadServerCertificate`'s own
//! handler as the account's owner, so it is validated, counted against the quota, sealed and
//! audited exactly as an upload through the API is.

mod discover;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use zeroize::Zeroizing;

pub use discover::discover;

use crate::access::Verifier;
use crate::api::error::ApiError;
use crate::data_dir::DataDir;
use crate::local::{LocalCaller, text};
use crate::operator_files::read_text;
use crate::products::Limits;
use crate::products::inputs::{MAX_NAME_CHARS, is_name_char};
use crate::store::{Account, CertificateFilter, CertificateKind, Quota, Scope, StoreError};

/// Files larger than this are not certificates or keys.
const MAX_FILE_BYTES: u64 = 256 * 1024;

pub struct Options {
    pub region: String,
    /// The account to import into; without it, the store's only account.
    pub account_id: Option<String>,
    pub server_certificates_per_region: Quota,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("unknown region {0:?}")]
    UnknownRegion(String),
    #[error("no account {0} in this store")]
    NoSuchAccount(String),
    #[error(
        "the store holds no account yet (start `slbcert serve` once, or `slbcert account create`)"
    )]
    NoAccount,
    #[error("the store holds several accounts ({0}, …): name one with --account-id")]
    SeveralAccounts(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the store stopped taking writes after {imported} imports: {message}")]
    Unavailable { imported: usize, message: String },
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Summary {
    pub account_id: String,
    pub region_id: String,
    pub imported: Vec<Imported>,
    /// Already stored (this fingerprint), or found twice in this run.
    pub skipped: Vec<Imported>,
    pub refused: Vec<Refused>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Imported {
    pub certificate_file: PathBuf,
    pub key_file: PathBuf,
    pub layout: &'static str,
    pub server_certificate_id: String,
    pub server_certificate_name: String,
    pub fingerprint: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Refused {
    pub path: PathBuf,
    /// The API's error code, or `Unreadable` for a file or directory that could not be read.
    pub code: String,
    pub message: String,
}

/// Imports every pair found below `roots`; a progress bar on stderr when it is a terminal.
pub async fn run(
    data: &DataDir,
    options: &Options,
    roots: &[PathBuf],
) -> Result<Summary, ImportError> {
    let region = crate::regions::find(&options.region)
        .ok_or_else(|| ImportError::UnknownRegion(options.region.clone()))?;
    let account = account(data, options.account_id.as_deref()).await?;
    let scope = Scope {
        account_id: account.account_id.clone(),
        region_id: region.id.to_owned(),
    };
    let mut stored: HashMap<String, (String, String)> = data
        .store
        .list_certificates(
            &scope,
            CertificateKind::Server,
            &CertificateFilter::default(),
        )
        .await?
        .into_iter()
        .map(|c| (c.fingerprint, (c.id, c.name)))
        .collect();
    let (found, unreadable) = discover(roots);
    let mut summary = Summary {
        account_id: scope.account_id.clone(),
        region_id: scope.region_id.clone(),
        refused: unreadable
            .into_iter()
            .map(|u| Refused {
                path: u.path,
                code: "Unreadable".into(),
                message: u.reason,
            })
            .collect(),
        ..Default::default()
    };
    let uploader = Uploader::new(data, options, &account);
    let bar = progress_bar(found.len() as u64);
    for pair in found {
        bar.set_message(pair.name.clone());
        let files = read(&pair.certificate).and_then(|c| Ok((c, read(&pair.key)?)));
        let (certificate_pem, key_pem) = match files {
            Ok(files) => files,
            Err(refused) => {
                summary.refused.push(refused);
                bar.inc(1);
                continue;
            }
        };
        let fingerprint = leaf_fingerprint(&certificate_pem);
        let done = |id: String, name: String, fingerprint: String| Imported {
            certificate_file: pair.certificate.clone(),
            key_file: pair.key.clone(),
            layout: pair.layout.as_str(),
            server_certificate_id: id,
            server_certificate_name: name,
            fingerprint,
        };
        if let Some((id, name)) = fingerprint.as_ref().and_then(|f| stored.get(f)) {
            let fingerprint = fingerprint.clone().unwrap_or_default();
            summary
                .skipped
                .push(done(id.clone(), name.clone(), fingerprint));
        } else {
            let name = certificate_name(&pair.name);
            match uploader
                .upload(&scope, &name, &certificate_pem, &key_pem)
                .await
            {
                Ok((id, fingerprint)) => {
                    stored.insert(fingerprint.clone(), (id.clone(), name.clone()));
                    summary.imported.push(done(id, name, fingerprint));
                }
                Err(error) if error.is_unavailable() => {
                    bar.finish_and_clear();
                    return Err(ImportError::Unavailable {
                        imported: summary.imported.len(),
                        message: error.message(),
                    });
                }
                Err(error) => summary.refused.push(Refused {
                    path: pair.certificate.clone(),
                    code: error.code(),
                    message: error.message(),
                }),
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(summary)
}

async fn account(data: &DataDir, account_id: Option<&str>) -> Result<Account, ImportError> {
    let mut accounts = data.store.accounts(account_id, 2).await?;
    match (accounts.len(), account_id) {
        (0, Some(id)) => Err(ImportError::NoSuchAccount(id.to_owned())),
        (0, None) => Err(ImportError::NoAccount),
        (1, _) => Ok(accounts.remove(0)),
        _ => Err(ImportError::SeveralAccounts(accounts.remove(0).account_id)),
    }
}

fn progress_bar(length: u64) -> ProgressBar {
    let bar = ProgressBar::new(length);
    bar.set_style(
        ProgressStyle::with_template("{msg:>32!} [{bar:40}] {pos}/{len} pairs")
            .expect("the template parses")
            .progress_chars("=> "),
    );
    bar
}

/// A file's text, or why it cannot be imported.
fn read(path: &Path) -> Result<Zeroizing<String>, Refused> {
    read_text(path, MAX_FILE_BYTES).map_err(|message| Refused {
        path: path.to_owned(),
        code: "Unreadable".into(),
        message,
    })
}

/// The fingerprint of the first certificate in `pem`, if it has one (if not, the upload says
/// what is wrong).
fn leaf_fingerprint(pem: &str) -> Option<String> {
    let blocks = crate::pki::pem::parse(pem).ok()?;
    let leaf = blocks.iter().find(|block| block.label == "CERTIFICATE")?;
    Some(crate::pki::certificate::fingerprint(&leaf.der))
}

/// What a pair was called, as a certificate name may be: other characters become `-`.
fn certificate_name(found: &str) -> String {
    found
        .chars()
        .map(|c| if is_name_char(c) { c } else { '-' })
        .take(MAX_NAME_CHARS)
        .collect()
}

/// Runs `UploadServerCertificate`'s handler as the account's owner.
struct Uploader<'a> {
    data: &'a DataDir,
    verifier: Verifier,
    directory: crate::access::Directory,
    edit_locks: crate::products::EditLocks,
    limits: Limits,
    account: Account,
}

impl<'a> Uploader<'a> {
    fn new(data: &'a DataDir, options: &Options, account: &Account) -> Uploader<'a> {
        Uploader {
            data,
            verifier: Verifier::new(&data.vault),
            directory: Default::default(),
            edit_locks: Default::default(),
            limits: Limits {
                server_certificates_per_region: options.server_certificates_per_region,
                ca_certificates_per_region: None,
                // An upload touches no load balancer.
                load_balancers: crate::products::slb::LoadBalancerLimits::none(),
            },
            account: account.clone(),
        }
    }

    /// The new certificate's ID and fingerprint.
    async fn upload(
        &self,
        scope: &Scope,
        name: &str,
        certificate: &str,
        private_key: &str,
    ) -> Result<(String, String), ApiError> {
        let caller = LocalCaller {
            store: self.data.store.as_ref(),
            vault: &self.data.vault,
            verifier: &self.verifier,
            directory: &self.directory,
            edit_locks: &self.edit_locks,
            limits: &self.limits,
            source: "cli import",
        };
        let params = [
            ("RegionId", scope.region_id.as_str()),
            ("ServerCertificateName", name),
            ("ServerCertificate", certificate),
            ("PrivateKey", private_key),
        ];
        let fields = caller
            .call(&self.account, "UploadServerCertificate", &params)
            .await?;
        Ok((
            text(&fields, "ServerCertificateId"),
            text(&fields, "Fingerprint"),
        ))
    }
}

impl Summary {
    /// The lines a person reads at the end.
    pub fn report(&self) -> String {
        let mut text = format!(
            "imported {}, already stored {}, refused {} (account {}, region {})\n",
            self.imported.len(),
            self.skipped.len(),
            self.refused.len(),
            self.account_id,
            self.region_id
        );
        for imported in &self.imported {
            text += &format!(
                "  imported {} {} from {}\n",
                imported.server_certificate_id,
                imported.server_certificate_name,
                imported.certificate_file.display()
            );
        }
        for skipped in &self.skipped {
            text += &format!(
                "  skipped  {} already stored as {}\n",
                skipped.certificate_file.display(),
                skipped.server_certificate_id
            );
        }
        for refused in &self.refused {
            text += &format!(
                "  refused  {}: {}: {}\n",
                refused.path.display(),
                refused.code,
                refused.message
            );
        }
        text
    }
}
