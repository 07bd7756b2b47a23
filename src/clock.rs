//! Time as the API shows it: `YYYY-MM-DDThh:mm:ssZ` strings and epoch milliseconds.

use time::OffsetDateTime;
use time::macros::format_description;

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// `2018-11-09T10:59:16Z`: whole seconds, UTC.
pub fn iso8601(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

pub fn unix_ms(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn from_unix_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_the_reference_examples() {
        let at = from_unix_ms(1_541_761_156_000);
        assert_eq!(iso8601(at), "2018-11-09T10:59:16Z");
        assert_eq!(unix_ms(at), 1_541_761_156_000);
        assert_eq!(
            iso8601(from_unix_ms(1_558_161_264_000)),
            "2019-05-18T06:34:24Z"
        );
    }
}
