//! Rendering of success bodies and the error envelope in Alibaba's JSON and XML shapes.
//!
//! Responses are built as ordered JSON objects; XML is derived from the same value with
//! Alibaba's mapping: an object is an element per key, and an array repeats the key's element
//! once per item (`{"Tag":[a,b]}` is `<Tag>a</Tag><Tag>b</Tag>`).

use http::{HeaderValue, StatusCode};
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::http::Response;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Json,
    Xml,
}

impl Format {
    /// `Format` is case-insensitive (tea-rpc sends `json`); absent means JSON.
    pub fn from_param(value: Option<&str>) -> Result<Format, ApiError> {
        match value {
            None | Some("") => Ok(Format::Json),
            Some(v) if v.eq_ignore_ascii_case("json") => Ok(Format::Json),
            Some(v) if v.eq_ignore_ascii_case("xml") => Ok(Format::Xml),
            Some(other) => Err(ApiError::InvalidFormat(other.to_owned())),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            // The exact strings the tea clients compare against.
            Format::Json => "application/json;charset=utf-8",
            Format::Xml => "text/xml;charset=utf-8",
        }
    }
}

/// A success: `RequestId` first, then the action's fields; `root` names the XML root element.
pub fn success(
    format: Format,
    root: &str,
    request_id: &str,
    fields: Map<String, Value>,
) -> Response {
    let mut body = Map::with_capacity(fields.len() + 1);
    body.insert("RequestId".into(), Value::String(request_id.to_owned()));
    body.extend(fields);
    render(format, StatusCode::OK, root, body, request_id)
}

/// The error envelope `{RequestId, HostId, Code, Message, Recommend}`; `product` names the
/// product in `Recommend` (`Slb`, or `cas` for the SSL Certificates Service).
pub fn error(
    format: Format,
    error: &ApiError,
    request_id: &str,
    host_id: &str,
    product: &str,
) -> Response {
    let code = error.code();
    let recommend = format!(
        "https://api.aliyun.com/troubleshoot?q={code}&product={product}&requestId={request_id}"
    );
    let mut body = Map::with_capacity(5);
    body.insert("RequestId".into(), request_id.into());
    body.insert("HostId".into(), host_id.into());
    body.insert("Code".into(), code.into());
    body.insert("Message".into(), error.message().into());
    body.insert("Recommend".into(), recommend.into());
    render(format, error.status(), "Error", body, request_id)
}

fn render(
    format: Format,
    status: StatusCode,
    root: &str,
    body: Map<String, Value>,
    request_id: &str,
) -> Response {
    let text = match format {
        Format::Json => Value::Object(body).to_string(),
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            write_element(&mut out, root, &Value::Object(body));
            out
        }
    };
    let mut response = Response::new(status, format.content_type(), text);
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response
            .headers
            .push((http::HeaderName::from_static("x-acs-request-id"), value));
    }
    response
}

fn write_element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Array(items) => {
            for item in items {
                write_element(out, name, item);
            }
        }
        Value::Object(fields) => {
            out.push_str(&format!("<{name}>"));
            for (key, field) in fields {
                write_element(out, key, field);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Null => out.push_str(&format!("<{name}></{name}>")),
        Value::String(text) => {
            out.push_str(&format!("<{name}>"));
            escape_into(out, text);
            out.push_str(&format!("</{name}>"));
        }
        scalar => out.push_str(&format!("<{name}>{scalar}</{name}>")),
    }
}

/// Escapes markup, and replaces what XML 1.0 cannot carry at all (control characters other
/// than tab, CR and LF, and U+FFFE/U+FFFF) with U+FFFD, so that any text gives well-formed XML.
fn escape_into(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(response: &Response) -> String {
        String::from_utf8(response.body.to_vec()).unwrap()
    }

    #[test]
    fn format_is_case_insensitive_and_defaults_to_json() {
        assert_eq!(Format::from_param(None).unwrap(), Format::Json);
        assert_eq!(Format::from_param(Some("json")).unwrap(), Format::Json);
        assert_eq!(Format::from_param(Some("Xml")).unwrap(), Format::Xml);
        assert_eq!(
            Format::from_param(Some("yaml")).unwrap_err().code(),
            "InvalidParameter.Format"
        );
    }

    #[test]
    fn xml_repeats_array_items_and_escapes_text() {
        let fields = json!({
            "Names": {"Name": ["a&b", "<c>"]},
            "Empty": {"Item": []},
            "Stamp": 1541761156000i64,
        });
        let Value::Object(fields) = fields else {
            unreachable!()
        };
        let response = success(Format::Xml, "XResponse", "ID", fields);
        assert_eq!(
            body(&response),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><XResponse><RequestId>ID</RequestId>\
             <Names><Name>a&amp;b</Name><Name>&lt;c&gt;</Name></Names><Empty></Empty>\
             <Stamp>1541761156000</Stamp></XResponse>"
        );
        assert_eq!(response.headers[0].1, "text/xml;charset=utf-8");
    }

    #[test]
    fn control_characters_never_break_the_xml() {
        let mut fields = Map::new();
        let every_control: String = (0u8..0x20).map(char::from).collect();
        fields.insert(
            "Name".into(),
            Value::String(format!("a{every_control}\u{FFFE}b")),
        );
        let text = body(&success(Format::Xml, "XResponse", "ID", fields));
        let name = text
            .split("<Name>")
            .nth(1)
            .unwrap()
            .split("</Name>")
            .next()
            .unwrap();
        assert!(name.starts_with('a') && name.ends_with('b'));
        for ch in name.chars() {
            assert!(
                matches!(ch, '\t' | '\n' | '\r' | '\u{FFFD}' | 'a' | 'b'),
                "{:?} in {name:?}",
                ch
            );
        }
    }

    #[test]
    fn error_envelope_has_exactly_the_five_fields() {
        let response = error(
            Format::Json,
            &ApiError::SignatureNonceUsed,
            "REQ",
            "slb.aliyuncs.com",
            "cas",
        );
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        let value: Value = serde_json::from_slice(&response.body).unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["RequestId", "HostId", "Code", "Message", "Recommend"]
        );
        assert_eq!(value["Code"], "SignatureNonceUsed");
        assert!(
            value["Recommend"]
                .as_str()
                .unwrap()
                .contains("&product=cas&")
        );
    }
}
