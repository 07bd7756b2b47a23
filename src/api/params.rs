//! RPC parameters: the query string and an `application/x-www-form-urlencoded` body, merged.

use super::error::ApiError;

/// Decoded parameters, kept apart by origin: V1 signs all of them, V3 only the query.
#[derive(Debug, Default)]
pub struct RpcParams {
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
}

impl RpcParams {
    /// Decodes with form semantics (`+` is a space, `%XX` is UTF-8), as every SDK encodes.
    pub fn parse(query: &str, body: &[u8], content_type: Option<&str>) -> Result<Self, ApiError> {
        let query: Vec<_> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let form = if body.is_empty() {
            Vec::new()
        } else if content_type.is_none_or(is_form) {
            form_urlencoded::parse(body).into_owned().collect()
        } else {
            return Err(ApiError::InvalidParameter(format!(
                "The request body must be application/x-www-form-urlencoded, not {}.",
                content_type.unwrap_or_default()
            )));
        };
        let params = RpcParams { query, form };
        params.refuse_duplicates()?;
        Ok(params)
    }

    fn refuse_duplicates(&self) -> Result<(), ApiError> {
        let mut names: Vec<&str> = self.all().map(|(name, _)| name.as_str()).collect();
        names.sort_unstable();
        match names.windows(2).find(|pair| pair[0] == pair[1]) {
            Some(pair) => Err(ApiError::InvalidParameter(format!(
                "The parameter {} is given more than once.",
                pair[0]
            ))),
            None => Ok(()),
        }
    }

    /// Every parameter received, query first.
    pub fn all(&self) -> impl Iterator<Item = &(String, String)> {
        self.query.iter().chain(self.form.iter())
    }

    /// The query-string parameters only.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.all()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A parameter's value, treating an empty one as absent (go-sdk drops empty parameters, so
    /// the two must mean the same).
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.is_empty())
    }

    /// A mandatory parameter: absent or empty answers `Missing<Name>`.
    pub fn required(&self, name: &'static str) -> Result<&str, ApiError> {
        self.non_empty(name).ok_or(ApiError::MissingParameter(name))
    }

    /// The first non-empty parameter whose name starts with `prefix` (e.g. `Tag.`).
    pub fn first_with_prefix(&self, prefix: &str) -> Option<&str> {
        self.all()
            .find(|(key, value)| key.starts_with(prefix) && !value.is_empty())
            .map(|(key, _)| key.as_str())
    }
}

impl Drop for RpcParams {
    /// Parameters carry private keys (PEM in the URL or body): wipe them once handled.
    fn drop(&mut self) {
        for (_, value) in self.query.iter_mut().chain(self.form.iter_mut()) {
            zeroize::Zeroize::zeroize(value);
        }
    }
}

fn is_form(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|media| {
        media
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_query_and_form_with_form_semantics() {
        let params = RpcParams::parse(
            "Action=X&Name=a+b%2Bc",
            b"RegionId=cn-hangzhou&Key=%E8%AF%81",
            Some("application/x-www-form-urlencoded; charset=utf-8"),
        )
        .unwrap();
        assert_eq!(params.get("Name"), Some("a b+c"));
        assert_eq!(params.get("RegionId"), Some("cn-hangzhou"));
        assert_eq!(params.get("Key"), Some("证"));
        assert_eq!(params.query().len(), 2);
        assert_eq!(params.all().count(), 4);
    }

    #[test]
    fn empty_values_count_as_absent_where_mandatory() {
        let params = RpcParams::parse("SignatureType=&RegionId=", b"", None).unwrap();
        assert_eq!(params.get("SignatureType"), Some(""));
        assert_eq!(
            params.required("RegionId").unwrap_err(),
            ApiError::MissingParameter("RegionId")
        );
    }

    #[test]
    fn refuses_duplicates_and_foreign_bodies() {
        let error = RpcParams::parse("A=1", b"A=2", None).unwrap_err();
        assert!(error.message().contains("A is given more than once"));
        let error = RpcParams::parse("", b"{}", Some("application/json")).unwrap_err();
        assert_eq!(error.code(), "InvalidParameter");
    }

    #[test]
    fn finds_list_parameters_by_prefix() {
        let params = RpcParams::parse("Tag.1.Key=k&Tag.1.Value=v", b"", None).unwrap();
        assert_eq!(params.first_with_prefix("Tag."), Some("Tag.1.Key"));
        assert_eq!(params.first_with_prefix("ResourceId."), None);
    }
}
