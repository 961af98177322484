//! User principal names.

use crate::codes::{ErrorCode, RowError};
use crate::text::{clip, is_invisible};

/// Checks a UPN and returns it lower-cased.
pub fn parse_upn(cell: &str) -> Result<String, RowError> {
    let fail = |why: &str| {
        RowError::new(
            ErrorCode::InvalidUpn,
            format!("\"{}\" is not a user principal name: {why}", clip(cell, 80)),
        )
    };
    if let Some(c) = cell.chars().find(|c| c.is_control() || is_invisible(*c)) {
        return Err(fail(&format!(
            "it contains the invisible character U+{:04X} (retype it rather than paste it)",
            c as u32
        )));
    }
    if cell.chars().any(char::is_whitespace) {
        return Err(fail("it contains a space"));
    }
    let Some((name, domain)) = cell.split_once('@') else {
        return Err(fail("it needs the form name@domain"));
    };
    if name.is_empty() || domain.is_empty() || domain.contains('@') {
        return Err(fail("it needs the form name@domain, with one @"));
    }
    if !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err(fail("the domain after @ needs a dot, as in contoso.com"));
    }
    Ok(cell.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_lower_cases() {
        assert_eq!(
            parse_upn("Alice.Smith@Contoso.COM").unwrap(),
            "alice.smith@contoso.com"
        );
        assert_eq!(parse_upn("a@b.co").unwrap(), "a@b.co");
    }

    #[test]
    fn rejects_what_is_not_a_upn() {
        for bad in [
            "alice",
            "@contoso.com",
            "alice@",
            "alice@contoso",
            "alice@.com",
            "alice@contoso.",
            "al ice@contoso.com",
            "alice@@contoso.com",
            "a@b@contoso.com",
            "alice\u{200B}@contoso.com",
            "alice@contoso.com\u{200E}",
            "ali\u{7}ce@contoso.com",
            "alice@contoso..com",
        ] {
            let e = parse_upn(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidUpn, "{bad}");
            assert!(!e.message.contains('\u{200B}') && !e.message.contains('\u{7}'));
        }
    }
}
