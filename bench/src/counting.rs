//! A global allocator that counts live heap bytes, for the memory benchmark.
//!
//! It wraps the system allocator (glibc malloc here) and, once `enable` is called, keeps three totals: the bytes
//! the program asked for, `malloc_usable_size` of each block (what glibc really set aside), and each request
//! rounded up to jemalloc's size classes: Redis's used_memory is the sum of jemalloc's usable sizes, so that
//! last total is what used_memory would say for the same allocations, the like-for-like comparison.
//! Counting is off by default so the throughput benchmarks pay one relaxed load per allocation, nothing more.
//!
//! With `clock.rs`, this is the benchmark crate's only unsafe code: a `GlobalAlloc` cannot be written without
//! it. The engine itself stays `#![forbid(unsafe_code)]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

extern "C" {
    /// glibc's `malloc_usable_size`: the usable bytes of a block from malloc, calloc, realloc or memalign.
    fn malloc_usable_size(ptr: *mut u8) -> usize;
}

pub struct Counting;

static ENABLED: AtomicBool = AtomicBool::new(false);
static REQUESTED: AtomicU64 = AtomicU64::new(0);
static USABLE: AtomicU64 = AtomicU64::new(0);
static JEMALLOC: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicU64 = AtomicU64::new(0);
/// The totals at one moment. Only differences between two snapshots mean something.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot {
    pub requested: u64,
    pub usable: u64,
    pub jemalloc: u64,
    pub live: u64,
}

/// Starts counting. A block allocated before is not known, and freeing it would subtract what was never
/// added: call this before allocating what is measured, and free nothing older between two snapshots.
pub fn enable() {
    ENABLED.store(true, Relaxed);
}

pub fn snapshot() -> Snapshot {
    Snapshot { requested: REQUESTED.load(Relaxed), usable: USABLE.load(Relaxed), jemalloc: JEMALLOC.load(Relaxed), live: LIVE.load(Relaxed) }
}

/// jemalloc 5's size class for a request (16-byte quantum): 8, 16, then four classes per doubling
/// (48, 64, 80, 96, 112, 128, 160, 192, ...), the same rule for small and large sizes.
pub fn jemalloc_size(size: usize) -> usize {
    if size <= 8 {
        return 8;
    }
    if size <= 16 {
        return 16;
    }
    let group = size.next_power_of_two() / 2;
    let delta = (group / 4).max(16);
    size.div_ceil(delta) * delta
}

#[inline]
fn added(ptr: *mut u8, size: usize) {
    if !ptr.is_null() && ENABLED.load(Relaxed) {
        REQUESTED.fetch_add(size as u64, Relaxed);
        // SAFETY: `ptr` was just returned by the system allocator and is live.
        USABLE.fetch_add(unsafe { malloc_usable_size(ptr) } as u64, Relaxed);
        JEMALLOC.fetch_add(jemalloc_size(size) as u64, Relaxed);
        LIVE.fetch_add(1, Relaxed);
    }
}

#[inline]
fn removed(ptr: *mut u8, size: usize) {
    if ENABLED.load(Relaxed) {
        REQUESTED.fetch_sub(size as u64, Relaxed);
        // SAFETY: `ptr` is live until the caller hands it back to the system allocator, after this call.
        USABLE.fetch_sub(unsafe { malloc_usable_size(ptr) } as u64, Relaxed);
        JEMALLOC.fetch_sub(jemalloc_size(size) as u64, Relaxed);
        LIVE.fetch_sub(1, Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counting only reads
// the blocks' sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        added(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        added(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        removed(ptr, layout.size());
        System.dealloc(ptr, layout);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        removed(ptr, layout.size());
        let p = System.realloc(ptr, layout, new_size);
        if p.is_null() {
            // The old block is still there.
            added(ptr, layout.size());
        } else {
            added(p, new_size);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::jemalloc_size;

    #[test]
    fn jemalloc_classes() {
        let classes: Vec<usize> = [1, 8, 9, 16, 17, 33, 48, 49, 65, 100, 128, 129, 200, 257, 4097, 83_886_080]
            .iter()
            .map(|&s| jemalloc_size(s))
            .collect();
        assert_eq!(classes, [8, 8, 16, 16, 32, 48, 48, 64, 80, 112, 128, 160, 224, 320, 5120, 83_886_080]);
    }
}
