//! How long one dependent memory load takes on this machine, by working-set size (a pointer chase).
//!
//! Why it is here: past the caches, a per-operation cost is set by how many *dependent* loads an operation
//! makes into memory it has not touched lately, times this latency. The flatness figures read against this
//! table: an operation that costs `t` ns on a small collection and must make one such load on a large one
//! costs about `t + latency` there, whatever its algorithm.
//!
//! Each working set is a ring of 64-byte slots visited in a random order (a shuffled cycle), so neither the
//! hardware prefetcher nor the out-of-order core can run ahead: every load needs the previous one's result.
//! Run twice: on ordinary 4 KB pages, as the engine's heap is, and on 2 MB pages (`madvise(MADV_HUGEPAGE)`),
//! which removes most of the page-walk share of a miss.

use std::alloc::{alloc, dealloc, Layout};

use crate::clock;

/// Working sets from 32 KB (the L1 data cache) to 128 MB (well past any cache), doubling.
const SIZES_KB: [usize; 13] = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072];
/// Dependent loads timed per working set.
const LOADS: usize = 2_000_000;
const SLOT: usize = 64;
const HUGE_PAGE: usize = 2 << 20;
/// Linux's MADV_HUGEPAGE.
const MADV_HUGEPAGE: i32 = 14;

extern "C" {
    fn madvise(addr: *mut u8, len: usize, advice: i32) -> i32;
}

/// `next[i]`: the slot visited after slot `i`, all `slots` of them in one random cycle (Sattolo's shuffle),
/// so a chase from any slot visits every slot before it comes back.
fn cycle(slots: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..slots).collect();
    let mut x = seed | 1;
    for i in (1..slots).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % i as u64) as usize);
    }
    let mut next = vec![0; slots];
    for (i, &from) in order.iter().enumerate() {
        next[from] = order[(i + 1) % slots];
    }
    next
}

/// ns per dependent load in a ring of `bytes`, on huge pages when `huge`.
fn chase(bytes: usize, huge: bool, seed: u64) -> f64 {
    let slots = bytes / SLOT;
    let Ok(layout) = Layout::from_size_align(bytes, HUGE_PAGE) else { return f64::NAN };
    // SAFETY: `layout` has a non-zero size; the block is checked for null, written only within its `bytes`
    // (slot i's first word, i < slots), and freed with the same layout before returning.
    unsafe {
        let base = alloc(layout);
        if base.is_null() {
            return f64::NAN;
        }
        if huge {
            madvise(base, bytes, MADV_HUGEPAGE);
        }
        for (from, to) in cycle(slots, seed).into_iter().enumerate() {
            *(base.add(from * SLOT) as *mut usize) = base.add(to * SLOT) as usize;
        }
        // One pass untimed (faults the pages in and warms what fits), then the timed loads.
        let mut p = base as usize;
        for _ in 0..slots {
            p = *(p as *const usize);
        }
        let start = clock::thread_cpu_secs();
        for _ in 0..LOADS {
            p = *(p as *const usize);
        }
        let secs = clock::thread_cpu_secs() - start;
        std::hint::black_box(p);
        dealloc(base, layout);
        secs * 1e9 / LOADS as f64
    }
}

/// The table as JSON: `{"sizes_kb":[...],"ns":[...],"ns_huge":[...]}`; each cell the median of three runs.
pub fn run() -> String {
    let mut ns = Vec::new();
    let mut ns_huge = Vec::new();
    for &kb in &SIZES_KB {
        for (huge, out) in [(false, &mut ns), (true, &mut ns_huge)] {
            let mut runs: Vec<f64> = (0..3).map(|r| chase(kb << 10, huge, 0x9e37_79b9 + r)).collect();
            runs.sort_by(f64::total_cmp);
            out.push(runs[1]);
        }
        eprintln!("{kb:>7} KB: {:>6.1} ns, huge pages {:>6.1} ns", ns[ns.len() - 1], ns_huge[ns_huge.len() - 1]);
    }
    let list = |v: &[f64]| v.iter().map(|x| format!("{x:.1}")).collect::<Vec<_>>().join(",");
    let sizes = SIZES_KB.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(",");
    format!("{{\"sizes_kb\":[{sizes}],\"ns\":[{}],\"ns_huge\":[{}]}}", list(&ns), list(&ns_huge))
}

#[cfg(test)]
mod tests {
    use super::cycle;

    #[test]
    fn the_chase_visits_every_slot_once_per_lap() {
        for (slots, seed) in [(1, 1), (2, 7), (512, 0x9e37_79b9), (4096, 3)] {
            let next = cycle(slots, seed);
            let mut seen = vec![false; slots];
            let mut at = 0;
            for _ in 0..slots {
                assert!(!seen[at], "slot {at} visited twice in a lap of {slots}");
                seen[at] = true;
                at = next[at];
            }
            assert_eq!(at, 0, "a lap of {slots} slots ends where it began");
        }
    }
}
