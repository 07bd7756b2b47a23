//! Finding certificate and key pairs in directory trees, in the layouts that ACME clients and
//! people leave them in:
//! - certbot: `live/NAME/fullchain.pem` with `live/NAME/privkey.pem` (symbolic links into
//!   `archive/`, followed; `archive/`'s numbered copies are not pairs);
//! - acme.sh: `NAME/fullchain.cer` with `NAME/NAME.key`, in `NAME/` or `NAME_ecc/`;
//! - `NAME.crt`, `NAME.cer` or `NAME.pem` next to `NAME.key`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How deep below a given directory pairs are looked for (certbot's `live/NAME` is 2).
const MAX_DEPTH: usize = 8;
/// Directories visited at most: a bound on a mistaken `import /`.
const MAX_DIRECTORIES: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Certbot,
    AcmeSh,
    Pair,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Certbot => "certbot",
            Layout::AcmeSh => "acme.sh",
            Layout::Pair => "pair",
        }
    }
}

/// A certificate chain file and the private key file beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub certificate: PathBuf,
    pub key: PathBuf,
    /// What the pair is called where it was found: the certificate's name to be.
    pub name: String,
    pub layout: Layout,
}

/// A directory that could not be read.
#[derive(Debug)]
pub struct Unreadable {
    pub path: PathBuf,
    pub reason: String,
}

/// Every pair below `roots`, in path order, and the directories that could not be read.
pub fn discover(roots: &[PathBuf]) -> (Vec<Found>, Vec<Unreadable>) {
    let mut walk = Walk::default();
    for root in roots {
        walk.visit(root, 0);
    }
    (walk.found, walk.unreadable)
}

#[derive(Default)]
struct Walk {
    found: Vec<Found>,
    unreadable: Vec<Unreadable>,
    visited: usize,
}

impl Walk {
    fn visit(&mut self, directory: &Path, depth: usize) {
        self.visited += 1;
        if self.visited > MAX_DIRECTORIES {
            if self.visited == MAX_DIRECTORIES + 1 {
                self.unreadable.push(Unreadable {
                    path: directory.to_owned(),
                    reason: format!(
                        "more than {MAX_DIRECTORIES} directories; the rest were not looked at"
                    ),
                });
            }
            return;
        }
        let entries = match std::fs::read_dir(directory) {
            Ok(entries) => entries,
            Err(error) => {
                self.unreadable.push(Unreadable {
                    path: directory.to_owned(),
                    reason: error.to_string(),
                });
                return;
            }
        };
        // Files by name (links to files count as files); subdirectories not through links,
        // so that a link cycle cannot loop.
        let mut files = BTreeMap::new();
        let mut subdirectories = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => subdirectories.push(path),
                Ok(_) if path.is_file() => {
                    files.insert(name, path);
                }
                _ => {}
            }
        }
        self.found.extend(pairs_in(directory, &files));
        if depth < MAX_DEPTH {
            subdirectories.sort();
            for subdirectory in subdirectories {
                self.visit(&subdirectory, depth + 1);
            }
        }
    }
}

/// The pairs of one directory, given its files by name.
fn pairs_in(directory: &Path, files: &BTreeMap<String, PathBuf>) -> Vec<Found> {
    let directory_name = directory
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("certificate");
    let found = |certificate: &PathBuf, key: &PathBuf, name: &str, layout| Found {
        certificate: certificate.clone(),
        key: key.clone(),
        name: name.to_owned(),
        layout,
    };
    if let (Some(chain), Some(key)) = (files.get("fullchain.pem"), files.get("privkey.pem")) {
        return vec![found(chain, key, directory_name, Layout::Certbot)];
    }
    let domain = directory_name
        .strip_suffix("_ecc")
        .unwrap_or(directory_name);
    if let (Some(chain), Some(key)) = (
        files.get("fullchain.cer"),
        files.get(&format!("{domain}.key")),
    ) {
        return vec![found(chain, key, domain, Layout::AcmeSh)];
    }
    files
        .iter()
        .filter_map(|(name, path)| {
            let stem = [".crt", ".cer", ".pem"]
                .iter()
                .find_map(|extension| name.strip_suffix(extension))?;
            let key = files.get(&format!("{stem}.key"))?;
            Some(found(path, key, stem, Layout::Pair))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> BTreeMap<String, PathBuf> {
        names
            .iter()
            .map(|name| (name.to_string(), PathBuf::from(format!("/d/{name}"))))
            .collect()
    }

    fn seen(directory: &str, names: &[&str]) -> Vec<(String, String, &'static str)> {
        pairs_in(Path::new(directory), &files(names))
            .into_iter()
            .map(|f| {
                let file = |p: &PathBuf| p.file_name().unwrap().to_str().unwrap().to_owned();
                (file(&f.certificate), f.name, f.layout.as_str())
            })
            .collect()
    }

    #[test]
    fn recognises_each_layout_and_nothing_else() {
        let certbot = [
            "cert.pem",
            "chain.pem",
            "fullchain.pem",
            "privkey.pem",
            "README",
        ];
        assert_eq!(
            seen("/etc/letsencrypt/live/example.com", &certbot),
            [("fullchain.pem".into(), "example.com".into(), "certbot")]
        );
        let acme = [
            "example.org.cer",
            "example.org.key",
            "ca.cer",
            "fullchain.cer",
            "example.org.csr",
        ];
        assert_eq!(
            seen("/root/.acme.sh/example.org_ecc", &acme),
            [("fullchain.cer".into(), "example.org".into(), "acme.sh")]
        );
        assert_eq!(
            seen(
                "/srv/certs",
                &["a.crt", "a.key", "b.pem", "b.key", "c.crt", "d.key"]
            ),
            [
                ("a.crt".into(), "a".into(), "pair"),
                ("b.pem".into(), "b".into(), "pair")
            ]
        );
        // certbot's archive holds numbered copies: not pairs.
        assert!(
            seen(
                "/etc/letsencrypt/archive/x",
                &["fullchain1.pem", "privkey1.pem"]
            )
            .is_empty()
        );
    }
}
