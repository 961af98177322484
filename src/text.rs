//! Small text helpers for everything numbatch shows or writes.

/// Shows control and invisible characters escaped, so that input can never
/// drive the admin's terminal or hide inside a message.
pub fn escape(s: &str) -> String {
    escape_where(s, needs_escape).into_owned()
}

/// `s` with the characters `bad` picks shown as Rust escapes.
fn escape_where(s: &str, bad: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(&bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Invisible characters that make two strings look alike: zero-width and
/// joining characters, direction marks and overrides, variation selectors,
/// fillers, tags and the byte-order mark.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible(c)
}

/// A cell as written into a report, as the admin wrote it, except a NUL
/// (shown as `\u{0}`): no CSV reader, numbatch's included, takes one back.
pub fn escape_cell(s: &str) -> std::borrow::Cow<'_, str> {
    escape_where(s, |c| c == '\0')
}

/// A path as a message shows it: escaped like any input.
pub fn path(p: &std::path::Path) -> String {
    escape(&p.display().to_string())
}

/// A count and what it counts, in the singular for one: "1 row", "2 rows".
pub fn count(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Shortens a value for a message, keeping it recognisable.
pub fn clip(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        escape(s)
    } else {
        let head: String = s.chars().take(max_chars).collect();
        format!("{}… ({} bytes)", escape(&head), s.len())
    }
}

/// A CSV cell that a spreadsheet would run as a formula gets a leading `'`
/// (SPEC §5), except a number in E.164 form.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
            if !crate::validate::phone::is_e164_form(cell) =>
        {
            std::borrow::Cow::Owned(format!("'{cell}"))
        }
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_of_one_is_singular() {
        assert_eq!(count(0, "row"), "0 rows");
        assert_eq!(count(1, "row"), "1 row");
        assert_eq!(count(2, "row"), "2 rows");
    }

    #[test]
    fn escapes_control_and_invisible_characters() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape("x\u{200B}y"), "x\\u{200b}y");
        assert_eq!(escape("tab\there"), "tab\\there");
    }

    #[test]
    fn neutralises_formulas_but_not_e164() {
        assert_eq!(neutralise("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(neutralise("@cmd"), "'@cmd");
        assert_eq!(neutralise("-1"), "'-1");
        assert_eq!(neutralise("+447700900123"), "+447700900123");
        assert_eq!(neutralise("+44 7700"), "'+44 7700");
        assert_eq!(neutralise("alice@contoso.com"), "alice@contoso.com");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn clips_long_values() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("abcdef", 3), "abc… (6 bytes)");
    }
}
