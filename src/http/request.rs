//! Parsing of a request head and the framing of its body.

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

/// Why a request could not be read; each maps to the status answered before closing.
#[derive(Debug)]
pub enum FramingError {
    Malformed(&'static str),
    HeadTooLarge,
    TooManyHeaders,
    BodyTooLarge,
    ChunkLineTooLong,
    TrailersTooLarge,
    UnsupportedTransferEncoding,
}

impl FramingError {
    pub fn status(&self) -> StatusCode {
        match self {
            FramingError::Malformed(_) => StatusCode::BAD_REQUEST,
            FramingError::HeadTooLarge | FramingError::TooManyHeaders => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            FramingError::BodyTooLarge
            | FramingError::ChunkLineTooLong
            | FramingError::TrailersTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            FramingError::UnsupportedTransferEncoding => StatusCode::NOT_IMPLEMENTED,
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            FramingError::Malformed(why) => why,
            FramingError::HeadTooLarge => "The request line and headers are too large.",
            FramingError::TooManyHeaders => "The request has too many headers.",
            FramingError::BodyTooLarge => "The request body is too large.",
            FramingError::ChunkLineTooLong => {
                "A chunk-size line or the chunk extensions of the body are too long (16 KiB at most)."
            }
            FramingError::TrailersTooLarge => "The trailer section is too large (16 KiB at most).",
            FramingError::UnsupportedTransferEncoding => {
                "Only the chunked transfer coding is supported."
            }
        }
    }
}

/// How the body that follows the head is delimited.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyFraming {
    Length(usize),
    Chunked,
}

/// The head of a request, owned so that the read buffer can be reused.
#[derive(Debug)]
pub struct Head {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: BodyFraming,
    pub expects_continue: bool,
    pub wants_close: bool,
}

/// Parses a head from the start of `buf`. `Ok(None)`: more bytes are needed.
/// On success returns the head and its length in bytes.
pub fn parse_head(
    buf: &[u8],
    max_headers: usize,
    max_body: usize,
) -> Result<Option<(Head, usize)>, FramingError> {
    let mut slots = vec![httparse::EMPTY_HEADER; max_headers];
    let mut parsed = httparse::Request::new(&mut slots);
    let consumed = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(FramingError::TooManyHeaders),
        Err(_) => return Err(FramingError::Malformed("The HTTP request is malformed.")),
    };
    let method = Method::from_bytes(parsed.method.unwrap_or_default().as_bytes())
        .map_err(|_| FramingError::Malformed("The HTTP method is not valid."))?;
    let target = parsed.path.unwrap_or_default();
    let (path, query) = split_target(target)?;
    let http10 = parsed.version == Some(0);

    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| FramingError::Malformed("A header name is not valid."))?;
        let value = HeaderValue::from_bytes(header.value)
            .map_err(|_| FramingError::Malformed("A header value is not valid."))?;
        headers.append(name, value);
    }

    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing cannot be trusted.
    if http10 && headers.contains_key(http::header::TRANSFER_ENCODING) {
        return Err(FramingError::Malformed(
            "Transfer-Encoding is not allowed in an HTTP/1.0 request.",
        ));
    }
    let body = body_framing(&headers, max_body)?;
    let expects_continue = header_has_token(&headers, &http::header::EXPECT, "100-continue");
    let wants_close = if http10 {
        !header_has_token(&headers, &http::header::CONNECTION, "keep-alive")
    } else {
        header_has_token(&headers, &http::header::CONNECTION, "close")
    };
    let head = Head {
        method,
        path,
        query,
        headers,
        body,
        expects_continue,
        wants_close,
    };
    Ok(Some((head, consumed)))
}

/// Splits an origin-form (`/path?query`) or absolute-form (`http://host/path?query`) target.
fn split_target(target: &str) -> Result<(String, String), FramingError> {
    let origin = if target.starts_with('/') {
        target
    } else if let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        rest.find('/').map_or("/", |slash| &rest[slash..])
    } else {
        return Err(FramingError::Malformed("The request target is not valid."));
    };
    let origin = origin.split('#').next().unwrap_or_default();
    let (path, query) = origin.split_once('?').unwrap_or((origin, ""));
    Ok((path.to_owned(), query.to_owned()))
}

fn body_framing(headers: &HeaderMap, max_body: usize) -> Result<BodyFraming, FramingError> {
    let transfer_encoding = headers.get_all(http::header::TRANSFER_ENCODING);
    let mut codings = transfer_encoding
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("?").split(','))
        .map(|coding| coding.trim().to_ascii_lowercase())
        .filter(|coding| !coding.is_empty())
        .peekable();
    if codings.peek().is_some() {
        // Both headers at once is a request-smuggling vector (RFC 9112 §6.3): refuse it.
        if headers.contains_key(http::header::CONTENT_LENGTH) {
            return Err(FramingError::Malformed(
                "Content-Length and Transfer-Encoding must not both be present.",
            ));
        }
        let codings: Vec<String> = codings.collect();
        return if codings == ["chunked"] {
            Ok(BodyFraming::Chunked)
        } else {
            Err(FramingError::UnsupportedTransferEncoding)
        };
    }
    let mut lengths = headers.get_all(http::header::CONTENT_LENGTH).iter();
    let Some(first) = lengths.next() else {
        return Ok(BodyFraming::Length(0));
    };
    if lengths.any(|other| other != first) {
        return Err(FramingError::Malformed(
            "Content-Length is given more than once with different values.",
        ));
    }
    let length = first
        .to_str()
        .ok()
        .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|text| text.parse::<u64>().ok())
        .ok_or(FramingError::Malformed("Content-Length is not a number."))?;
    if length > max_body as u64 {
        return Err(FramingError::BodyTooLarge);
    }
    Ok(BodyFraming::Length(length as usize))
}

fn header_has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .to_str()
            .unwrap_or_default()
            .split(',')
            .any(|part| part.trim().eq_ignore_ascii_case(token))
    })
}

/// Longest chunk-size line (size, extensions, CRLF), and the most extension bytes one body may
/// carry in all; hyper uses the same 16 KiB.
pub const MAX_CHUNK_LINE: usize = 16 * 1024;
pub const MAX_CHUNK_EXTENSIONS: usize = 16 * 1024;

/// One parsed chunk-size line.
#[derive(Debug, PartialEq, Eq)]
pub struct ChunkLine {
    pub size: u64,
    /// Bytes of the whole line, CRLF included.
    pub length: usize,
    /// Bytes of its extensions (`;name=value`).
    pub extensions: usize,
}

/// Parses one chunk-size line at the start of `buf`: `Ok(None)` when incomplete. A line longer
/// than [`MAX_CHUNK_LINE`] is refused as soon as that many bytes arrived without its end.
pub fn parse_chunk_size(buf: &[u8]) -> Result<Option<ChunkLine>, FramingError> {
    match httparse::parse_chunk_size(buf) {
        Ok(httparse::Status::Complete((length, size))) if length <= MAX_CHUNK_LINE => {
            let digits = buf.iter().take_while(|b| b.is_ascii_hexdigit()).count();
            Ok(Some(ChunkLine {
                size,
                length,
                extensions: length.saturating_sub(digits + 2),
            }))
        }
        Ok(httparse::Status::Partial) if buf.len() < MAX_CHUNK_LINE => Ok(None),
        Ok(_) => Err(FramingError::ChunkLineTooLong),
        Err(_) => Err(FramingError::Malformed("A chunk size is not valid.")),
    }
}

/// Where the head that starts `buf` ends (the index after its empty line): the first end
/// after `from`. Bytes before `from` were searched already, so each byte is scanned once (a
/// terminator straddling `from` is still found), and an end at or before `from` (blank lines
/// before the request line) is not found again.
pub fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(2);
    buf[start..]
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte == b'\n')
        .find_map(|(offset, _)| {
            let at = start + offset;
            let rest = &buf[at + 1..];
            let end = if rest.starts_with(b"\n") {
                at + 2
            } else if rest.starts_with(b"\r\n") {
                at + 3
            } else {
                return None;
            };
            (end > from).then_some(end)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        parse_head(text.as_bytes(), 32, 1024).unwrap().unwrap().0
    }

    #[test]
    fn splits_path_and_raw_query() {
        let parsed = head("GET /?Action=X&A=%2B+b HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(parsed.path, "/");
        assert_eq!(parsed.query, "Action=X&A=%2B+b");
        assert_eq!(parsed.body, BodyFraming::Length(0));
        assert!(!parsed.wants_close);
    }

    #[test]
    fn accepts_absolute_form_targets() {
        let parsed = head("POST http://127.0.0.1:8080/?a=b HTTP/1.1\r\n\r\n");
        assert_eq!((parsed.path.as_str(), parsed.query.as_str()), ("/", "a=b"));
    }

    #[test]
    fn incomplete_heads_ask_for_more() {
        assert!(
            parse_head(b"GET / HTTP/1.1\r\nHost:", 32, 1024)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn refuses_smuggling_and_oversized_bodies() {
        let both = "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(
            parse_head(both.as_bytes(), 32, 1024),
            Err(FramingError::Malformed(_))
        ));
        let big = "POST / HTTP/1.1\r\nContent-Length: 4096\r\n\r\n";
        assert!(matches!(
            parse_head(big.as_bytes(), 32, 1024),
            Err(FramingError::BodyTooLarge)
        ));
        let bad = "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n";
        assert!(parse_head(bad.as_bytes(), 32, 1024).is_err());
    }

    #[test]
    fn connection_semantics_follow_the_version() {
        assert!(head("GET / HTTP/1.0\r\n\r\n").wants_close);
        assert!(!head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").wants_close);
        assert!(head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").wants_close);
        assert!(head("POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n").expects_continue);
        assert_eq!(
            head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").body,
            BodyFraming::Chunked
        );
    }

    #[test]
    fn http10_with_transfer_encoding_is_refused() {
        let text =
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n";
        assert!(matches!(
            parse_head(text.as_bytes(), 32, 1024),
            Err(FramingError::Malformed(_))
        ));
    }

    #[test]
    fn chunk_lines_are_bounded() {
        let line = parse_chunk_size(b"1a;ext=1\r\n").unwrap().unwrap();
        assert_eq!((line.size, line.length, line.extensions), (26, 10, 6));
        assert!(parse_chunk_size(b"1;ext=").unwrap().is_none());
        let mut long = b"1;ext=".to_vec();
        long.resize(MAX_CHUNK_LINE, b'a');
        assert!(matches!(
            parse_chunk_size(&long),
            Err(FramingError::ChunkLineTooLong)
        ));
    }

    #[test]
    fn head_ends_are_found_incrementally() {
        let text = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nNEXT";
        assert_eq!(find_head_end(text, 0), Some(text.len() - 4));
        // Resuming near the end still sees a terminator that straddles the old boundary.
        assert_eq!(find_head_end(text, text.len() - 5), Some(text.len() - 4));
        let bare = b"GET / HTTP/1.1\nHost: x\n\n";
        assert_eq!(find_head_end(bare, 10), Some(bare.len()));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nHost: x\r\n", 0), None);
        // Found by fuzzing: blank lines before a partial request line ended where they began,
        // and the same end was found again and again.
        let blank_lines = b"\r\n\nGET PO";
        assert_eq!(find_head_end(blank_lines, 0), Some(3));
        assert_eq!(find_head_end(blank_lines, 3), None);
    }

    #[test]
    fn too_many_headers_is_its_own_error() {
        let mut text = String::from("GET / HTTP/1.1\r\n");
        for i in 0..40 {
            text.push_str(&format!("X-H{i}: v\r\n"));
        }
        text.push_str("\r\n");
        assert!(matches!(
            parse_head(text.as_bytes(), 32, 1024),
            Err(FramingError::TooManyHeaders)
        ));
    }
}
