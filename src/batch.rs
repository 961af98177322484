//! Splitting a stream of rows into batches of at most `size`.

/// Groups items into vectors of at most `size`; the first error ends it.
pub fn batches<T, E>(
    items: impl Iterator<Item = Result<T, E>>,
    size: usize,
) -> impl Iterator<Item = Result<Vec<T>, E>> {
    let size = size.max(1);
    let mut items = items.fuse();
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let mut batch = Vec::with_capacity(size);
        for item in items.by_ref() {
            match item {
                Ok(t) => {
                    batch.push(t);
                    if batch.len() == size {
                        break;
                    }
                }
                Err(e) => {
                    failed = true;
                    return Some(Err(e));
                }
            }
        }
        (!batch.is_empty()).then_some(Ok(batch))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_stops_at_the_first_error() {
        let ok: Vec<Result<u32, ()>> = (0..7).map(Ok).collect();
        let sizes: Vec<usize> = batches(ok.into_iter(), 3)
            .map(|b| b.unwrap().len())
            .collect();
        assert_eq!(sizes, vec![3, 3, 1]);
        let mixed = vec![Ok(1), Ok(2), Err("bad"), Ok(3)];
        let out: Vec<_> = batches(mixed.into_iter(), 5).collect();
        assert_eq!(out, vec![Err("bad")]);
        let empty: Vec<Result<u32, ()>> = vec![];
        assert_eq!(batches(empty.into_iter(), 5).count(), 0);
    }
}

/// Streams items fetched a page at a time: `fetch(cursor)` returns the next
/// page (empty at the end) and `next_cursor` names where the page ended.
/// Memory stays bounded by one page.
pub fn paged<T, C: Copy, E>(
    start: C,
    mut fetch: impl FnMut(C) -> Result<Vec<T>, E>,
    next_cursor: impl Fn(&T) -> C,
) -> impl Iterator<Item = Result<T, E>> {
    let mut cursor = Some(start);
    let mut page = std::collections::VecDeque::new();
    std::iter::from_fn(move || {
        loop {
            if let Some(item) = page.pop_front() {
                return Some(Ok(item));
            }
            let c = cursor.take()?;
            match fetch(c) {
                Ok(items) => {
                    if let Some(last) = items.last() {
                        cursor = Some(next_cursor(last));
                    }
                    page.extend(items);
                }
                Err(e) => return Some(Err(e)),
            }
        }
    })
}

#[cfg(test)]
mod paged_tests {
    use super::*;

    #[test]
    fn pages_through_everything_once() {
        let data: Vec<u32> = (1..=7).collect();
        let pages = std::cell::Cell::new(0);
        let all: Result<Vec<u32>, ()> = paged(
            0,
            |after| {
                pages.set(pages.get() + 1);
                Ok(data
                    .iter()
                    .copied()
                    .filter(|x| *x > after)
                    .take(3)
                    .collect())
            },
            |x| *x,
        )
        .collect();
        assert_eq!(all, Ok(data.clone()));
        assert_eq!(pages.get(), 4);
    }
}
