//! The header row: which kind of file this is and which column is which.

use crate::model::{Column, Kind};
use crate::text::clip;

/// Report columns: ignored on input so a report can be handed back in.
const REPORT_COLUMNS: [&str; 5] = ["row", "errorcode", "error", "outcome", "detail"];

/// What one input column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Column(Column),
    /// A report column or a column with an empty header: its cells are ignored.
    Ignored,
}

/// How the input's columns map onto the template of its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub kind: Kind,
    pub slots: Vec<Slot>,
    /// For each template column (in the template's order), the input column holding it.
    pub source: Vec<Option<usize>>,
}

impl Layout {
    /// The input position of `column`, if the file has it.
    pub fn position(&self, column: Column) -> Option<usize> {
        let t = self.kind.columns().iter().position(|c| *c == column)?;
        self.source[t]
    }

    pub fn width(&self) -> usize {
        self.slots.len()
    }
}

/// Lower case, without spaces, `_` and `-`.
pub fn normalise(name: &str) -> String {
    let name = name.trim().trim_start_matches('\u{FEFF}');
    // The spreadsheet's text marker, as on any cell.
    name.strip_prefix('\'')
        .unwrap_or(name)
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn lookup(normalised: &str) -> Option<Slot> {
    if normalised.is_empty() || REPORT_COLUMNS.contains(&normalised) {
        return Some(Slot::Ignored);
    }
    Column::ALL
        .into_iter()
        .find(|c| c.aliases().contains(&normalised))
        .map(Slot::Column)
}

/// The known column name nearest to an unknown one, and whether it is near
/// enough to be what the admin meant. A known name (or alias of four letters
/// or more) that holds the unknown one or is held in it is near (`Phone`,
/// `Type`, `MobileNumber`); otherwise the spelling decides (Jaro-Winkler,
/// which forgives typos and favours a shared start).
fn suggest(normalised: &str) -> (&'static str, bool) {
    let n = normalised.chars().count();
    let mut best = (0.0, usize::MAX, Column::ALL[0].name());
    for column in Column::ALL {
        for alias in column.aliases() {
            // Part of a name, or a name with a word or two around it (not
            // a sentence that happens to hold one).
            let holds = alias.len() >= 4
                && n >= 3
                && (alias.contains(normalised)
                    || (n <= 2 * alias.len() && normalised.contains(alias)));
            let score = if holds {
                1.0
            } else {
                strsim::jaro_winkler(normalised, alias)
            };
            // Of two names equally near, the one of the closer length.
            let apart = alias.len().abs_diff(n);
            if score > best.0 || (score == best.0 && apart < best.1) {
                best = (score, apart, column.name());
            }
        }
    }
    (best.2, best.0 >= NEAR)
}

/// How alike (Jaro-Winkler) an unknown column name must be to a known one
/// to be offered as "did you mean": one or two typos in a name.
const NEAR: f64 = 0.85;

/// Reads the header cells into a layout, or says what is wrong with them.
/// `forced` is `--kind`.
pub fn resolve(cells: &[String], forced: Option<Kind>) -> Result<Layout, String> {
    let mut slots = Vec::with_capacity(cells.len());
    for cell in cells {
        let shown = clip(cell.trim(), 60);
        let norm = normalise(cell);
        match lookup(&norm) {
            Some(slot) => slots.push(slot),
            None => {
                let hint = match suggest(&norm) {
                    (name, true) => format!("did you mean {name}?"),
                    (name, false) => {
                        format!("remove it or rename it (the nearest known column is {name})")
                    }
                };
                return Err(format!(
                    "unknown column \"{shown}\": {hint} (the columns are those of the templates: `numbatch template assignments|users|numbers`)"
                ));
            }
        }
    }
    let present: Vec<Column> = slots
        .iter()
        .filter_map(|s| match s {
            Slot::Column(c) => Some(*c),
            Slot::Ignored => None,
        })
        .collect();
    for (i, c) in present.iter().enumerate() {
        if present[..i].contains(c) {
            return Err(format!(
                "column {} appears twice: keep one of them",
                c.name()
            ));
        }
    }
    let has = |c: Column| present.contains(&c);
    let kind = match forced {
        Some(k) => k,
        None if has(Column::DisplayName) || has(Column::Plan) || has(Column::VoiceEnabled) => {
            Kind::Users
        }
        None if has(Column::NumberType) => Kind::Numbers,
        None if has(Column::Upn) && has(Column::Phone) => Kind::Assignments,
        None if has(Column::Phone) => Kind::Numbers,
        None if has(Column::Upn) => Kind::Users,
        None => {
            return Err(
                "cannot tell what kind of file this is: the header has none of the columns UserPrincipalName or PhoneNumber (start from `numbatch template KIND`)"
                    .to_string(),
            );
        }
    };
    let columns = kind.columns();
    if let Some(c) = present.iter().find(|c| !columns.contains(c)) {
        let names: Vec<&str> = columns.iter().map(|c| c.name()).collect();
        return Err(format!(
            "column {} does not belong in a {kind} file (its columns are {}): remove it, or split the file",
            c.name(),
            names.join(", ")
        ));
    }
    let required: &[Column] = match kind {
        Kind::Assignments => &[Column::Upn, Column::Phone],
        Kind::Users => &[Column::Upn],
        Kind::Numbers => &[Column::Phone],
    };
    if let Some(c) = required.iter().find(|c| !has(**c)) {
        return Err(format!(
            "missing column {}: a {kind} file needs it (see `numbatch template {kind}`)",
            c.name()
        ));
    }
    let source = columns
        .iter()
        .map(|c| slots.iter().position(|s| *s == Slot::Column(*c)))
        .collect();
    Ok(Layout {
        kind,
        slots,
        source,
    })
}

impl Layout {
    /// A row's cells in the template's columns, as written (an absurdly long
    /// cell is clipped: it is reported, not kept). The cells are moved, not
    /// copied.
    pub fn template_cells(&self, mut cells: Vec<String>) -> Vec<String> {
        let in_order = self.source.iter().enumerate().all(|(i, s)| *s == Some(i));
        let mut out = if in_order {
            // A file in the template's own columns: its cells as they are.
            cells.resize_with(self.source.len(), String::new);
            cells
        } else {
            self.source
                .iter()
                .map(|src| {
                    src.and_then(|i| cells.get_mut(i))
                        .map(std::mem::take)
                        .unwrap_or_default()
                })
                .collect()
        };
        for cell in &mut out {
            if cell.len() > crate::read::MAX_CELL_BYTES {
                let mut end = crate::read::MAX_CELL_BYTES;
                while !cell.is_char_boundary(end) {
                    end -= 1;
                }
                cell.truncate(end);
            }
        }
        out
    }

    /// The layout of a file written in the template's own columns.
    pub fn template(kind: Kind) -> Layout {
        let n = kind.columns().len();
        Layout {
            kind,
            slots: kind.columns().iter().map(|c| Slot::Column(*c)).collect(),
            source: (0..n).map(Some).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> Vec<String> {
        s.split(',').map(str::to_string).collect()
    }

    #[test]
    fn recognises_each_kind_and_aliases() {
        let l = resolve(&header("UPN,DDI,Action"), None).unwrap();
        assert_eq!(l.kind, Kind::Assignments);
        let l = resolve(&header(" user_principal-name ,Telephone Number"), None).unwrap();
        assert_eq!(l.kind, Kind::Assignments);
        assert_eq!(l.position(Column::Action), None);
        let l = resolve(&header("Email,Display Name,PLAN,voice_enabled"), None).unwrap();
        assert_eq!(l.kind, Kind::Users);
        let l = resolve(&header("Number,NumberType"), None).unwrap();
        assert_eq!(l.kind, Kind::Numbers);
        let l = resolve(&header("PhoneNumber"), None).unwrap();
        assert_eq!(l.kind, Kind::Numbers);
    }

    #[test]
    fn report_columns_are_ignored_and_order_is_free() {
        let l = resolve(
            &header("Action,PhoneNumber,UserPrincipalName,Row,ErrorCode,Error"),
            None,
        )
        .unwrap();
        assert_eq!(l.kind, Kind::Assignments);
        assert_eq!(l.source, vec![Some(2), Some(1), Some(0)]);
        assert_eq!(l.slots[3], Slot::Ignored);
    }

    #[test]
    fn template_cells_follow_the_template_in_any_layout() {
        let cells = |s: &str| header(s);
        let long = "é".repeat(crate::read::MAX_CELL_BYTES); // 2 bytes a char
        // In the template's order: the cells themselves, padded or cut to
        // the template's width.
        let l = resolve(&header("UserPrincipalName,PhoneNumber,Action"), None).unwrap();
        assert_eq!(l.template_cells(cells("a,b,c")), cells("a,b,c"));
        assert_eq!(l.template_cells(cells("a")), cells("a,,"));
        assert_eq!(l.template_cells(cells("a,b,c,d")), cells("a,b,c"));
        // In another order, with report columns and a column missing.
        let l = resolve(&header("Row,PhoneNumber,UserPrincipalName"), None).unwrap();
        assert_eq!(l.template_cells(cells("7,+44,u@x")), cells("u@x,+44,"));
        assert_eq!(l.template_cells(cells("7")), cells(",,"));
        // A cell over the limit is clipped on a character boundary.
        let clipped = l.template_cells(vec![String::new(), long.clone(), "u".into()]);
        assert_eq!(clipped[1].len(), crate::read::MAX_CELL_BYTES);
        assert!(long.starts_with(&clipped[1]));
        let l = resolve(&header("UserPrincipalName,PhoneNumber,Action"), None).unwrap();
        let clipped = l.template_cells(vec![format!("x{long}"), "b".into(), "c".into()]);
        assert_eq!(clipped[0].len(), crate::read::MAX_CELL_BYTES - 1);
        assert_eq!(&clipped[1..], &cells("b,c")[..]);
    }

    #[test]
    fn unknown_column_suggests_the_nearest() {
        let e = resolve(&header("UserPrincipalName,PhoneNmber"), None).unwrap_err();
        assert!(e.contains("\"PhoneNmber\""), "{e}");
        assert!(e.contains("did you mean PhoneNumber?"), "{e}");
        let e = resolve(&header("UPN,Number,Colour"), None).unwrap_err();
        assert!(e.contains("unknown column \"Colour\""), "{e}");
        assert!(
            e.contains("remove it or rename it (the nearest known column is "),
            "{e}"
        );
        // Part of a name, or a name inside a longer one, is what was meant.
        for (unknown, meant) in [
            ("UPN,Phone", "PhoneNumber"),
            ("Number,Type", "NumberType"),
            ("UPN,Mobile Number", "PhoneNumber"),
            ("UPN,Voice", "VoiceEnabled"),
            ("UPN,Name", "DisplayName"),
            ("UserPrincipleName,Number", "UserPrincipalName"),
            ("UPN,Number,Acton", "Action"),
        ] {
            let e = resolve(&header(unknown), None).unwrap_err();
            assert!(
                e.contains(&format!("did you mean {meant}?")),
                "{unknown}: {e}"
            );
        }
        // A short alias is not taken for a near miss of a longer word.
        let e = resolve(&header("Number,Kind"), None).unwrap_err();
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn a_text_marker_before_a_column_name_is_ignored() {
        let l = resolve(&header("'UserPrincipalName,'PhoneNumber,'Action"), None).unwrap();
        assert_eq!(l.kind, Kind::Assignments);
        assert_eq!(l.position(Column::Phone), Some(1));
    }

    #[test]
    fn wrong_or_missing_columns_are_rejected() {
        let e = resolve(&header("UPN,Number,Plan"), None).unwrap_err();
        assert!(
            e.contains("PhoneNumber does not belong in a users file"),
            "{e}"
        );
        let e = resolve(&header("UPN,Action"), Some(Kind::Assignments)).unwrap_err();
        assert!(e.contains("missing column PhoneNumber"), "{e}");
        let e = resolve(&header("Action"), None).unwrap_err();
        assert!(e.contains("cannot tell what kind"), "{e}");
        let e = resolve(&header("UPN,Email,Number"), None).unwrap_err();
        assert!(e.contains("appears twice"), "{e}");
    }

    #[test]
    fn control_characters_in_a_header_are_escaped() {
        let e = resolve(&header("UPN,\u{1b}[2Jevil"), None).unwrap_err();
        assert!(!e.contains('\u{1b}'), "{e}");
        assert!(e.contains("\\u{1b}"), "{e}");
    }
}
