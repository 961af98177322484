//! The stable error codes of the contract (SPEC §3), in precedence order.

use std::fmt;

/// A failed row carries exactly one of these: the first, in declaration
/// order, that applies. The order of the variants *is* the precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorCode {
    MalformedRow,
    MissingField,
    InvalidUpn,
    UnknownAction,
    InvalidValue,
    SpreadsheetMangled,
    NotE164,
    InvalidNumber,
    DuplicateInFile,
    UserNotFound,
    UserNotVoiceEnabled,
    NumberNotFound,
    NumberReleased,
    ServiceNumber,
    NumberAssigned,
    NotAssignedToUser,
    UserHasPrimary,
    PlanLimit,
    Cooldown,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::MalformedRow,
        ErrorCode::MissingField,
        ErrorCode::InvalidUpn,
        ErrorCode::UnknownAction,
        ErrorCode::InvalidValue,
        ErrorCode::SpreadsheetMangled,
        ErrorCode::NotE164,
        ErrorCode::InvalidNumber,
        ErrorCode::DuplicateInFile,
        ErrorCode::UserNotFound,
        ErrorCode::UserNotVoiceEnabled,
        ErrorCode::NumberNotFound,
        ErrorCode::NumberReleased,
        ErrorCode::ServiceNumber,
        ErrorCode::NumberAssigned,
        ErrorCode::NotAssignedToUser,
        ErrorCode::UserHasPrimary,
        ErrorCode::PlanLimit,
        ErrorCode::Cooldown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedRow => "MALFORMED_ROW",
            ErrorCode::MissingField => "MISSING_FIELD",
            ErrorCode::InvalidUpn => "INVALID_UPN",
            ErrorCode::UnknownAction => "UNKNOWN_ACTION",
            ErrorCode::InvalidValue => "INVALID_VALUE",
            ErrorCode::SpreadsheetMangled => "SPREADSHEET_MANGLED",
            ErrorCode::NotE164 => "NOT_E164",
            ErrorCode::InvalidNumber => "INVALID_NUMBER",
            ErrorCode::DuplicateInFile => "DUPLICATE_IN_FILE",
            ErrorCode::UserNotFound => "USER_NOT_FOUND",
            ErrorCode::UserNotVoiceEnabled => "USER_NOT_VOICE_ENABLED",
            ErrorCode::NumberNotFound => "NUMBER_NOT_FOUND",
            ErrorCode::NumberReleased => "NUMBER_RELEASED",
            ErrorCode::ServiceNumber => "SERVICE_NUMBER",
            ErrorCode::NumberAssigned => "NUMBER_ASSIGNED",
            ErrorCode::NotAssignedToUser => "NOT_ASSIGNED_TO_USER",
            ErrorCode::UserHasPrimary => "USER_HAS_PRIMARY",
            ErrorCode::PlanLimit => "PLAN_LIMIT",
            ErrorCode::Cooldown => "COOLDOWN",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one row failed: its code and a message an admin can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub code: ErrorCode,
    pub message: String,
}

impl RowError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> RowError {
        RowError {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_keep_the_contract_order() {
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(*c));
            if i > 0 {
                assert!(ErrorCode::ALL[i - 1] < *c);
            }
        }
        assert_eq!(ErrorCode::parse("NOPE"), None);
    }
}
