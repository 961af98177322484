//! TEMPORARY STUB: replaced by the real module.
use crate::codes::{ErrorCode, RowError};
pub use phonenumber::country::Id as Region;

pub fn parse_number(cell: &str, region: Option<Region>) -> Result<String, RowError> {
    let s = cell.trim_start_matches("tel:");
    let s: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    if s.contains('E') || s.contains('e') {
        return Err(RowError::new(ErrorCode::SpreadsheetMangled, "mangled"));
    }
    if !s.starts_with('+') && region.is_none() {
        return Err(RowError::new(
            ErrorCode::NotE164,
            format!("{s} has no leading +"),
        ));
    }
    let n = phonenumber::parse(region, &s)
        .map_err(|_| RowError::new(ErrorCode::InvalidNumber, "bad"))?;
    if !phonenumber::is_valid(&n) {
        return Err(RowError::new(ErrorCode::InvalidNumber, "invalid"));
    }
    Ok(n.format().mode(phonenumber::Mode::E164).to_string())
}

pub fn is_e164_form(s: &str) -> bool {
    s.len() >= 9
        && s.len() <= 16
        && s.starts_with('+')
        && s[1..].bytes().all(|b| b.is_ascii_digit())
}

pub fn parse_region(s: &str) -> Option<Region> {
    s.trim().to_ascii_uppercase().parse().ok()
}
