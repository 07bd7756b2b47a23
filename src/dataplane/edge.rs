//! What a client's request must be to be forwarded, as RFC 9110, 9112 and 9113 say: requests
//! a backend could read otherwise than the listener did (two Hosts, a transfer coding other
//! than exactly `chunked`) are answered here, and so are those a proxy does not forward
//! (`CONNECT`, the asterisk form). Forwarding rules will route on Host, so these are routing
//! checks too.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, StatusCode, Version};

/// Why a request is answered at the edge: its status and a line of text.
pub type Refusal = (StatusCode, &'static str);

/// The refusal `request` gets, if any.
pub fn refusal<B>(request: &Request<B>) -> Option<Refusal> {
    if request.method() == Method::CONNECT {
        return Some((
            StatusCode::METHOD_NOT_ALLOWED,
            "CONNECT is not served here\n",
        ));
    }
    if request.uri().path() == "*" {
        return Some((
            StatusCode::BAD_REQUEST,
            "the asterisk form is not served here\n",
        ));
    }
    let headers = request.headers();
    let hosts = headers.get_all(header::HOST).iter().count();
    if hosts > 1 {
        return Some((StatusCode::BAD_REQUEST, "more than one Host header\n"));
    }
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is refused (h2 has :authority).
    if hosts == 0 && request.version() == Version::HTTP_11 && request.uri().authority().is_none() {
        return Some((StatusCode::BAD_REQUEST, "no Host header\n"));
    }
    if !only_chunked(headers) {
        return Some((
            StatusCode::NOT_IMPLEMENTED,
            "no Transfer-Encoding but chunked is served\n",
        ));
    }
    None
}

/// No Transfer-Encoding, or exactly `chunked` once (RFC 9112 §6.1: a coding we do not
/// implement is answered 501; a list like `identity, chunked` would be read one way here and
/// another by a backend that knows only `chunked`).
fn only_chunked(headers: &HeaderMap) -> bool {
    let mut codings = headers.get_all(header::TRANSFER_ENCODING).iter();
    match (codings.next(), codings.next()) {
        (None, _) => true,
        (Some(value), None) => value
            .to_str()
            .is_ok_and(|value| value.trim().eq_ignore_ascii_case("chunked")),
        _ => false,
    }
}

/// The Host to forward: the request target's authority when it has one (the absolute form,
/// RFC 9112 §3.2.2, and h2's `:authority`, RFC 9113 §8.3.1, both replace a Host header), else
/// the Host sent.
pub fn host<B>(request: &Request<B>) -> Option<HeaderValue> {
    match request.uri().authority() {
        Some(authority) => HeaderValue::from_str(authority.as_str()).ok(),
        None => request.headers().get(header::HOST).cloned(),
    }
}

/// Every `X-Forwarded-For` line the client sent, in order, as one list (a proxy before us may
/// have sent several).
pub fn forwarded_for(headers: &HeaderMap) -> Option<String> {
    let lines: Vec<&str> = headers
        .get_all(&super::headers::X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        method: &str,
        target: &str,
        version: Version,
        headers: &[(&str, &str)],
    ) -> Request<()> {
        let mut builder = Request::builder()
            .method(method)
            .uri(target)
            .version(version);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn refuses_what_a_backend_could_read_otherwise() {
        let h11 = Version::HTTP_11;
        let status = |r: Request<()>| refusal(&r).map(|(status, _)| status.as_u16());
        assert_eq!(status(request("GET", "/", h11, &[("host", "a")])), None);
        assert_eq!(status(request("GET", "/", h11, &[])), Some(400));
        assert_eq!(status(request("GET", "/", Version::HTTP_10, &[])), None);
        assert_eq!(status(request("GET", "http://a/x", h11, &[])), None);
        assert_eq!(
            status(request("GET", "/", h11, &[("host", "a"), ("host", "b")])),
            Some(400)
        );
        assert_eq!(
            status(request("CONNECT", "a:443", h11, &[("host", "a:443")])),
            Some(405)
        );
        assert_eq!(
            status(request("OPTIONS", "*", h11, &[("host", "a")])),
            Some(400)
        );
        let chunked = [("host", "a"), ("transfer-encoding", " Chunked ")];
        assert_eq!(status(request("POST", "/", h11, &chunked)), None);
        for coding in [
            "identity, chunked",
            "gzip, chunked",
            "chunked, chunked",
            "identity",
        ] {
            let headers = [("host", "a"), ("transfer-encoding", coding)];
            assert_eq!(
                status(request("POST", "/", h11, &headers)),
                Some(501),
                "{coding}"
            );
        }
        let twice = [
            ("host", "a"),
            ("transfer-encoding", "chunked"),
            ("transfer-encoding", "chunked"),
        ];
        assert_eq!(status(request("POST", "/", h11, &twice)), Some(501));
    }

    #[test]
    fn the_target_authority_wins_and_every_forwarded_line_is_kept() {
        let absolute = request(
            "GET",
            "http://real.example/x",
            Version::HTTP_11,
            &[("host", "fake")],
        );
        assert_eq!(host(&absolute).unwrap(), "real.example");
        let origin = request("GET", "/x", Version::HTTP_11, &[("host", "a.example")]);
        assert_eq!(host(&origin).unwrap(), "a.example");
        let lines = request(
            "GET",
            "/",
            Version::HTTP_11,
            &[
                ("x-forwarded-for", "192.0.2.1"),
                ("x-forwarded-for", "192.0.2.2, 192.0.2.3"),
            ],
        );
        assert_eq!(
            forwarded_for(lines.headers()).unwrap(),
            "192.0.2.1, 192.0.2.2, 192.0.2.3"
        );
        assert_eq!(forwarded_for(origin.headers()), None);
    }
}
