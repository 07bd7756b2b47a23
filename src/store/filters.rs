//! SQL both stores build alike; each engine only says how a value is bound (`?N` or `$N`).

use super::TagFilter;

/// Binds a value and answers the placeholder that names it in SQL.
pub(crate) trait Bind {
    fn bind(&mut self, value: String) -> String;
}

/// SQL requiring the certificate aliased `c` to carry every tag of `filters`.
pub(crate) fn carries_all(filters: &[TagFilter], values: &mut impl Bind) -> String {
    let mut sql = String::new();
    for filter in filters {
        let key = values.bind(filter.key.clone());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM certificate_tags f WHERE f.certificate_id = c.id \
             AND f.tag_key = {key}"
        ));
        if let Some(value) = &filter.value {
            let value = values.bind(value.clone());
            sql.push_str(&format!(" AND f.tag_value = {value}"));
        }
        sql.push(')');
    }
    sql
}

/// The placeholders of `items`, comma-separated, each bound.
pub(crate) fn placeholders(items: &[String], values: &mut impl Bind) -> String {
    let names: Vec<String> = items.iter().map(|item| values.bind(item.clone())).collect();
    names.join(", ")
}

/// The condition of a page of an account's certificate orders (`account_id` bound first).
pub(crate) fn certificate_orders(
    account_id: &str,
    filter: &super::certificate_orders::CertificateOrderFilter,
    values: &mut impl Bind,
) -> String {
    let mut sql = format!("account_id = {}", values.bind(account_id.to_owned()));
    if !filter.statuses.is_empty() {
        let statuses: Vec<String> = filter
            .statuses
            .iter()
            .map(|status| status.as_str().to_owned())
            .collect();
        sql.push_str(&format!(
            " AND status IN ({})",
            placeholders(&statuses, values)
        ));
    }
    // Numbers of ours, written out: the two engines bind integers differently.
    if let Some(from) = filter.not_after_from {
        sql.push_str(&format!(" AND not_after_ms >= {from}"));
    }
    if let Some(until) = filter.not_after_until {
        sql.push_str(&format!(" AND not_after_ms < {until}"));
    }
    if let Some(keyword) = &filter.keyword {
        let escaped = keyword
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = values.bind(format!("%{escaped}%"));
        sql.push_str(&format!(" AND domain LIKE {pattern} ESCAPE '\\'"));
    }
    sql
}

/// `LIMIT … OFFSET …` of a 1-based page (numbers, not bound: both are ours, and bounded).
pub(crate) fn page(page: u64, page_size: u64) -> String {
    let offset = page.saturating_sub(1).saturating_mul(page_size);
    format!(" LIMIT {page_size} OFFSET {offset}")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Numbered(Vec<String>);

    impl Bind for Numbered {
        fn bind(&mut self, value: String) -> String {
            self.0.push(value);
            format!("${}", self.0.len())
        }
    }

    #[test]
    fn every_tag_is_required_and_a_value_only_when_given() {
        let mut values = Numbered(vec!["account".into()]);
        let filters = [
            TagFilter {
                key: "env".into(),
                value: Some("prod".into()),
            },
            TagFilter {
                key: "team".into(),
                value: None,
            },
        ];
        let sql = carries_all(&filters, &mut values);
        assert_eq!(sql.matches("AND EXISTS").count(), 2);
        assert!(sql.contains("f.tag_key = $2 AND f.tag_value = $3)"));
        assert!(sql.contains("f.tag_key = $4)"));
        assert_eq!(values.0, ["account", "env", "prod", "team"]);
        let ids = placeholders(&["a".into(), "b".into()], &mut values);
        assert_eq!(ids, "$5, $6");
    }
}
