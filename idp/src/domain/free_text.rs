//! Text a citizen or operator types into a box (a correction's description, a rating's comment,
//! an operator's reason): trimmed, bounded, printable. It is stored as typed and escaped where
//! it is shown; nothing here interprets it.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("empty")]
    Empty,
    #[error("longer than {0} characters")]
    TooLong(usize),
    #[error("contains control characters")]
    Control,
}

/// Required text: 1 to `max` characters after trimming; line breaks and tabs allowed, other
/// control characters not (they hide text from whoever reads it later).
pub fn required(text: &str, max: usize) -> Result<String, TextError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(TextError::Control);
    }
    Ok(text.to_owned())
}

/// Optional text: blank is `None`, anything else as [`required`].
pub fn optional(text: Option<&str>, max: usize) -> Result<Option<String>, TextError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => required(t, max).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_printable() {
        assert_eq!(required("  姓名写错了 \n", 10), Ok("姓名写错了".to_owned()));
        assert_eq!(required("a\nb\tc", 10), Ok("a\nb\tc".to_owned()));
        assert_eq!(required("   ", 10), Err(TextError::Empty));
        assert_eq!(required("一二三四五六", 5), Err(TextError::TooLong(5)));
        assert_eq!(required("一二三四五", 5), Ok("一二三四五".to_owned()));
        assert_eq!(required("a\u{0}b", 10), Err(TextError::Control));
        assert_eq!(required("a\u{1b}[2Jb", 10), Err(TextError::Control));
        assert_eq!(optional(None, 5), Ok(None));
        assert_eq!(optional(Some("  "), 5), Ok(None));
        assert_eq!(optional(Some("好"), 5), Ok(Some("好".to_owned())));
        assert_eq!(optional(Some("\u{7}"), 5), Err(TextError::Control));
    }
}
