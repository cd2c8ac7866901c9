//! The national citizen ID number (公民身份号码, GB 11643-1999): 6-digit region code,
//! 8-digit birth date, 3-digit sequence, and an ISO 7064 MOD 11-2 check character.
//! The number is sensitive: `Debug` and `Display` never print it.
use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("an ID number has 18 characters")]
    Length,
    #[error("the first 17 characters of an ID number are digits, the last a digit or X")]
    Characters,
    #[error("the region code is not a province of China")]
    Region,
    #[error("the birth date in the ID number is not a real date")]
    BirthDate,
    #[error("the check digit does not match: please check the number")]
    CheckDigit,
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// Province-level codes of GB/T 2260 (first two digits).
const PROVINCES: [u32; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// The check character for the first 17 digits.
pub fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

impl IdNumber {
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let normalized = input.trim().to_ascii_uppercase();
        let bytes = normalized.as_bytes();
        if bytes.len() != 18 {
            return Err(IdNumberError::Length);
        }
        let (body, last) = bytes.split_at(17);
        if !body.iter().all(u8::is_ascii_digit) || !(last[0].is_ascii_digit() || last[0] == b'X') {
            return Err(IdNumberError::Characters);
        }
        let province = digits(&bytes[0..2]);
        if !PROVINCES.contains(&province) {
            return Err(IdNumberError::Region);
        }
        let (year, month, day) = (
            digits(&bytes[6..10]),
            digits(&bytes[10..12]),
            digits(&bytes[12..14]),
        );
        if !(1900..=2100).contains(&year) || !is_valid_date(year, month, day) {
            return Err(IdNumberError::BirthDate);
        }
        if check_char(body) != last[0] {
            return Err(IdNumberError::CheckDigit);
        }
        Ok(Self(normalized))
    }

    /// True when the text has the shape of an ID number (so a login form can tell it from a phone).
    pub fn looks_like(input: &str) -> bool {
        let t = input.trim();
        t.len() == 18 && t.chars().take(17).all(|c| c.is_ascii_digit())
    }

    /// GB/T 2260 province code: the home province of the citizen.
    pub fn province_code(&self) -> u32 {
        digits(&self.0.as_bytes()[0..2])
    }

    /// The number itself, for the few places that must release or hash it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({}…)", &self.0[..2])
    }
}

fn digits(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
}

fn is_valid_date(year: u32, month: u32, day: u32) -> bool {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_standard_example_and_lowercase_x() {
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert_eq!(
            IdNumber::parse("11010519491231002x").map(|n| n.province_code()),
            Ok(11)
        );
    }

    #[test]
    fn rejects_each_kind_of_error() {
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::CheckDigit)
        );
        assert_eq!(
            IdNumber::parse("1101051949123100"),
            Err(IdNumberError::Length)
        );
        assert_eq!(
            IdNumber::parse("11010519491231A02X"),
            Err(IdNumberError::Characters)
        );
        assert_eq!(
            IdNumber::parse("99010519491231002X"),
            Err(IdNumberError::Region)
        );
        assert_eq!(
            IdNumber::parse("110105194902300020"),
            Err(IdNumberError::BirthDate)
        );
    }

    #[test]
    fn debug_hides_the_number() {
        let n = IdNumber::parse("11010519491231002X").expect("valid");
        assert!(!format!("{n:?}").contains("19491231"));
    }
}
