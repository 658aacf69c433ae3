//! The heap behind `prism_alloc` / `prism_free`: boundary tags, one explicit free list, first
//! fit, and coalescing with both neighbours on free.
//!
//! Why this shape: the loader allocates a few large buffers per chunk and frees them again, for
//! hours in a streaming run. Coalescing on every free means the same sizes are served from the
//! same bytes each round, so the heap stops growing after the first chunk (tests/wasm_loader_test.ts
//! proves it). Every instance (the main thread's and each pool worker's) shares one memory and
//! so this heap: its state lives in `static mut`s guarded by one spin lock ([`lock`]). Nothing
//! inside the lock can trap, so a worker that traps never leaves the lock held.
//!
//! Layout of the heap, from `__heap_base` (rounded up to [`ALIGN`]) to the end of memory:
//!
//! ```text
//! [block][block]...[block][sentinel]
//! block    = header (16 bytes) + payload (a multiple of 16 bytes, at least 16)
//! header   = size|USED (block bytes, header included) , prev_size , requested , unused
//! sentinel = a header with size 0 and USED set: the right neighbour of the last block
//! ```
//!
//! A free block keeps its free-list links in its first payload bytes.

use core::arch::wasm32::{memory_grow, memory_size};
use core::ptr::null_mut;
use core::sync::atomic::{AtomicBool, Ordering};

/// Alignment of every payload; also the header size, so payloads stay aligned.
const ALIGN: usize = 16;
const HEADER: usize = 16;
/// Smallest block: a header plus room for the two free-list links.
const MIN_BLOCK: usize = HEADER + ALIGN;
const PAGE: usize = 65536;
/// Pages in 4 GiB, the most a wasm32 memory can have.
const MAX_PAGES: usize = 65536;
const USED: usize = 1;

#[repr(C)]
struct Header {
    /// Block size in bytes (header included), with [`USED`] in the low bit.
    size_flags: usize,
    /// Size of the block to the left, 0 for the first block.
    prev_size: usize,
    /// Bytes the caller asked for: what `prism_heap_in_use` counts.
    requested: usize,
    _unused: usize,
}

#[repr(C)]
struct FreeLinks {
    next: *mut Header,
    prev: *mut Header,
}

extern "C" {
    /// End of the static data and the stack, placed by the linker.
    static __heap_base: u8;
}

/// Held while one thread changes the heap; the critical sections are a few hundred instructions.
static LOCK: AtomicBool = AtomicBool::new(false);

/// Releases [`LOCK`] when dropped.
struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        LOCK.store(false, Ordering::Release);
    }
}

/// Takes the heap lock. A spin is right here: sections are short and the main thread of a
/// browser may not block with `memory.atomic.wait`.
fn lock() -> Guard {
    while LOCK.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        core::hint::spin_loop();
    }
    Guard
}

static mut INITIALISED: bool = false;
static mut FREE_HEAD: *mut Header = null_mut();
/// The sentinel header at the end of the heap.
static mut SENTINEL: *mut Header = null_mut();
static mut IN_USE: usize = 0;
static mut PEAK: usize = 0;

#[inline]
fn size_of_block(h: *mut Header) -> usize {
    unsafe { (*h).size_flags & !USED }
}

#[inline]
fn is_used(h: *mut Header) -> bool {
    unsafe { (*h).size_flags & USED != 0 }
}

#[inline]
fn links(h: *mut Header) -> *mut FreeLinks {
    (h as usize + HEADER) as *mut FreeLinks
}

#[inline]
fn right(h: *mut Header) -> *mut Header {
    (h as usize + size_of_block(h)) as *mut Header
}

#[inline]
fn left(h: *mut Header) -> *mut Header {
    unsafe { (h as usize - (*h).prev_size) as *mut Header }
}

/// Sets `h`'s size and flag and tells its right neighbour about the new size.
#[inline]
fn set_block(h: *mut Header, size: usize, used: bool) {
    unsafe {
        (*h).size_flags = size | if used { USED } else { 0 };
        (*right(h)).prev_size = size;
    }
}

fn push_free(h: *mut Header) {
    unsafe {
        let l = links(h);
        (*l).next = FREE_HEAD;
        (*l).prev = null_mut();
        if !FREE_HEAD.is_null() {
            (*links(FREE_HEAD)).prev = h;
        }
        FREE_HEAD = h;
    }
}

fn unlink_free(h: *mut Header) {
    unsafe {
        let l = links(h);
        if (*l).prev.is_null() {
            FREE_HEAD = (*l).next;
        } else {
            (*links((*l).prev)).next = (*l).next;
        }
        if !(*l).next.is_null() {
            (*links((*l).next)).prev = (*l).prev;
        }
    }
}

/// Marks `h` free, merges it with free neighbours and puts the result on the free list.
fn release(mut h: *mut Header) {
    let mut size = size_of_block(h);
    // Clear the flag first: if `h` merges into its left neighbour, its stale header must read
    // "free" so a second `prism_free` of the same pointer traps.
    unsafe { (*h).size_flags = size };
    let r = right(h);
    if !is_used(r) {
        unlink_free(r);
        size += size_of_block(r);
    }
    if unsafe { (*h).prev_size } != 0 {
        let l = left(h);
        if !is_used(l) {
            unlink_free(l);
            size += size_of_block(l);
            h = l;
        }
    }
    set_block(h, size, false);
    push_free(h);
}

fn init() {
    unsafe {
        let base = (&__heap_base as *const u8 as usize + ALIGN - 1) & !(ALIGN - 1);
        let mut end = memory_size(0) * PAGE;
        if end < base + HEADER {
            // No room for the sentinel in the initial memory (the linker may end it at the heap base).
            if memory_grow(0, 1) == usize::MAX {
                return;
            }
            end += PAGE;
        }
        // The sentinel sits at `base`; the first grow (or the room left in the initial memory)
        // turns it into a free block.
        SENTINEL = base as *mut Header;
        (*SENTINEL).size_flags = USED;
        (*SENTINEL).prev_size = 0;
        INITIALISED = true;
        if end >= base + MIN_BLOCK + HEADER {
            extend(end - base - HEADER);
        }
    }
}

/// Turns the sentinel plus `bytes` (a multiple of 16) past it into a free block and puts a new
/// sentinel after it. The caller has made sure the memory exists.
fn extend(bytes: usize) {
    unsafe {
        let block = SENTINEL;
        let sentinel = (block as usize + bytes) as *mut Header;
        (*sentinel).size_flags = USED;
        SENTINEL = sentinel;
        (*block).size_flags = bytes | USED;
        (*sentinel).prev_size = bytes;
        release(block);
    }
}

/// Grows memory so a free block of at least `need` bytes exists at the end of the heap.
fn grow_for(need: usize) -> bool {
    unsafe {
        let prev = (*SENTINEL).prev_size;
        let tail_free = if prev != 0 && !is_used(left(SENTINEL)) { prev } else { 0 };
        let missing = need - tail_free.min(need);
        // The old sentinel's 16 bytes become part of the new block; the new sentinel needs 16.
        let pages = match missing.checked_add(PAGE - 1) {
            Some(v) => v / PAGE,
            None => return false,
        }
        .max(1);
        let end_pages = memory_size(0);
        // Stop one page short of 4 GiB so `end` still fits in a 32-bit usize.
        if pages >= MAX_PAGES - end_pages {
            return false;
        }
        let end = end_pages * PAGE;
        if memory_grow(0, pages) == usize::MAX {
            return false;
        }
        let new_end = end + pages * PAGE;
        extend(new_end - HEADER - SENTINEL as usize);
        true
    }
}

fn first_fit(need: usize) -> *mut Header {
    unsafe {
        let mut h = FREE_HEAD;
        while !h.is_null() {
            if size_of_block(h) >= need {
                return h;
            }
            h = (*links(h)).next;
        }
        null_mut()
    }
}

/// Allocates `bytes` bytes aligned to 16. `bytes == 0` gives a valid, unique pointer.
///
/// Returns null when memory cannot grow (the loader turns that into `OutOfMemoryError`).
#[no_mangle]
pub extern "C" fn prism_alloc(bytes: usize) -> *mut u8 {
    let _guard = lock();
    unsafe {
        if !INITIALISED {
            init();
            if !INITIALISED {
                return null_mut();
            }
        }
        let payload = match bytes.max(ALIGN).checked_add(ALIGN - 1) {
            Some(v) => v & !(ALIGN - 1),
            None => return null_mut(),
        };
        let need = match payload.checked_add(HEADER) {
            Some(v) => v,
            None => return null_mut(),
        };
        let mut h = first_fit(need);
        if h.is_null() {
            if !grow_for(need) {
                return null_mut();
            }
            h = first_fit(need);
            if h.is_null() {
                return null_mut();
            }
        }
        unlink_free(h);
        let size = size_of_block(h);
        if size - need >= MIN_BLOCK {
            set_block(h, need, true);
            let rest = right(h);
            set_block(rest, size - need, false);
            // The remainder's right neighbour is used (a free one would have been merged).
            push_free(rest);
        } else {
            set_block(h, size, true);
        }
        (*h).requested = bytes;
        IN_USE += bytes;
        if IN_USE > PEAK {
            PEAK = IN_USE;
        }
        (h as usize + HEADER) as *mut u8
    }
}

/// Frees a pointer from [`prism_alloc`]. Null is ignored; freeing twice traps (a caller bug).
#[no_mangle]
pub extern "C" fn prism_free(ptr: *mut u8) {
    if ptr.is_null() {
        return;
    }
    let h = (ptr as usize - HEADER) as *mut Header;
    // Checked before taking the lock: a trap must never leave the lock held. Only the caller
    // owns this block, so no other thread changes its header meanwhile.
    unsafe {
        if !INITIALISED || !is_used(h) || size_of_block(h) < MIN_BLOCK {
            core::arch::wasm32::unreachable();
        }
    }
    let _guard = lock();
    unsafe {
        IN_USE -= (*h).requested;
    }
    release(h);
}

/// Bytes currently allocated (as requested by callers, without headers or rounding).
#[no_mangle]
pub extern "C" fn prism_heap_in_use() -> usize {
    unsafe { IN_USE }
}

/// The most bytes in use at once since the start or the last [`prism_heap_reset_peak`].
#[no_mangle]
pub extern "C" fn prism_heap_peak() -> usize {
    unsafe { PEAK }
}

/// Starts a new peak measurement from the bytes in use now.
#[no_mangle]
pub extern "C" fn prism_heap_reset_peak() {
    let _guard = lock();
    unsafe {
        PEAK = IN_USE;
    }
}
