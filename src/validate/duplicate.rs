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

/// The keys a job being stored may already have had: a Bloom filter of a
/// fixed 2 MiB, so memory does not grow with the file. "Not seen" is certain
/// and spares the row its lookup of the earlier rows in the queue (about a
/// fifth of the time of storing a file); "maybe" is answered by that lookup.
/// With a million keys about one new key in a hundred is a "maybe"; with
/// far more the filter fills up and most rows look up, as without it.
pub struct SeenKeys {
    bits: Vec<u64>,
}

impl SeenKeys {
    const BITS: usize = 1 << 24;

    pub fn new() -> SeenKeys {
        SeenKeys {
            bits: vec![0; Self::BITS / 64],
        }
    }

    /// Records `key`; false when it was certainly not recorded before.
    pub fn insert(&mut self, key: &str) -> bool {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        key.hash(&mut h);
        let h = h.finish();
        let mut seen = true;
        for i in [h as u32 as usize, (h >> 32) as usize] {
            let i = i % Self::BITS;
            let (word, bit) = (i / 64, 1u64 << (i % 64));
            seen &= self.bits[word] & bit != 0;
            self.bits[word] |= bit;
        }
        seen
    }
}

impl Default for SeenKeys {
    fn default() -> SeenKeys {
        SeenKeys::new()
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

    #[test]
    fn a_key_recorded_is_always_seen_again() {
        let mut seen = SeenKeys::new();
        let keys: Vec<String> = (0..200_000).map(|i| format!("+4420{:08}", i * 7)).collect();
        let mut maybe = 0;
        for k in &keys {
            if seen.insert(k) {
                maybe += 1;
            }
        }
        for k in &keys {
            assert!(seen.insert(k), "{k} was recorded");
        }
        // New keys are mostly told apart (the point of the filter).
        assert!(maybe < 2_000, "{maybe} of 200000 new keys looked seen");
    }
}
