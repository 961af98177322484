//! Reading a CSV file as an admin's spreadsheet wrote it: encoding, delimiter,
//! header and the rows with their spreadsheet row numbers. Streaming: memory
//! stays bounded by one record whatever the file size.

pub mod header;

use crate::error::FileError;
use crate::model::Kind;
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

pub use header::{Layout, Slot};

/// Longest cell taken as written; a longer one makes the row MALFORMED_ROW.
pub const MAX_CELL_BYTES: usize = 1024;

/// One record of the file, with the row number a spreadsheet shows for it
/// (the header is row 1; every record and every blank line counts one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRow {
    pub row: u64,
    pub cells: Vec<String>,
}

/// A file that passed the whole-file checks: what it is and how to read it.
#[derive(Clone, Debug)]
pub struct Source {
    pub path: PathBuf,
    pub sha256: String,
    pub encoding: &'static Encoding,
    pub delimiter: u8,
    /// `\n`, or `\r` for a file with CR-only line ends.
    pub eol: u8,
    pub layout: Layout,
    /// The row number of the header.
    pub header_row: u64,
}

impl Source {
    /// The file name without extension, for report names.
    pub fn stem(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "input".to_string())
    }

    pub fn kind(&self) -> Kind {
        self.layout.kind
    }
}

/// The largest file taken by default (`--max-file-size` raises it).
pub const DEFAULT_MAX_FILE_MIB: u64 = 1024;

/// Checks a file as a whole (readable, text, a known header, at most
/// `max_bytes`) and hashes it.
pub fn open(path: &Path, forced: Option<Kind>, max_bytes: u64) -> Result<Source, FileError> {
    let err = |line, msg: String| FileError::new(path, line, msg);
    let meta = std::fs::metadata(path).map_err(|e| err(None, io_problem(&e)))?;
    if meta.is_dir() {
        return Err(err(None, "is a folder, not a CSV file".into()));
    }
    if !meta.is_file() {
        return Err(err(
            None,
            "is not a regular file (a pipe or device?): save the data to a .csv file".into(),
        ));
    }
    if meta.len() > max_bytes {
        return Err(err(
            None,
            format!(
                "is {} MiB, more than the {} MiB numbatch takes: split it, or raise --max-file-size",
                meta.len() / (1024 * 1024),
                max_bytes / (1024 * 1024)
            ),
        ));
    }
    let (sha256, encoding) = scan(path, max_bytes).map_err(|e| err(None, e))?;
    let eol = line_end(path, encoding).map_err(|e| err(None, io_problem(&e)))?;
    let (delimiter, header_row, layout) = read_header(path, encoding, eol, forced)?;
    Ok(Source {
        path: path.to_path_buf(),
        sha256,
        encoding,
        delimiter,
        eol,
        layout,
        header_row,
    })
}

fn io_problem(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => format!("cannot be read: {e}"),
    }
}

/// One pass over the bytes: the SHA-256 of the content, and the encoding
/// (a BOM decides; otherwise UTF-8 when the bytes are valid UTF-8, else
/// Windows-1252, which is what Excel writes on Windows).
fn scan(path: &Path, max_bytes: u64) -> Result<(String, &'static Encoding), String> {
    let mut file = File::open(path).map_err(|e| io_problem(&e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut first = true;
    let mut bom: Option<&'static Encoding> = None;
    let mut utf8_ok = true;
    let mut carry: Vec<u8> = Vec::new();
    let mut total: u64 = 0;
    loop {
        let n = file.read(&mut buf).map_err(|e| io_problem(&e))?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        hasher.update(chunk);
        total += n as u64;
        if total > max_bytes {
            return Err(format!(
                "grew past the {} MiB numbatch takes while it was read: split it, or raise --max-file-size",
                max_bytes / (1024 * 1024)
            ));
        }
        if first {
            first = false;
            bom = Encoding::for_bom(chunk).map(|(enc, _)| enc);
        }
        if bom.is_none() {
            if chunk.contains(&0) {
                return Err(
                    "contains NUL bytes: this is not a text CSV file (save it from the spreadsheet as CSV UTF-8)"
                        .to_string(),
                );
            }
            if utf8_ok {
                carry.extend_from_slice(chunk);
                match std::str::from_utf8(&carry) {
                    Ok(_) => carry.clear(),
                    Err(e) if e.error_len().is_none() => {
                        let keep = carry.split_off(e.valid_up_to());
                        carry = keep;
                    }
                    Err(_) => utf8_ok = false,
                }
            }
        }
    }
    if total == 0 {
        return Err(
            "is empty: a CSV file needs at least the header row (see `numbatch template KIND`)"
                .to_string(),
        );
    }
    if !carry.is_empty() {
        utf8_ok = false;
    }
    let encoding = match bom {
        Some(enc) => enc,
        None if utf8_ok => UTF_8,
        None => WINDOWS_1252,
    };
    let digest = hasher.finalize();
    let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok((hex, encoding))
}

type Decoded = BufReader<DecodeReaderBytes<File, Vec<u8>>>;

/// The file's text as UTF-8, without BOM.
fn decoded(path: &Path, encoding: &'static Encoding) -> std::io::Result<Decoded> {
    let file = File::open(path)?;
    let mut builder = DecodeReaderBytesBuilder::new();
    builder.bom_sniffing(true).strip_bom(true);
    if encoding == WINDOWS_1252 {
        builder.encoding(Some(WINDOWS_1252));
    } else if encoding == UTF_8 {
        builder.utf8_passthru(true);
    }
    Ok(BufReader::with_capacity(64 * 1024, builder.build(file)))
}

/// `,` unless the header line has more `;` or tabs (outside quotes).
fn sniff_delimiter(line: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let delims = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    delims[best]
}

/// Nothing but delimiters and white space: a blank row.
fn is_blank_line(line: &[u8], delimiter: u8) -> bool {
    line.iter()
        .all(|b| *b == delimiter || b.is_ascii_whitespace())
}

/// Before the header, while the delimiter is not known: nothing but any of
/// the three delimiters and white space.
fn is_blank_before_header(line: &[u8]) -> bool {
    line.iter()
        .all(|b| matches!(b, b',' | b';' | b'\t') || b.is_ascii_whitespace())
}

/// The line end of a file: `\r` when its first line ends in a lone CR (old
/// Mac spreadsheets), else `\n` (LF and CRLF). Looks at the decoded text.
fn line_end(path: &Path, encoding: &'static Encoding) -> std::io::Result<u8> {
    let mut text = decoded(path, encoding)?;
    let mut head = Vec::with_capacity(64 * 1024);
    (&mut text).take(64 * 1024).read_to_end(&mut head)?;
    let lone_cr = head
        .iter()
        .enumerate()
        .find(|(_, b)| matches!(b, b'\r' | b'\n'))
        .is_some_and(|(i, b)| *b == b'\r' && head.get(i + 1) != Some(&b'\n'));
    Ok(if lone_cr { b'\r' } else { b'\n' })
}

/// Where a record stands in its quoting, byte by byte, as `csv_core` reads
/// it: a quote opens a quoted cell only at the start of a cell, `""` inside
/// it is a quote, and a line end inside it belongs to the cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quoting {
    CellStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl Quoting {
    fn after(mut self, bytes: &[u8], delimiter: u8) -> Quoting {
        for &b in bytes {
            self = match (self, b) {
                (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
                (Quoting::Quoted, _) => Quoting::Quoted,
                (Quoting::QuoteInQuoted, b'"') | (Quoting::CellStart, b'"') => Quoting::Quoted,
                (_, b'\r' | b'\n') => Quoting::CellStart,
                (_, d) if d == delimiter => Quoting::CellStart,
                _ => Quoting::Unquoted,
            };
        }
        self
    }
}

/// Records framed by physical lines, so that the row numbers are the ones a
/// spreadsheet shows: every record and every blank line counts one; a quoted
/// cell spanning several lines is one row. Parsing is `csv_core`'s.
struct Records {
    path: PathBuf,
    lines: Decoded,
    core: csv_core::Reader,
    delimiter: u8,
    line: Vec<u8>,
    /// Bytes of `line` already fed to the parser.
    fed: usize,
    out: Vec<u8>,
    ends: Vec<usize>,
    /// Physical line number of the last line read.
    line_no: u64,
    /// Spreadsheet row number of the last record or blank line.
    row: u64,
    eof: bool,
    /// The line end: `\n` (LF or CRLF files), or `\r` (old Mac files).
    eol: u8,
}

impl Records {
    fn open(
        path: &Path,
        encoding: &'static Encoding,
        delimiter: Option<u8>,
        eol: u8,
    ) -> Result<Records, FileError> {
        let lines =
            decoded(path, encoding).map_err(|e| FileError::new(path, None, io_problem(&e)))?;
        let mut records = Records {
            path: path.to_path_buf(),
            lines,
            core: csv_core::Reader::new(),
            delimiter: b',',
            line: Vec::new(),
            fed: 0,
            out: vec![0; 1024],
            ends: vec![0; 16],
            line_no: 0,
            row: 0,
            eof: false,
            eol,
        };
        let delimiter = match delimiter {
            Some(d) => d,
            None => {
                // Sniff from the first line that is not blank, then leave it to be parsed.
                loop {
                    if !records.read_line()? {
                        return Err(records.error(
                            None,
                            "has no header row: start from `numbatch template KIND`",
                        ));
                    }
                    if !is_blank_before_header(&records.line) {
                        break;
                    }
                    records.row += 1;
                }
                sniff_delimiter(&records.line)
            }
        };
        records.delimiter = delimiter;
        records.core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        Ok(records)
    }

    fn error(&self, line: Option<u64>, problem: impl Into<String>) -> FileError {
        FileError::new(&self.path, line, problem)
    }

    /// Reads the next physical line into `self.line`; false at the end.
    fn read_line(&mut self) -> Result<bool, FileError> {
        self.line.clear();
        self.fed = 0;
        if self.eof {
            return Ok(false);
        }
        let n = (&mut self.lines)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(self.eol, &mut self.line)
            .map_err(|e| self.error(Some(self.line_no + 1), io_problem(&e)))?;
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        self.line_no += 1;
        if self.line.len() > MAX_LINE_BYTES {
            return Err(self.error(
                Some(self.line_no),
                format!(
                    "the line is longer than {} KiB: this is not a spreadsheet row (is the file really CSV?)",
                    MAX_LINE_BYTES / 1024
                ),
            ));
        }
        Ok(true)
    }

    /// The next record with its row number, skipping (and counting) blank lines.
    fn next_record(&mut self) -> Result<Option<(u64, Vec<String>)>, FileError> {
        let mut nout = 0;
        let mut nend = 0;
        let mut in_record = false;
        let mut first_line = self.line_no;
        // Where the record's quoting stands, and the line of the last quote
        // that opened a cell, for the message when it is never closed.
        let mut quoting = Quoting::CellStart;
        let mut opened_on = self.line_no;
        loop {
            if self.fed >= self.line.len() {
                if !self.read_line()? {
                    // End of input: flush whatever record is open.
                    if in_record && quoting == Quoting::Quoted {
                        return Err(self.error(
                            Some(opened_on),
                            "a quoted cell opened on this line is never closed: check the quotes (\") of this row",
                        ));
                    }
                    let (res, _, o, e) =
                        self.core
                            .read_record(&[], &mut self.out[nout..], &mut self.ends[nend..]);
                    nout += o;
                    nend += e;
                    return match res {
                        csv_core::ReadRecordResult::Record => Ok(Some(self.finish(nout, nend))),
                        _ => Ok(None),
                    };
                }
                if !in_record {
                    first_line = self.line_no;
                    if is_blank_line(&self.line, self.delimiter) {
                        self.row += 1;
                        self.fed = self.line.len();
                        continue;
                    }
                }
            }
            if !in_record
                && self.line[self.fed..]
                    .iter()
                    .all(|b| matches!(b, b'\r' | b'\n'))
            {
                // The rest of the previous record's line end (the LF of a CRLF).
                let (_, nin, _, _) =
                    self.core
                        .read_record(&self.line[self.fed..], &mut self.out, &mut self.ends);
                self.fed += nin.max(1);
                continue;
            }
            in_record = true;
            let (res, nin, o, e) = self.core.read_record(
                &self.line[self.fed..],
                &mut self.out[nout..],
                &mut self.ends[nend..],
            );
            for &b in &self.line[self.fed..self.fed + nin] {
                let next = quoting.after(&[b], self.delimiter);
                if next == Quoting::Quoted
                    && quoting != Quoting::Quoted
                    && quoting != Quoting::QuoteInQuoted
                {
                    opened_on = self.line_no;
                }
                quoting = next;
            }
            self.fed += nin;
            nout += o;
            nend += e;
            match res {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    if self.out.len() >= MAX_RECORD_BYTES {
                        let line = if quoting == Quoting::Quoted {
                            opened_on
                        } else {
                            first_line
                        };
                        return Err(self.error(
                            Some(line),
                            format!(
                                "the row is longer than {} KiB: this is not a spreadsheet row (an unclosed quote?)",
                                MAX_RECORD_BYTES / 1024
                            ),
                        ));
                    }
                    let len = self.out.len() * 2;
                    self.out.resize(len, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() >= MAX_CELLS {
                        return Err(self.error(
                            Some(first_line),
                            format!("the row has more than {MAX_CELLS} cells: this is not a spreadsheet row"),
                        ));
                    }
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                csv_core::ReadRecordResult::Record => {
                    return Ok(Some(self.finish(nout, nend)));
                }
                csv_core::ReadRecordResult::End => return Ok(None),
            }
        }
    }

    fn finish(&mut self, nout: usize, nend: usize) -> (u64, Vec<String>) {
        self.row += 1;
        let mut cells = Vec::with_capacity(nend);
        let mut start = 0;
        for &end in &self.ends[..nend] {
            let bytes = &self.out[start..end.min(nout)];
            cells.push(String::from_utf8_lossy(bytes).into_owned());
            start = end;
        }
        (self.row, cells)
    }
}

/// Longest physical line read.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// Longest record (all its cells together).
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Most cells in one row.
pub const MAX_CELLS: usize = 1024;

/// The header of `path`: the whole-file checks, and how to read the rest.
fn read_header(
    path: &Path,
    encoding: &'static Encoding,
    eol: u8,
    forced: Option<Kind>,
) -> Result<(u8, u64, Layout), FileError> {
    let mut records = Records::open(path, encoding, None, eol)?;
    let Some((row, cells)) = records.next_record()? else {
        return Err(records.error(
            None,
            "has no header row: start from `numbatch template KIND`",
        ));
    };
    let layout =
        header::resolve(&cells, forced).map_err(|e| records.error(Some(records.line_no), e))?;
    Ok((records.delimiter, row, layout))
}

/// A cell as numbatch reads it: spaces around trimmed, and a leading `'`
/// (the spreadsheet text marker) removed. A `'` followed by white space is
/// how a report neutralises a cell that starts with a tab or CR: the cell
/// behind it is read as it would have been (`clean("'" + x) == clean(x)`
/// for such an `x`, however many quotes and spaces it holds).
pub fn clean(cell: &str) -> &str {
    let mut t = cell.trim();
    loop {
        match t.strip_prefix('\'') {
            Some(rest) if rest.starts_with(char::is_whitespace) => t = rest.trim(),
            Some(rest) => return rest.trim(),
            None => return t,
        }
    }
}

/// The rows of a file after its header, streamed.
pub struct Rows {
    records: Records,
}

impl Rows {
    pub fn new(source: &Source) -> Result<Rows, FileError> {
        let mut records = Records::open(
            &source.path,
            source.encoding,
            Some(source.delimiter),
            source.eol,
        )?;
        // Skip the lines before the header (blank, as the header pass found
        // them, whatever the delimiter makes of them), then the header.
        for _ in 1..source.header_row {
            if !records.read_line()? {
                break;
            }
            records.row += 1;
            records.fed = records.line.len();
        }
        records.next_record()?;
        Ok(Rows { records })
    }
}

impl Iterator for Rows {
    type Item = Result<RawRow, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.records.next_record() {
            Ok(Some((row, cells))) => Some(Ok(RawRow { row, cells })),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<(Source, Vec<RawRow>), FileError> {
        let dir = tempfile::tempdir()
            .map_err(|e| FileError::new(Path::new("tmp"), None, e.to_string()))?;
        let path = dir.path().join("in.csv");
        std::fs::write(&path, bytes).map_err(|e| FileError::new(&path, None, e.to_string()))?;
        let source = open(&path, None, u64::MAX)?;
        let rows = Rows::new(&source)?.collect::<Result<Vec<_>, _>>()?;
        Ok((source, rows))
    }

    fn rows_of(bytes: &[u8]) -> Vec<(u64, Vec<String>)> {
        let (_, rows) = read(bytes).unwrap();
        rows.into_iter().map(|r| (r.row, r.cells)).collect()
    }

    fn cells(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn row_numbers_count_blank_lines_and_multi_line_cells_once() {
        let got = rows_of(b"UPN,Number\r\n\r\na@b.co,+1\r\n,\r\n  \r\n\"x\ny\",+2\nlast@b.co,+3");
        assert_eq!(
            got,
            vec![
                (3, cells(&["a@b.co", "+1"])),
                (6, cells(&["x\ny", "+2"])),
                (7, cells(&["last@b.co", "+3"])),
            ]
        );
    }

    #[test]
    fn delimiter_is_sniffed_from_the_header() {
        let (s, rows) = read(b"UPN;Number;Action\na@b.co;+1;assign\n").unwrap();
        assert_eq!(s.delimiter, b';');
        assert_eq!(rows[0].cells, cells(&["a@b.co", "+1", "assign"]));
        let (s, _) = read(b"UPN\tNumber\n").unwrap();
        assert_eq!(s.delimiter, b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b;c\",d\n"), b',');
        assert_eq!(sniff_delimiter(b"single\n"), b',');
    }

    #[test]
    fn encodings_bom_utf16_and_windows_1252() {
        let (s, rows) = read(b"\xef\xbb\xbfUPN,DisplayName\na@b.co,Jos\xc3\xa9\n").unwrap();
        assert_eq!(s.kind(), Kind::Users);
        assert_eq!(rows[0].cells[1], "José");
        let (_, rows) = read(b"UPN,DisplayName\na@b.co,Jos\xe9 M\xfcller\n").unwrap();
        assert_eq!(rows[0].cells[1], "José Müller");
        let utf16: Vec<u8> = "\u{feff}UPN,DisplayName\na@b.co,Zoë\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let (s, rows) = read(&utf16).unwrap();
        assert_eq!(s.kind(), Kind::Users);
        assert_eq!(rows[0].cells[1], "Zoë");
    }

    #[test]
    fn whole_file_problems_name_the_line() {
        let e = read(b"").unwrap_err();
        assert!(e.problem.contains("empty"), "{e}");
        let e = read(b"\n\n").unwrap_err();
        assert!(e.problem.contains("no header"), "{e}");
        let e = read(b"UPN,Number\na@b.co,+1\n\"open,+2\nmore\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.problem.contains("never closed"), "{e}");
        let e = read(b"UPN,Nmbr\n").unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = read(b"UPN,Number\x00\n").unwrap_err();
        assert!(e.problem.contains("NUL"), "{e}");
    }

    #[test]
    fn clean_trims_and_drops_one_text_marker() {
        assert_eq!(clean("  '+44 20  "), "+44 20");
        assert_eq!(clean("''x"), "'x");
        assert_eq!(clean("plain"), "plain");
        // A report's neutralised tab-led cell reads as the original did.
        assert_eq!(clean("'\t'abc"), clean("\t'abc"));
        assert_eq!(clean("'\t=1"), "=1");
    }
}
