//! The unified social credit code of an organisation (统一社会信用代码, GB 32100-2015): 18
//! characters from a 31-letter alphabet (no I, O, S, V, Z), a GB/T 2260 region in positions 3-8,
//! and a check character (modulus 31, weights 3^(i-1) mod 31).

/// The code alphabet, in the order of its values 0..=30.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A well-formed unified social credit code (upper case).
#[derive(Clone, PartialEq, Eq)]
pub struct CreditCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("a unified social credit code has 18 characters")]
    Length,
    #[error(
        "a unified social credit code uses only digits and the letters A-Y without I, O, S, V, Z"
    )]
    Alphabet,
    #[error("positions 3 to 8 of a unified social credit code are a region code (digits)")]
    Region,
    #[error("the check character of the unified social credit code does not match")]
    Check,
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|v| v as u32)
}

/// The check character for the first 17 characters (which must be in the alphabet).
pub fn check_char(first17: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    Some(ALPHABET[((31 - sum % 31) % 31) as usize])
}

impl CreditCode {
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let code = input.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        if bytes.len() != 18 {
            return Err(CreditCodeError::Length);
        }
        if bytes.iter().any(|c| value(*c).is_none()) {
            return Err(CreditCodeError::Alphabet);
        }
        if !bytes[2..8].iter().all(u8::is_ascii_digit) {
            return Err(CreditCodeError::Region);
        }
        if check_char(&bytes[..17]) != Some(bytes[17]) {
            return Err(CreditCodeError::Check);
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A company's code is public (it is printed on the licence), but keep logs uniform anyway.
impl std::fmt::Debug for CreditCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CreditCode({}…)", &self.0[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_are_accepted() {
        // Codes printed on the public business licences of two well-known companies.
        for code in ["91330100799655058B", "9144030071526726XG"] {
            assert!(CreditCode::parse(code).is_ok(), "{code}");
        }
        assert_eq!(
            CreditCode::parse(" 91330100799655058b ").map(|c| c.as_str().to_owned()),
            Ok("91330100799655058B".to_owned())
        );
    }

    #[test]
    fn every_wrong_check_character_is_refused() {
        let good = "91330100799655058B";
        for c in ALPHABET.iter().filter(|&&c| c != b'B') {
            let bad = format!("{}{}", &good[..17], *c as char);
            assert_eq!(
                CreditCode::parse(&bad),
                Err(CreditCodeError::Check),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_single_changed_character_is_detected() {
        let good = b"91330100799655058B";
        for i in 0..17 {
            for &c in ALPHABET.iter().filter(|&&c| c != good[i]) {
                let mut bad = good.to_vec();
                bad[i] = c;
                let bad = String::from_utf8(bad).expect("ascii");
                assert!(CreditCode::parse(&bad).is_err(), "{bad}");
            }
        }
    }

    #[test]
    fn malformed_codes_say_what_is_wrong() {
        assert_eq!(
            CreditCode::parse("9133010079965505"),
            Err(CreditCodeError::Length)
        );
        assert_eq!(
            CreditCode::parse("91330100799655058I"),
            Err(CreditCodeError::Alphabet)
        );
        assert_eq!(
            CreditCode::parse("91A30100799655058B"),
            Err(CreditCodeError::Region)
        );
        assert_eq!(
            CreditCode::parse("９１330100799655058B"),
            Err(CreditCodeError::Length)
        );
    }
}
