//! RFC 3986 percent-encoding as Alibaba signs it: unreserved characters kept, everything else
//! `%XX` with upper-case hex (so a space is `%20`, `*` is `%2A`, and `~` stays).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, RESERVED).to_string()
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
}
