//! Fuzzes the CSV reader: whatever the bytes, `read::open` and `Rows`
//! answer (a source and rows, or an error) without panicking, the row
//! numbers only go up, and no message carries a raw control character.
//!
//!     cargo +nightly fuzz run read -- -max_total_time=60
#![no_main]

use libfuzzer_sys::fuzz_target;
use numbatch::model::Kind;
use numbatch::read::{self, Rows};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The file the input is written to (`read::open` takes a path).
fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("numbatch-fuzz-{}.csv", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = path();
    std::fs::write(path, data).unwrap();
    for forced in [None, Some(Kind::Assignments)] {
        let source = match read::open(path, forced) {
            Ok(source) => source,
            Err(e) => {
                assert!(!e.to_string().chars().any(char::is_control), "{e}");
                continue;
            }
        };
        let mut last = source.header_row;
        for (n, row) in Rows::new(&source).unwrap().enumerate() {
            assert!(n <= data.len(), "more rows than bytes");
            match row {
                Ok(row) => {
                    assert!(row.row > last, "row {} after {}", row.row, last);
                    last = row.row;
                }
                Err(e) => {
                    assert!(!e.to_string().chars().any(char::is_control), "{e}");
                    break;
                }
            }
        }
    }
});
