//! RFC 3986 percent-encoding as Alibaba signs it: unreserved characters kept, everything else
//! `%XX` with upper-case hex (so a space is `%20`, `*` is `%2A`, and `~` stays). Byte by byte
//! into one buffer: a signed upload carries kilobytes of PEM, encoded twice for V1.

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~')
}

pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    encode_into(&mut out, text);
    out
}

/// Appends `text` percent-encoded.
pub fn encode_into(out: &mut String, text: &str) {
    encode_with(out, text, "%");
}

/// Appends `text` percent-encoded twice (`enc(enc(text))`) in one pass: an encoded byte's `%`
/// is itself encoded, `%25`.
pub fn encode_twice_into(out: &mut String, text: &str) {
    encode_with(out, text, "%25");
}

/// Appends `text` with each byte that is not unreserved written as `escape` and two hex digits.
fn encode_with(out: &mut String, text: &str, escape: &str) {
    for &byte in text.as_bytes() {
        if unreserved(byte) {
            out.push(byte as char);
        } else {
            out.push_str(escape);
            out.push(HEX[(byte >> 4) as usize] as char);
            out.push(HEX[(byte & 15) as usize] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_sdks() {
        assert_eq!(percent_encode("my cert*~/证"), "my%20cert%2A~%2F%E8%AF%81");
        assert_eq!(percent_encode("a+b=c&d"), "a%2Bb%3Dc%26d");
        assert_eq!(percent_encode("A-z_0.9~"), "A-z_0.9~");
    }

    #[test]
    fn twice_is_the_encoding_of_the_encoding() {
        for text in ["my cert*~/证", "a+b=c&d", "", "%%", "-----BEGIN\nX\n"] {
            let mut once = String::new();
            encode_twice_into(&mut once, text);
            assert_eq!(once, percent_encode(&percent_encode(text)));
        }
    }
}
