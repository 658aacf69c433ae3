//! Two threads on one tridiagonal reduction: the leader (the caller of
//! `prism_eigvalsh_team_f64`) runs the serial part of every step and publishes the step; an
//! assistant (`prism_tridiag_assist_f64`, on a pool worker over the same memory) and the leader
//! then claim the step's chunks ([`super::tridiag::run_chunk`]) with an atomic counter.
//!
//! The leader never waits for an assistant that has not started: it claims chunks itself until
//! none is left, then waits only for chunks already claimed, which a running thread is
//! computing. An assistant that arrives late (or after the end) finds nothing to claim, or the
//! `done` flag, and returns. A claim is tied to its step: the ticket word holds the step and
//! its unclaimed chunks, and both claim with a compare-exchange of the whole word, so the
//! assistant can never take a chunk of a step it did not read. Both sides spin
//! (`core::hint::spin_loop`): the leader may be a browser's main thread, which may not
//! `memory.atomic.wait`, and the gaps between steps are microseconds.
//!
//! On a machine whose cores other processes want, the operating system deschedules the
//! assistant, and a leader waiting for its chunk would wait out a scheduler slice. So a leader
//! that waits far longer than a chunk takes lets the assistant go ([`RETIRE_SPINS_PER_ELEMENT`]),
//! an assistant that misses [`MISSED_STEPS`] steps in a row gives up, and either finishes the
//! reduction on the leader alone and sets `stalled`, which the host reads to run alone a while.

use super::tridiag::{run_chunk, Step};
use core::hint::spin_loop;
use core::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};

/// The shared state, in kernel memory the host allocates zeroed (`prism_tridiag_team_bytes`)
/// and keeps until the assistant's job has returned. Each atomic has a cache line of its own.
#[repr(C)]
pub struct Team {
    /// `step << 32 | chunks << 16 | back << 8 | front` ([`FIELD`]); all zero before the first
    /// step is published.
    ticket: AtomicU64,
    _pad0: [u64; 7],
    /// Chunks of the current step completed (by either thread).
    finished: AtomicU32,
    _pad1: [u32; 15],
    /// Set when the leader is done, or the assistant was let go or gave up: the assistant returns
    /// and the leader publishes no more steps.
    done: AtomicU32,
    /// 0 until the assistant starts, then 1 plus the chunks it has run: once it has started,
    /// the host may wait for it (it returns as soon as `done` is set) instead of keeping this
    /// state until its job ends; tests read how much it did.
    joined: AtomicU32,
    /// Set when the assistant was let go or gave up ([`RETIRE_SPINS_PER_ELEMENT`],
    /// [`MISSED_STEPS`]): other processes take the cores, so the host may stop asking for one.
    stalled: AtomicU32,
    _pad2: [u32; 13],
    /// The current step's data, written before its ticket is published; read by the assistant
    /// only after a successful claim (the step cannot end while a claimed chunk runs).
    step: Step,
}

/// The ticket's fields: `step << 32 | chunks << 16 | back << 8 | front`. Chunks `front..back`
/// are unclaimed: the leader takes them from the front, the assistant from the back, so each
/// thread keeps running about the same rows step after step (they stay in its own cache).
const FIELD: u64 = 0xff;

/// Published steps in a row in which the assistant claimed nothing before it gives up: with
/// its own core it claims a chunk of nearly every step (each has at least two), so missing 64
/// (over a millisecond at n = 512) means the system keeps it off the cores.
const MISSED_STEPS: u64 = 64;

/// Spins per element of a chunk (`m²/2/chunks`) the leader waits for the assistant's chunk
/// before it lets the assistant go; at least [`RETIRE_SPINS_MIN`]. A spin (an atomic load that
/// hits the cache) takes about half a nanosecond and a chunk about a nanosecond per element,
/// so this waits some 30 times a chunk's time (1.6 ms at n = 1024): reached only when the
/// operating system has descheduled the assistant mid-chunk (other processes want the cores),
/// not when the assistant is merely slower. Without it, a loaded machine makes the leader wait
/// out a scheduler slice at many steps; with it, at one.
const RETIRE_SPINS_PER_ELEMENT: u64 = 64;
/// The least spins before the assistant is let go (about 0.1 ms).
const RETIRE_SPINS_MIN: u64 = 1 << 18;

/// `(front, back)` of a ticket.
fn unclaimed(ticket: u64) -> (u64, u64) {
    (ticket & FIELD, (ticket >> 8) & FIELD)
}

/// Publishes step `s` (cut into `chunks`, at most 255), runs chunks from the front until none
/// is left to claim, and waits until every claimed chunk is finished.
pub unsafe fn lead(team: *mut Team, step: &Step, s: u32, chunks: usize) {
    let tm = &*team;
    tm.finished.store(0, SeqCst);
    write_volatile(addr_of_mut!((*team).step), *step);
    let c = chunks as u64;
    tm.ticket.store((s as u64) << 32 | c << 16 | c << 8, SeqCst);
    loop {
        let ticket = tm.ticket.load(SeqCst);
        let (front, back) = unclaimed(ticket);
        if front >= back {
            break;
        }
        if tm.ticket.compare_exchange_weak(ticket, ticket + 1, SeqCst, SeqCst).is_ok() {
            run_chunk(step, front as usize, chunks);
            tm.finished.fetch_add(1, SeqCst);
        }
    }
    let (m, mut spins) = ((step.n - step.k - 1) as u64, 0u64);
    let limit = (m * m / 2 / c * RETIRE_SPINS_PER_ELEMENT).max(RETIRE_SPINS_MIN);
    while tm.finished.load(SeqCst) < chunks as u32 {
        spins += 1;
        if spins == limit {
            // The assistant stalls (the system took its core): let it go after this chunk.
            tm.stalled.store(1, SeqCst);
            tm.done.store(1, SeqCst);
        }
        spin_loop();
    }
}

/// Whether the assistant was let go or gave up (or the leader is done): the remaining steps
/// then run on the leader alone, published to nobody.
pub unsafe fn retired(team: *mut Team) -> bool {
    (*team).done.load(SeqCst) != 0
}

/// The assistant's loop: claims chunks from the back of whatever step is published, until
/// `done`, or until it has missed [`MISSED_STEPS`] steps in a row (it is not getting a core:
/// spinning on would only take time from the leader). The compare-exchange of the whole
/// ticket ties a claim to the step it read.
pub unsafe fn assist(team: *mut Team) {
    let tm = &*team;
    tm.joined.store(1, SeqCst);
    let mut last = 0u64;
    while tm.done.load(SeqCst) == 0 {
        let ticket = tm.ticket.load(SeqCst);
        let step = ticket >> 32;
        if last == 0 {
            last = step;
        } else if step > last + MISSED_STEPS {
            // The leader then runs the remaining steps alone, publishing nothing.
            tm.stalled.store(1, SeqCst);
            tm.done.store(1, SeqCst);
            return;
        }
        let (front, back) = unclaimed(ticket);
        if front >= back {
            spin_loop();
            continue;
        }
        if tm.ticket.compare_exchange_weak(ticket, ticket - (1 << 8), SeqCst, SeqCst).is_err() {
            continue;
        }
        last = step;
        let step = read_volatile(addr_of!((*team).step));
        let chunks = (ticket >> 16) & FIELD;
        run_chunk(&step, (back - 1) as usize, chunks as usize);
        tm.joined.fetch_add(1, SeqCst);
        tm.finished.fetch_add(1, SeqCst);
    }
}

/// Tells the assistant to return.
pub unsafe fn finish(team: *mut Team) {
    (*team).done.store(1, SeqCst);
}

/// 0 when no assistant has started on `team`, else 1 plus the chunks it ran.
pub unsafe fn joined(team: *mut Team) -> u32 {
    (*team).joined.load(SeqCst)
}

/// Whether the assistant was let go or gave up because it did not get a core.
pub unsafe fn stalled(team: *mut Team) -> bool {
    (*team).stalled.load(SeqCst) != 0
}
