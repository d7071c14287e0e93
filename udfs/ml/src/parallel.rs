//! Deterministic parallel passes over row blocks.

/// Rows per block: fixed, so the order in which partial results are combined
/// (and with floating point, the result) does not depend on the thread count.
pub const BLOCK_ROWS: usize = 4096;

/// Runs `f(lo, hi)` on every block of `rows` (`BLOCK_ROWS` rows each) on all
/// cores (`std::thread::scope`) and returns the results in block order.
pub fn map_blocks<T, F>(rows: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, usize) -> T + Sync,
{
    // every pass over the rows is a point where a cancelled training stops
    crate::cancel::checkpoint();
    let blocks = rows.div_ceil(BLOCK_ROWS).max(1);
    let range = |b: usize| (b * BLOCK_ROWS, ((b + 1) * BLOCK_ROWS).min(rows));
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(blocks);
    if threads <= 1 {
        return (0..blocks)
            .map(|b| {
                let (lo, hi) = range(b);
                f(lo, hi)
            })
            .collect();
    }
    let mut slots: Vec<Option<T>> = (0..blocks).map(|_| None).collect();
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t..blocks)
                        .step_by(threads)
                        .map(|b| {
                            let (lo, hi) = range(b);
                            (b, f(lo, hi))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(results) => {
                    for (b, r) in results {
                        slots[b] = Some(r);
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    slots.into_iter().flatten().collect()
}
