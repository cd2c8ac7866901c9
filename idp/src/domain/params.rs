//! Form or query parameters with the rules of RFC 6749 3.1: a parameter sent twice is an error,
//! and an empty value counts as absent.
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct Params {
    values: HashMap<String, String>,
    duplicates: Vec<String>,
    /// More than `MAX_PARAMS` were sent: the request is refused, never silently truncated.
    overflow: bool,
}

/// Requests carry at most this many parameters; more is an attack, not a client.
const MAX_PARAMS: usize = 64;

impl Params {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut params = Params::default();
        let mut seen = std::collections::HashSet::new();
        for (i, (key, value)) in pairs.into_iter().enumerate() {
            if i >= MAX_PARAMS {
                params.overflow = true;
                break;
            }
            if !seen.insert(key.clone()) {
                params.duplicates.push(key);
            } else if !value.is_empty() {
                params.values.insert(key, value);
            }
        }
        params
    }

    /// Parses `application/x-www-form-urlencoded` text (a query string or a form body).
    pub fn parse_urlencoded(text: &[u8]) -> Self {
        Self::from_pairs(
            url::form_urlencoded::parse(text).map(|(k, v)| (k.into_owned(), v.into_owned())),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    pub fn is_duplicated(&self, key: &str) -> bool {
        self.duplicates.iter().any(|d| d == key)
    }

    /// True when the request carried more parameters than any client sends.
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// The first parameter sent more than once, if any.
    pub fn first_duplicate(&self) -> Option<&str> {
        self.duplicates.first().map(String::as_str)
    }

    pub fn insert(&mut self, key: &str, value: &str) {
        self.values.insert(key.to_owned(), value.to_owned());
    }

    pub fn remove(&mut self, key: &str) {
        self.values.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_empty_values() {
        let p = Params::parse_urlencoded(b"a=1&a=2&b=&c=%E4%B8%AD&d=&d=x");
        assert!(p.is_duplicated("a"));
        assert!(p.is_duplicated("d"), "an empty first value still counts");
        let many: String = (0..65).map(|i| format!("k{i}=v&")).collect();
        assert!(Params::parse_urlencoded(many.as_bytes()).overflowed());
        assert!(!Params::parse_urlencoded(b"a=1").overflowed());
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), Some("中"));
    }
}
