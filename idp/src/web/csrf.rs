//! CSRF protection for every form: a random value in an HttpOnly cookie, and in the form the
//! HMAC of that value under a KEK-derived key. A page from another site can read neither.
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub fn token_for(key: &[u8; 32], cookie_value: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"csrf:");
    mac.update(cookie_value.as_bytes());
    base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        mac.finalize().into_bytes(),
    )
}

pub fn verify(key: &[u8; 32], cookie_value: Option<&str>, form_token: Option<&str>) -> bool {
    match (cookie_value, form_token) {
        (Some(c), Some(t)) if !c.is_empty() && c.len() <= 128 => {
            keys::constant_time_eq(token_for(key, c).as_bytes(), t.as_bytes())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_binds_to_cookie() {
        let key = [7u8; 32];
        let t = token_for(&key, "cookie-a");
        assert!(verify(&key, Some("cookie-a"), Some(&t)));
        assert!(!verify(&key, Some("cookie-b"), Some(&t)));
        assert!(!verify(&key, None, Some(&t)));
        assert!(!verify(&key, Some("cookie-a"), None));
    }
}
