//! PEM (RFC 7468, plus RFC 1421 headers such as `Proc-Type`) split into labelled DER blocks.
//!
//! Our own small parser rather than a generic one, so that every refusal can say exactly what is
//! wrong and where (which block, which line), and so that a `+` sent unencoded in a URL (which
//! form decoding turns into a space) is named as such instead of "bad base64".

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

pub struct PemBlock {
    pub label: String,
    /// RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`).
    pub headers: Vec<(String, String)>,
    /// Zeroized on drop: a block may be a private key.
    pub der: Zeroizing<Vec<u8>>,
}

/// Shows the label and the size, never the bytes: a block may be a private key.
impl std::fmt::Debug for PemBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemBlock")
            .field("label", &self.label)
            .field("headers", &self.headers)
            .field("der", &format_args!("[{} bytes]", self.der.len()))
            .finish()
    }
}

impl PemBlock {
    pub fn is_legacy_encrypted(&self) -> bool {
        self.headers.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("Proc-Type")
                && value.to_ascii_uppercase().contains("ENCRYPTED")
        })
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PemError {
    #[error("it is empty")]
    Empty,
    #[error("it contains no PEM block (no \"-----BEGIN ...-----\" line)")]
    NoBlock,
    #[error("PEM block {block} (\"{label}\") has no END line")]
    Unterminated { block: usize, label: String },
    #[error("PEM block {block} begins with \"{begin}\" but ends with \"{end}\"")]
    MismatchedEnd {
        block: usize,
        begin: String,
        end: String,
    },
    #[error(
        "PEM block {block} (\"{label}\") contains a space inside its base64 text: a '+' was probably sent unencoded (encode it as %2B)"
    )]
    SpaceInBase64 { block: usize, label: String },
    #[error("PEM block {block} (\"{label}\") is not valid base64")]
    BadBase64 { block: usize, label: String },
    #[error("PEM block {block} (\"{label}\") is empty")]
    EmptyBlock { block: usize, label: String },
}

/// Splits `text` into its PEM blocks, in order. Text outside blocks is ignored (RFC 7468 §2:
/// tools such as `openssl x509 -text` put explanatory text there).
pub fn parse(text: &str) -> Result<Vec<PemBlock>, PemError> {
    if text.trim().is_empty() {
        return Err(PemError::Empty);
    }
    let mut blocks = Vec::new();
    let mut open: Option<OpenBlock> = None;
    for raw_line in text.lines() {
        let line = raw_line.trim();
        match open.as_mut() {
            None => {
                if let Some(label) = boundary(line, "BEGIN") {
                    open = Some(OpenBlock::new(label, blocks.len() + 1));
                }
            }
            Some(block) => {
                if let Some(end) = boundary(line, "END") {
                    let block = open.take().expect("a block is open");
                    if end != block.label {
                        return Err(PemError::MismatchedEnd {
                            block: block.number,
                            begin: block.label,
                            end: end.to_owned(),
                        });
                    }
                    blocks.push(block.finish()?);
                } else {
                    block.push_line(line)?;
                }
            }
        }
    }
    if let Some(block) = open {
        return Err(PemError::Unterminated {
            block: block.number,
            label: block.label,
        });
    }
    if blocks.is_empty() {
        return Err(PemError::NoBlock);
    }
    Ok(blocks)
}

/// Encodes DER as a PEM block with 64-character lines.
pub fn encode(label: &str, der: &[u8]) -> Zeroizing<String> {
    let body = Zeroizing::new(STANDARD.encode(der));
    let mut out = Zeroizing::new(String::with_capacity(body.len() + body.len() / 64 + 64));
    out.push_str(&format!("-----BEGIN {label}-----\n"));
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn boundary<'a>(line: &'a str, kind: &str) -> Option<&'a str> {
    line.strip_prefix("-----")?
        .strip_prefix(kind)?
        .strip_prefix(' ')?
        .strip_suffix("-----")
}

struct OpenBlock {
    label: String,
    number: usize,
    headers: Vec<(String, String)>,
    base64: Zeroizing<String>,
}

impl OpenBlock {
    fn new(label: &str, number: usize) -> Self {
        OpenBlock {
            label: label.to_owned(),
            number,
            headers: Vec::new(),
            base64: Zeroizing::new(String::new()),
        }
    }

    fn push_line(&mut self, line: &str) -> Result<(), PemError> {
        if line.is_empty() {
            return Ok(());
        }
        // RFC 1421 headers come before any base64; ':' never occurs in base64.
        if self.base64.is_empty()
            && let Some((name, value)) = line.split_once(':')
        {
            self.headers
                .push((name.trim().to_owned(), value.trim().to_owned()));
            return Ok(());
        }
        if line.contains(char::is_whitespace) {
            return Err(PemError::SpaceInBase64 {
                block: self.number,
                label: self.label.clone(),
            });
        }
        self.base64.push_str(line);
        Ok(())
    }

    fn finish(self) -> Result<PemBlock, PemError> {
        if self.base64.is_empty() {
            return Err(PemError::EmptyBlock {
                block: self.number,
                label: self.label,
            });
        }
        let der = STANDARD
            .decode(self.base64.as_bytes())
            .map_err(|_| PemError::BadBase64 {
                block: self.number,
                label: self.label.clone(),
            })?;
        Ok(PemBlock {
            label: self.label,
            headers: self.headers,
            der: Zeroizing::new(der),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_headers_and_ignores_outside_text() {
        let text = "subject=CN = x\n-----BEGIN A-----\r\nAQID\r\n-----END A-----\n\
                    -----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nBAU=\n-----END RSA PRIVATE KEY-----\n";
        let blocks = parse(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "A");
        assert_eq!(*blocks[0].der, vec![1, 2, 3]);
        assert!(!blocks[0].is_legacy_encrypted());
        assert_eq!(blocks[1].headers.len(), 2);
        assert!(blocks[1].is_legacy_encrypted());
        assert_eq!(*blocks[1].der, vec![4, 5]);
    }

    #[test]
    fn names_each_kind_of_damage() {
        assert_eq!(parse("  \n").unwrap_err(), PemError::Empty);
        assert_eq!(parse("hello").unwrap_err(), PemError::NoBlock);
        assert!(matches!(
            parse("-----BEGIN A-----\nAQID\n").unwrap_err(),
            PemError::Unterminated { block: 1, .. }
        ));
        assert!(matches!(
            parse("-----BEGIN A-----\nAQID\n-----END B-----").unwrap_err(),
            PemError::MismatchedEnd { .. }
        ));
        assert!(matches!(
            parse("-----BEGIN A-----\nAQ ID\n-----END A-----").unwrap_err(),
            PemError::SpaceInBase64 { .. }
        ));
        assert!(matches!(
            parse("-----BEGIN A-----\nA!!!\n-----END A-----").unwrap_err(),
            PemError::BadBase64 { .. }
        ));
        assert!(matches!(
            parse("-----BEGIN A-----\n-----END A-----").unwrap_err(),
            PemError::EmptyBlock { .. }
        ));
    }

    #[test]
    fn debug_shows_no_bytes() {
        let blocks =
            parse("-----BEGIN PRIVATE KEY-----\nAQID\n-----END PRIVATE KEY-----\n").unwrap();
        assert_eq!(
            format!("{:?}", blocks[0]),
            "PemBlock { label: \"PRIVATE KEY\", headers: [], der: [3 bytes] }"
        );
    }

    #[test]
    fn encode_round_trips_with_64_character_lines() {
        let der: Vec<u8> = (0..=255).collect();
        let text = encode("X", &der);
        assert!(text.lines().all(|line| line.len() <= 64));
        assert_eq!(*parse(&text).unwrap()[0].der, der);
    }
}
