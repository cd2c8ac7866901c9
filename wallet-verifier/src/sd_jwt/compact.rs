//! The compact serialisation (RFC 9901 4): `<JWT>~<disclosure>~...~<KB-JWT or nothing>`.

/// An SD-JWT split at its `~`s. Nothing is decoded yet.
pub(crate) struct Compact<'a> {
    pub jwt: &'a str,
    pub disclosures: Vec<&'a str>,
    /// Empty when the SD-JWT has no key binding.
    pub key_binding: &'a str,
    /// Everything up to and including the last `~`: what a KB-JWT's `sd_hash` covers.
    pub hashed: &'a str,
}

/// Splits strictly: a non-empty JWT, at least one `~`, no empty disclosure (`~~`).
pub(crate) fn split(sd_jwt: &str) -> Option<Compact<'_>> {
    let last = sd_jwt.rfind('~')?;
    let (hashed, key_binding) = sd_jwt.split_at(last + 1);
    let mut parts = hashed[..last].split('~');
    let jwt = parts.next().filter(|j| !j.is_empty())?;
    let disclosures: Vec<&str> = parts.collect();
    if disclosures.iter().any(|d| d.is_empty()) {
        return None;
    }
    Some(Compact {
        jwt,
        disclosures,
        key_binding,
        hashed,
    })
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_strictly() {
        let c = split("a.b.c~d1~d2~k.b.s").expect("presentation");
        assert_eq!(
            (c.jwt, c.disclosures, c.key_binding, c.hashed),
            ("a.b.c", vec!["d1", "d2"], "k.b.s", "a.b.c~d1~d2~")
        );
        let c = split("a.b.c~").expect("no disclosures, no KB");
        assert!(c.disclosures.is_empty() && c.key_binding.is_empty());
        assert!(split("a.b.c").is_none());
        assert!(split("~d~").is_none());
        assert!(split("a.b.c~~d~").is_none());
    }
}
