//! DUPLICATE_IN_FILE (SPEC §3): read the file top down, skipping rows that
//! failed a check above it. The queue finds the earlier rows; these rules
//! decide.

use crate::codes::{ErrorCode, RowError};
use crate::model::{Action, Op};

/// The last earlier row of an assignments file that names the same number
/// and passed the checks: its action and user.
pub struct Earlier<'a> {
    pub row: u64,
    pub action: Action,
    pub upn: Option<&'a str>,
}

/// An `assign`, `add` or `swap` that gives a number the earlier rows left
/// given to a different user.
pub fn assignment(op: &Op, earlier: Option<Earlier<'_>>) -> Result<(), RowError> {
    let Op::Assignment {
        action,
        upn: Some(upn),
        number,
    } = op
    else {
        return Ok(());
    };
    if !matches!(action, Action::Assign | Action::Add | Action::Swap) {
        return Ok(());
    }
    match earlier {
        Some(e) if e.action.gives() && e.upn.is_some_and(|u| u != upn) => Err(RowError::new(
            ErrorCode::DuplicateInFile,
            format!(
                "Number {number} is already given to {} by row {} of this file; use Action reassign to move it on purpose, or remove one of the rows",
                e.upn.unwrap_or_default(),
                e.row
            ),
        )),
        _ => Ok(()),
    }
}

/// In a users or numbers file: an earlier row names the same user or number
/// with a different action. `earlier` is that row's number and action.
pub fn other(op: &Op, earlier: Option<(u64, Action)>) -> Result<(), RowError> {
    match earlier {
        Some((row, action)) if action != op.action() => Err(RowError::new(
            ErrorCode::DuplicateInFile,
            format!(
                "{} {} already has the action {action} on row {row} of this file; keep one of the two rows (or put them in two files, run in order)",
                if matches!(op, Op::User { .. }) {
                    "User"
                } else {
                    "Number"
                },
                op.key()
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn give(action: Action, upn: &str) -> Op {
        Op::Assignment {
            action,
            upn: Some(upn.into()),
            number: "+442079460018".into(),
        }
    }

    #[test]
    fn giving_to_another_user_is_a_duplicate() {
        let earlier = || {
            Some(Earlier {
                row: 2,
                action: Action::Assign,
                upn: Some("bob@c.com"),
            })
        };
        let e = assignment(&give(Action::Add, "alice@c.com"), earlier()).unwrap_err();
        assert_eq!(e.code, ErrorCode::DuplicateInFile);
        assert!(e.message.contains("row 2"));
        assert!(assignment(&give(Action::Swap, "alice@c.com"), earlier()).is_err());
        // Same user: identical in effect, not a duplicate.
        assert!(assignment(&give(Action::Assign, "bob@c.com"), earlier()).is_ok());
        // Reassign moves on purpose.
        assert!(assignment(&give(Action::Reassign, "alice@c.com"), earlier()).is_ok());
    }

    #[test]
    fn an_unassign_in_between_frees_the_number() {
        let earlier = Earlier {
            row: 3,
            action: Action::Unassign,
            upn: Some("bob@c.com"),
        };
        assert!(assignment(&give(Action::Assign, "alice@c.com"), Some(earlier)).is_ok());
        assert!(assignment(&give(Action::Assign, "alice@c.com"), None).is_ok());
    }

    #[test]
    fn users_and_numbers_files_compare_actions() {
        let op = Op::Number {
            action: Action::Release,
            number: "+4420".into(),
            number_type: None,
        };
        assert!(other(&op, Some((2, Action::Add))).is_err());
        assert!(other(&op, Some((2, Action::Release))).is_ok());
        assert!(other(&op, None).is_ok());
    }
}
