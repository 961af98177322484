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
