//! The fast path: `+` and digits that the crate will find valid, said
//! without running the crate.
//!
//! For a number written `+` and digits, the crate (a) splits off the
//! calling code, (b) picks the region of that code the number belongs to,
//! (c) may strip a national prefix, and (d) calls the number valid when the
//! region's general pattern and one of its type patterns (fixed line,
//! mobile, toll free, ...) match. (d) runs up to eleven regexes one after
//! another, (b) often runs them all once more for a code shared by several
//! regions (+1, +44), and the parse around it allocates: ~10 µs a number.
//!
//! Here the same metadata, read from the crate's own database, is compiled
//! once per calling code into one `RegexSet` per region: one pass over the
//! digits says which patterns match, and the possible lengths are checked
//! as the crate checks them. The fast path only ever *accepts*: it answers
//! `Some(e164)` when it is sure, and `None` (ask the crate) for anything
//! else, invalid numbers included, so every rejection and its message still
//! come from the crate. It is sure only when nothing but (a), (b) and (d)
//! applies: no leading zero after the code (the crate keeps or strips it),
//! and no national prefix or prefix-for-parsing of the region at the start
//! of the national number (the crate would rewrite it). Then the E.164 form
//! is the `+` and the digits as written.
//!
//! The test `the_fast_path_never_accepts_what_the_crate_rejects` runs both on
//! every example number of every region of the crate's metadata and on
//! mutations of them (each digit changed, digits dropped and added, random
//! digits after each calling code).

use std::collections::HashMap;
use std::sync::OnceLock;

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

/// `+` and `digits` (ASCII digits only) when the crate would accept it as
/// a valid number with exactly that E.164 form; `None` to ask the crate.
pub fn valid(digits: &str) -> Option<String> {
    if !(super::MIN_DIGITS..=super::MAX_DIGITS).contains(&digits.len()) || digits.starts_with('0') {
        return None;
    }
    // Calling codes are prefix-free: the crate takes the first of one to
    // three digits that is a code.
    let (code, compiled, national) = (1..=3).find_map(|len| {
        let code: u16 = digits.get(..len)?.parse().ok()?;
        table().get(&code).map(|c| (code, c, &digits[len..]))
    })?;
    if national.starts_with('0') {
        return None;
    }
    // Each thread matches with its own clone of the compiled code: a clone
    // shares the compiled regexes but has its own pool of search caches,
    // where a shared one has threads take turns at a lock for every match
    // (validation on 2 threads in 4,000-row chunks: 0.97x -> 1.65x).
    // (Without this thread's storage, being torn down, the crate decides.)
    LOCAL
        .try_with(|local| {
            let mut local = local.try_borrow_mut().ok()?;
            let code = local
                .entry(code)
                .or_insert_with(|| compiled.get_or_init(|| Code::compile(code)).clone())
                .as_ref()?;
            let region = code.source_for(national)?;
            if region.rewrites(national) || !region.is_valid(national) {
                return None;
            }
            Some(format!("+{digits}"))
        })
        .ok()
        .flatten()
}

thread_local! {
    /// This thread's clones of the compiled codes it has met.
    static LOCAL: std::cell::RefCell<HashMap<u16, Option<Code>>> =
        std::cell::RefCell::new(HashMap::new());
}

/// Every calling code of the crate's database, compiled when first used.
fn table() -> &'static HashMap<u16, OnceLock<Option<Code>>> {
    static TABLE: OnceLock<HashMap<u16, OnceLock<Option<Code>>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..1000u16)
            .filter(|code| DATABASE.by_code(code).is_some() && DATABASE.region(code).is_some())
            .map(|code| (code, OnceLock::new()))
            .collect()
    })
}

/// The regions of one calling code, in the order the crate tries them.
#[derive(Clone)]
struct Code {
    regions: Vec<Region>,
}

impl Code {
    /// `None` when something does not compile or is not as expected: then
    /// every number of this code goes to the crate.
    fn compile(code: u16) -> Option<Code> {
        let ids = DATABASE.region(&code)?;
        let regions = if let [only] = ids.as_slice() {
            // One region; the non-geographic entities ("001") are found by code.
            let meta = if *only == "001" {
                DATABASE.by_code(&code)?.into_iter().next()?
            } else {
                only.parse::<phonenumber::country::Id>().ok()?;
                DATABASE.by_id(*only)?
            };
            vec![Region::compile(meta, false)?]
        } else {
            let mut regions = Vec::with_capacity(ids.len());
            for id in ids {
                id.parse::<phonenumber::country::Id>().ok()?;
                regions.push(Region::compile(DATABASE.by_id(id)?, true)?);
            }
            regions
        };
        Some(Code { regions })
    }

    /// The region the crate reads the number as (its `source_for`).
    fn source_for(&self, national: &str) -> Option<&Region> {
        if let [only] = self.regions.as_slice() {
            return Some(only);
        }
        self.regions.iter().find(|r| match &r.leading {
            Some(leading) => leading.is_match(national),
            None => r.is_valid(national),
        })
    }
}

/// What the crate looks at in one region's metadata, compiled.
#[derive(Clone)]
struct Region {
    /// `^(leading digits)`: which numbers of a shared code are this region's.
    leading: Option<Regex>,
    /// `^(national prefix for parsing)`: the crate may rewrite a match.
    prefix_for_parsing: Option<Regex>,
    national_prefix: Option<String>,
    /// The general pattern first, then every type pattern, each `^(...)`.
    patterns: RegexSet,
    /// The possible lengths of each pattern (empty: any).
    lengths: Vec<Vec<u16>>,
}

impl Region {
    fn compile(meta: &Metadata, shared_code: bool) -> Option<Region> {
        let types: Vec<&Descriptor> = std::iter::once(meta.descriptors().general())
            .chain(super::number_types(meta))
            .collect();
        let patterns =
            RegexSetBuilder::new(types.iter().map(|t| anchored(t.national_number().as_str())))
                .ignore_whitespace(true)
                .build()
                .ok()?;
        let one = |pattern: &str| -> Option<Regex> {
            RegexBuilder::new(&anchored(pattern))
                .ignore_whitespace(true)
                .build()
                .ok()
        };
        let leading = match meta.leading_digits().filter(|_| shared_code) {
            Some(re) => Some(one(re.as_str())?),
            None => None,
        };
        let prefix_for_parsing = match meta.national_prefix_for_parsing() {
            Some(re) => Some(one(re.as_str())?),
            None => None,
        };
        Some(Region {
            leading,
            prefix_for_parsing,
            national_prefix: meta.national_prefix().map(str::to_owned),
            patterns,
            lengths: types.iter().map(|t| t.possible_length().to_vec()).collect(),
        })
    }

    /// The crate's `number_type(..) != Unknown`: the general pattern and at
    /// least one type pattern match at the start, each with a possible length.
    fn is_valid(&self, national: &str) -> bool {
        let len = national.len() as u16;
        let hits = self.patterns.matches(national);
        let hit = |i: usize| {
            hits.matched(i) && (self.lengths[i].is_empty() || self.lengths[i].contains(&len))
        };
        hit(0) && (1..self.lengths.len()).any(hit)
    }

    /// Whether the crate might rewrite the national number (strip or
    /// transform a national prefix): then the crate decides.
    fn rewrites(&self, national: &str) -> bool {
        self.prefix_for_parsing
            .as_ref()
            .is_some_and(|re| re.is_match(national))
            || self
                .national_prefix
                .as_deref()
                .is_some_and(|p| national.starts_with(p))
    }
}

/// `pattern` matching at the start only, as the crate's `find(..).start() == 0`.
fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::phone::{by_the_crate, number_types, shared_db};

    /// A small deterministic generator (xorshift), so the sample is the
    /// same on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn digit(&mut self) -> char {
            char::from(b'0' + (self.next() % 10) as u8)
        }
    }

    /// Digit strings after a `+`: every example number of every region,
    /// each digit of it changed, a digit dropped or added, a 0 or the
    /// region's national prefix put in front of it, and random digits of
    /// every length after every calling code.
    fn sample() -> Vec<String> {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut out = Vec::new();
        for meta in DATABASE.iter() {
            let code = meta.country_code().to_string();
            let examples = std::iter::once(meta.descriptors().general())
                .chain(number_types(meta))
                .filter_map(Descriptor::example);
            for ex in examples {
                let mut variants = vec![ex.to_string(), format!("0{ex}")];
                if let Some(p) = meta.national_prefix() {
                    variants.push(format!("{p}{ex}"));
                }
                for i in 0..ex.len() {
                    for c in ['0', '1', '5', '9'] {
                        let mut v = ex.to_string();
                        v.replace_range(i..=i, &c.to_string());
                        variants.push(v);
                    }
                    let mut shorter = ex.to_string();
                    shorter.remove(i);
                    variants.push(shorter);
                    let mut longer = ex.to_string();
                    longer.insert(i, rng.digit());
                    variants.push(longer);
                }
                out.extend(variants.into_iter().map(|v| format!("{code}{v}")));
            }
            for len in 4..=13 {
                let random: String = (0..len).map(|_| rng.digit()).collect();
                out.push(format!("{code}{random}"));
            }
        }
        out.retain(|d| d.bytes().all(|b| b.is_ascii_digit()));
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn the_fast_path_never_accepts_what_the_crate_rejects() {
        let db = shared_db();
        let sample = sample();
        let (mut fast, mut crate_valid) = (0, 0);
        for digits in &sample {
            let judged = by_the_crate(db, digits, digits);
            if judged.is_ok() {
                crate_valid += 1;
            }
            if let Some(e164) = valid(digits) {
                fast += 1;
                match &judged {
                    Ok(want) => assert_eq!(&e164, want, "+{digits}"),
                    Err(e) => panic!(
                        "the fast path accepts +{digits}, the crate does not: {}",
                        e.message
                    ),
                }
            }
        }
        // It must also be a fast path: most valid numbers take it.
        assert!(
            sample.len() > 50_000 && crate_valid > 10_000,
            "sample {} numbers, {crate_valid} valid",
            sample.len()
        );
        assert!(
            fast * 10 >= crate_valid * 7,
            "the fast path took {fast} of {crate_valid} valid numbers"
        );
    }

    #[test]
    fn unsure_cases_go_to_the_crate() {
        // A leading zero after the code, a national prefix, too short or
        // too long, no such calling code, a zero code.
        for digits in [
            "4402079460123",
            "33012345678",
            "1212555012",
            "4420794601234567",
            "999123456789",
            "0442079460123",
        ] {
            assert_eq!(valid(digits), None, "+{digits}");
        }
        // And the common case does not.
        assert_eq!(valid("442079460123").as_deref(), Some("+442079460123"));
        assert_eq!(valid("12125550123").as_deref(), Some("+12125550123"));
    }
}
