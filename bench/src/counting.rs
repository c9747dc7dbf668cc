//! A global allocator that counts live heap bytes, for the memory benchmark.
//!
//! It wraps the system allocator (glibc malloc here) and, once `enable` is called, keeps two totals: the bytes
//! the program asked for, and `malloc_usable_size` of each block (what the allocator really set aside, size
//! classes included; Redis's used_memory counts jemalloc's equivalent). Counting is off by default so the
//! throughput benchmarks pay one relaxed load per allocation, nothing more.
//!
//! This file is the only unsafe code in the repository outside dependencies: a `GlobalAlloc` cannot be written
//! without it. The engine itself stays `#![forbid(unsafe_code)]`.

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
static LIVE: AtomicU64 = AtomicU64::new(0);
/// The totals at one moment. Only differences between two snapshots mean something.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot {
    pub requested: u64,
    pub usable: u64,
    pub live: u64,
}

/// Starts counting. A block allocated before is not known, and freeing it would subtract what was never
/// added: call this before allocating what is measured, and free nothing older between two snapshots.
pub fn enable() {
    ENABLED.store(true, Relaxed);
}

pub fn snapshot() -> Snapshot {
    Snapshot { requested: REQUESTED.load(Relaxed), usable: USABLE.load(Relaxed), live: LIVE.load(Relaxed) }
}

#[inline]
fn added(ptr: *mut u8, size: usize) {
    if !ptr.is_null() && ENABLED.load(Relaxed) {
        REQUESTED.fetch_add(size as u64, Relaxed);
        // SAFETY: `ptr` was just returned by the system allocator and is live.
        USABLE.fetch_add(unsafe { malloc_usable_size(ptr) } as u64, Relaxed);
        LIVE.fetch_add(1, Relaxed);
    }
}

#[inline]
fn removed(ptr: *mut u8, size: usize) {
    if ENABLED.load(Relaxed) {
        REQUESTED.fetch_sub(size as u64, Relaxed);
        // SAFETY: `ptr` is live until the caller hands it back to the system allocator, after this call.
        USABLE.fetch_sub(unsafe { malloc_usable_size(ptr) } as u64, Relaxed);
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
