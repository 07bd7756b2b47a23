//! The web console at `/console`: a page, a style sheet and scripts compiled into the binary
//! (no CDN: it works offline). It holds no session of its own: the browser signs every call to
//! the API on `/` with the AccessKey pair typed in, so the same signature checks and RAM
//! policies apply as for any SDK. The key pair stays in the page's memory, never in storage.

use http::{HeaderName, HeaderValue, StatusCode};

use crate::http::{Request, Response};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const INDEX: Asset = Asset {
    path: "/console/",
    content_type: "text/html; charset=utf-8",
    body: include_str!("assets/index.html"),
};

const ASSETS: [Asset; 4] = [
    INDEX,
    Asset {
        path: "/console/console.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/console.css"),
    },
    Asset {
        path: "/console/signer.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/signer.js"),
    },
    Asset {
        path: "/console/console.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/console.js"),
    },
];

/// Whether `path` is the console's.
pub fn owns(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

/// The asset at `request.path` (the page at `/console` too), or 404.
pub fn serve(request: &Request) -> Response {
    let path = match request.path.as_str() {
        "/console" | "/console/index.html" => INDEX.path,
        path => path,
    };
    let mut response = match ASSETS.iter().find(|asset| asset.path == path) {
        Some(asset) => Response::new(StatusCode::OK, asset.content_type, asset.body),
        None => Response::new(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no such page of the console\n",
        ),
    };
    // Only our own scripts run, and they talk only to this origin: a certificate's name or
    // common name shown on a page can never become code.
    let headers = [
        (
            "content-security-policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
             img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-cache"),
    ];
    for (name, value) in headers {
        response.headers.push((
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    response
}
