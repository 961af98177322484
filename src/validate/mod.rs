//! Row-local checks (SPEC §3, MALFORMED_ROW through INVALID_NUMBER): a raw
//! row becomes an `Op` or a `RowError`. Pure and parallel: batches are
//! validated with rayon, several at a time. DUPLICATE_IN_FILE needs the earlier rows and lives
//! in `duplicate`, called by the queue in file order.

pub mod duplicate;
pub mod phone;
pub mod upn;

use crate::codes::{ErrorCode, RowError};
use crate::model::{Action, Column, Kind, NumberType, Op, Plan, parse_bool};
use crate::read::{Layout, MAX_CELL_BYTES, RawRow, clean};
use crate::text::clip;
use phone::Region;
use rayon::prelude::*;

/// How many batches are validated together. One batch of 500 rows is about
/// 0.3 ms of work: less than it takes rayon to wake a second thread, which
/// then got 5% of the rows. Validation alone on 2 threads, 1M rows, against
/// 1 thread: one batch at a time ~1.1x, 8 ~1.5x, 16 ~1.75x, 32 ~1.8x. The
/// price is the rows in flight: about 10 MiB at 32 (peak RSS of a 1M-row
/// run 85 -> 96 MiB), the same for any file size.
pub const TOGETHER: usize = 32;

/// Validates several batches in one parallel pass, each in its order, and
/// hands each row with its result to `keep`, on the worker thread that
/// checked it: what `keep` makes of a row costs no serial time after the
/// pass. The batches and the rows inside each are split between the
/// threads as rayon sees fit, and each batch's results are collected where
/// they are made: no serial step before or after. (The batches flattened
/// into one list, and the results cut back into batches after, gave a
/// median of 1.67x on 2 threads against 1.80x, twelve alternated runs of
/// the validate bench each.)
pub fn batches<T, F>(
    layout: &Layout,
    batches: Vec<Vec<RawRow>>,
    region: Option<Region>,
    keep: F,
) -> Vec<Vec<T>>
where
    T: Send,
    F: Fn(RawRow, Result<Op, RowError>) -> T + Sync,
{
    batches
        .into_par_iter()
        .map(|batch| {
            batch
                .into_par_iter()
                .with_min_len(64)
                .map(|raw| {
                    let checked = row(layout, &raw, region);
                    keep(raw, checked)
                })
                .collect()
        })
        .collect()
}

/// The row-local checks of one row, in the contract's order.
pub fn row(layout: &Layout, raw: &RawRow, region: Option<Region>) -> Result<Op, RowError> {
    if raw.cells.len() != layout.width() {
        return Err(RowError::new(
            ErrorCode::MalformedRow,
            format!(
                "the row has {} cells but the header has {}: check for a missing cell or an unquoted delimiter inside a cell",
                raw.cells.len(),
                layout.width()
            ),
        ));
    }
    if let Some((i, cell)) = raw
        .cells
        .iter()
        .enumerate()
        .find(|(_, c)| c.len() > MAX_CELL_BYTES)
    {
        return Err(RowError::new(
            ErrorCode::MalformedRow,
            format!(
                "cell {} is absurdly long ({} bytes; at most {MAX_CELL_BYTES}): check that the file is the right one",
                i + 1,
                cell.len()
            ),
        ));
    }
    let cell = |c: Column| layout.position(c).map_or("", |i| clean(&raw.cells[i]));
    let kind = layout.kind;
    let action_cell = cell(Column::Action);

    // MISSING_FIELD: the UPN may be empty only on an unassign.
    let upn_cell = cell(Column::Upn);
    let number_cell = cell(Column::Phone);
    let needs_upn = match kind {
        Kind::Assignments => !action_cell.eq_ignore_ascii_case("unassign"),
        Kind::Users => true,
        Kind::Numbers => false,
    };
    if needs_upn && upn_cell.is_empty() {
        return Err(missing(Column::Upn, "fill in the user's UPN (name@domain)"));
    }
    if kind != Kind::Users && number_cell.is_empty() {
        return Err(missing(
            Column::Phone,
            "fill in the number in E.164, e.g. +442079460018",
        ));
    }
    let upn = if upn_cell.is_empty() {
        None
    } else {
        Some(upn::parse_upn(upn_cell)?)
    };
    let action = parse_action(kind, action_cell)?;

    match kind {
        Kind::Assignments => {
            let number = phone::parse_number(number_cell, region)?;
            Ok(Op::Assignment {
                action,
                upn,
                number,
            })
        }
        Kind::Users => {
            let plan = optional(cell(Column::Plan), Plan::parse, || {
                format!(
                    "Plan \"{}\" is not a plan: use Connect, Advanced or Max (empty keeps the current plan)",
                    clip(cell(Column::Plan), 40)
                )
            })?;
            let voice_enabled = optional(cell(Column::VoiceEnabled), parse_bool, || {
                format!(
                    "VoiceEnabled \"{}\" is not a yes/no value: use true or false (yes/no, y/n, 1/0 also work)",
                    clip(cell(Column::VoiceEnabled), 40)
                )
            })?;
            let display = cell(Column::DisplayName);
            // Control characters (an escape sequence, a NUL) have no place in
            // a name and could reach a terminal or a spreadsheet through it;
            // line breaks of a multi-line cell are the admin's to keep.
            if display
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                return Err(RowError::new(
                    ErrorCode::InvalidValue,
                    format!(
                        "DisplayName \"{}\" contains a control character: retype it",
                        clip(display, 40)
                    ),
                ));
            }
            Ok(Op::User {
                action,
                upn: upn.unwrap_or_default(),
                display_name: (!display.is_empty()).then(|| display.to_string()),
                plan,
                voice_enabled,
            })
        }
        Kind::Numbers => {
            let number_type = optional(cell(Column::NumberType), NumberType::parse, || {
                format!(
                    "NumberType \"{}\" is not a number type: use subscriber or service",
                    clip(cell(Column::NumberType), 40)
                )
            })?;
            let number = phone::parse_number(number_cell, region)?;
            Ok(Op::Number {
                action,
                number,
                number_type,
            })
        }
    }
}

fn missing(column: Column, what: &str) -> RowError {
    RowError::new(
        ErrorCode::MissingField,
        format!("{} is empty: {what}", column.name()),
    )
}

/// An empty cell is `None`; a value that does not parse is INVALID_VALUE.
fn optional<T>(
    cell: &str,
    parse: impl Fn(&str) -> Option<T>,
    message: impl Fn() -> String,
) -> Result<Option<T>, RowError> {
    if cell.is_empty() {
        return Ok(None);
    }
    parse(cell)
        .map(Some)
        .ok_or_else(|| RowError::new(ErrorCode::InvalidValue, message()))
}

/// The action of a row: empty means the kind's first action.
pub fn parse_action(kind: Kind, cell: &str) -> Result<Action, RowError> {
    let actions = kind.actions();
    if cell.is_empty() {
        return Ok(actions[0]);
    }
    if let Some(a) = actions
        .iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(cell))
    {
        return Ok(*a);
    }
    let names: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
    let lower = cell.to_lowercase();
    let nearest = names
        .iter()
        .map(|n| (strsim::levenshtein(&lower, n), *n))
        .min()
        .filter(|(d, _)| *d <= 2)
        .map(|(_, n)| format!("did you mean {n}? "))
        .unwrap_or_default();
    Err(RowError::new(
        ErrorCode::UnknownAction,
        format!(
            "\"{}\" is not an action for {kind} files: {nearest}use {} (empty means {})",
            clip(cell, 40),
            names.join(", "),
            names[0]
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::header::resolve;

    fn layout(header: &str) -> Layout {
        let cells: Vec<String> = header.split(',').map(str::to_string).collect();
        resolve(&cells, None).unwrap()
    }

    fn check(header: &str, cells: &[&str]) -> Result<Op, RowError> {
        let raw = RawRow {
            row: 2,
            cells: cells.iter().map(|s| s.to_string()).collect(),
        };
        row(&layout(header), &raw, None)
    }

    fn code(header: &str, cells: &[&str]) -> ErrorCode {
        check(header, cells).unwrap_err().code
    }

    const A: &str = "UserPrincipalName,PhoneNumber,Action";
    const U: &str = "UserPrincipalName,DisplayName,Plan,VoiceEnabled,Action";
    const N: &str = "PhoneNumber,NumberType,Action";

    #[test]
    fn batches_validated_together_come_back_each_in_its_order() {
        let layout = layout(A);
        let raw = |i: u64| RawRow {
            row: i,
            cells: vec![
                format!("user{i}@contoso.com"),
                if i.is_multiple_of(3) {
                    "not a number".into()
                } else {
                    format!("+4420794600{:02}", i % 100)
                },
                "add".into(),
            ],
        };
        let sizes = [3usize, 0, 500, 1, 70];
        let mut next = 2;
        let group: Vec<Vec<RawRow>> = sizes
            .iter()
            .map(|&n| {
                let b: Vec<RawRow> = (next..next + n as u64).map(raw).collect();
                next += n as u64;
                b
            })
            .collect();
        let checked = batches(&layout, group.clone(), None, |raw, r| (raw.row, r));
        assert_eq!(checked.iter().map(Vec::len).collect::<Vec<_>>(), sizes);
        for (batch, results) in group.iter().zip(&checked) {
            for (raw, (n, result)) in batch.iter().zip(results) {
                assert_eq!(*n, raw.row);
                assert_eq!(result, &row(&layout, raw, None), "row {}", raw.row);
            }
        }
    }

    #[test]
    fn a_good_assignment_row_is_normalised() {
        let op = check(A, &[" Alice@Contoso.com ", "'+44 20 7946 0018", ""]).unwrap();
        assert_eq!(
            op,
            Op::Assignment {
                action: Action::Assign,
                upn: Some("alice@contoso.com".into()),
                number: "+442079460018".into()
            }
        );
        let op = check(A, &["", "+442079460018", "UNASSIGN"]).unwrap();
        assert_eq!(op.upn(), None);
        assert_eq!(op.action(), Action::Unassign);
    }

    #[test]
    fn each_row_local_code_in_order() {
        assert_eq!(
            code(A, &["a@b.com", "+442079460018"]),
            ErrorCode::MalformedRow
        );
        let long = "x".repeat(MAX_CELL_BYTES + 1);
        assert_eq!(
            code(A, &["a@b.com", "+442079460018", &long]),
            ErrorCode::MalformedRow
        );
        assert_eq!(
            code(A, &["", "+442079460018", "assign"]),
            ErrorCode::MissingField
        );
        assert_eq!(
            code(A, &["a@b.com", " ", "assign"]),
            ErrorCode::MissingField
        );
        assert_eq!(
            code(A, &["not-a-upn", "+442079460018", "bogus"]),
            ErrorCode::InvalidUpn
        );
        assert_eq!(
            code(A, &["a@b.com", "junk", "asign"]),
            ErrorCode::UnknownAction
        );
        assert_eq!(
            code(A, &["a@b.com", "4.47700900123E+11", ""]),
            ErrorCode::SpreadsheetMangled
        );
        assert_eq!(
            code(A, &["a@b.com", "447700900123", ""]),
            ErrorCode::NotE164
        );
        assert_eq!(code(A, &["a@b.com", "+4412", ""]), ErrorCode::InvalidNumber);
        assert_eq!(
            code(U, &["a@b.com", "A", "Gold", "", ""]),
            ErrorCode::InvalidValue
        );
        assert_eq!(
            code(U, &["a@b.com", "A", "", "perhaps", ""]),
            ErrorCode::InvalidValue
        );
        assert_eq!(
            code(N, &["+442079460018", "mobile", ""]),
            ErrorCode::InvalidValue
        );
        assert_eq!(
            code(N, &["+442079460018", "", "delete"]),
            ErrorCode::UnknownAction
        );
    }

    #[test]
    fn unknown_action_suggests_the_nearest() {
        let e = check(A, &["a@b.com", "+442079460018", "asign"]).unwrap_err();
        assert!(e.message.contains("did you mean assign?"), "{}", e.message);
    }

    #[test]
    fn users_rows_keep_empty_cells_empty() {
        let op = check(U, &["Bob@Contoso.com", "", "max", "", "upsert"]).unwrap();
        assert_eq!(
            op,
            Op::User {
                action: Action::Upsert,
                upn: "bob@contoso.com".into(),
                display_name: None,
                plan: Some(Plan::Max),
                voice_enabled: None
            }
        );
    }
}
