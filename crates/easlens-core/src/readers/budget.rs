//! What indexing a capture may spend, whatever the file says and however many cores run it:
//!
//! * [`InflateBudget`]: the bytes one SAZ archive may inflate to while it is indexed, in
//!   proportion to its size. Zip entries whose data overlap are refused by the reader; this
//!   catches the bombs made of many separate, highly compressed entries.
//! * [`MemoryBudget`]: the bytes the indexing workers hold at once (raw bodies and what the
//!   indexer decodes from them). Each session reserves what it will hold before reading its
//!   bodies, so adding cores adds parallelism, not memory: [`INDEXING_MEMORY`] is shared by every
//!   capture being opened in the process.

use std::fmt;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// What every archive may inflate to, however small: two entries at the 512 MiB entry cap.
pub const INFLATE_FLOOR: u64 = 1 << 30;

/// What an archive may inflate to per byte of its size, on top of [`INFLATE_FLOOR`]. Real
/// captures inflate 1.1 to 2.4 times in all (Fiddler's deflate on headers, WBXML and bodies that
/// are often gzip already; the most compressible single entry seen inflated 11 times); 32 leaves
/// more than ten times that headroom, while a deflate bomb inflates about 1,000 times.
pub const INFLATE_RATIO: u64 = 32;

/// Largest single read through a [`Budgeted`] reader, so that the budget is checked often.
const MAX_READ: usize = 1 << 20;

/// The bytes one archive may inflate to while it is indexed: [`INFLATE_FLOOR`] plus
/// [`INFLATE_RATIO`] times its size. Shared by the workers; reads through [`InflateBudget::reader`]
/// fail with [`OverBudget`] once it is spent.
#[derive(Debug)]
pub struct InflateBudget {
    limit: u64,
    file_len: u64,
    used: AtomicU64,
}

impl InflateBudget {
    /// The budget of an archive of `file_len` bytes.
    pub fn for_archive(file_len: u64) -> Self {
        InflateBudget {
            limit: INFLATE_FLOOR.saturating_add(file_len.saturating_mul(INFLATE_RATIO)),
            file_len,
            used: AtomicU64::new(0),
        }
    }

    /// A budget of `limit` bytes, for tests.
    #[cfg(test)]
    pub(crate) fn with_limit(limit: u64) -> Self {
        InflateBudget {
            limit,
            file_len: 0,
            used: AtomicU64::new(0),
        }
    }

    /// The most this archive may inflate to.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes inflated so far.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    pub fn exhausted(&self) -> bool {
        self.used() >= self.limit
    }

    /// `inner`, counted against this budget.
    pub fn reader<R: Read>(&self, inner: R) -> Budgeted<'_, R> {
        Budgeted { inner, budget: self }
    }

    /// The budget in words, for notes and warnings.
    pub fn describe(&self) -> String {
        format!(
            "{} MiB ({} MiB plus {} times the archive's {} MiB)",
            self.limit >> 20,
            INFLATE_FLOOR >> 20,
            INFLATE_RATIO,
            self.file_len.div_ceil(1 << 20)
        )
    }
}

/// A reader counted against an [`InflateBudget`].
pub struct Budgeted<'b, R> {
    inner: R,
    budget: &'b InflateBudget,
}

impl<R: Read> Read for Budgeted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.budget.exhausted() {
            return Err(io::Error::other(OverBudget));
        }
        let n = buf.len().min(MAX_READ);
        let got = self.inner.read(&mut buf[..n])?;
        self.budget.used.fetch_add(got as u64, Ordering::Relaxed);
        Ok(got)
    }
}

/// The error a [`Budgeted`] reader fails with once its budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget;

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the archive has inflated to more than it may")
    }
}

impl std::error::Error for OverBudget {}

/// Whether `e` is a [`Budgeted`] reader's [`OverBudget`].
pub fn is_over_budget(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<OverBudget>())
}

/// What the indexing workers of every capture being opened hold at once: 1 GiB. A session that
/// alone needs more runs alone.
pub static INDEXING_MEMORY: MemoryBudget = MemoryBudget::new(1 << 30);

/// A byte budget shared by threads: [`MemoryBudget::reserve`] waits until the bytes are free.
/// A request larger than the whole budget waits until nothing else is held, then holds all of
/// it. Each worker reserves once per session and holds nothing else while it waits, so waiting
/// never deadlocks.
#[derive(Debug)]
pub struct MemoryBudget {
    capacity: u64,
    held: Mutex<u64>,
    freed: Condvar,
}

impl MemoryBudget {
    pub const fn new(capacity: u64) -> Self {
        MemoryBudget {
            capacity,
            held: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    fn lock(&self) -> MutexGuard<'_, u64> {
        self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Bytes reserved now.
    pub fn held(&self) -> u64 {
        *self.lock()
    }

    /// Waits until `bytes` (at most the capacity) are free and reserves them until the
    /// [`Reservation`] is dropped. Zero bytes reserve nothing and never wait.
    pub fn reserve(&self, bytes: u64) -> Reservation<'_> {
        let bytes = bytes.min(self.capacity);
        if bytes > 0 {
            let mut held = self.lock();
            while *held + bytes > self.capacity {
                held = self.freed.wait(held).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            *held += bytes;
        }
        Reservation { budget: self, bytes }
    }
}

/// Bytes reserved in a [`MemoryBudget`], given back when dropped.
#[derive(Debug)]
pub struct Reservation<'b> {
    budget: &'b MemoryBudget,
    bytes: u64,
}

impl Reservation<'_> {
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.bytes > 0 {
            let mut held = self.budget.lock();
            *held -= self.bytes;
            drop(held);
            self.budget.freed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    #[test]
    fn inflating_stops_at_the_budget() {
        let budget = InflateBudget::for_archive(1000);
        assert_eq!(budget.limit(), INFLATE_FLOOR + 32_000);
        assert!(
            budget.describe().starts_with("1024 MiB (1024 MiB plus 32 times"),
            "{}",
            budget.describe()
        );
        let mut zeros = budget.reader(io::repeat(0));
        let mut buf = vec![0u8; 8 << 20];
        let mut total = 0u64;
        let err = loop {
            match zeros.read(&mut buf) {
                Ok(n) => {
                    assert!(n <= MAX_READ);
                    total += n as u64;
                }
                Err(e) => break e,
            }
        };
        assert!(is_over_budget(&err), "{err}");
        assert!(!is_over_budget(&io::Error::other("other")));
        assert!(total >= budget.limit() && total < budget.limit() + MAX_READ as u64);
        // Every reader of the archive shares it.
        assert!(is_over_budget(
            &budget.reader(io::repeat(0)).read(&mut buf).unwrap_err()
        ));
    }

    #[test]
    fn reservations_wait_for_room_and_big_ones_run_alone() {
        let budget = MemoryBudget::new(100);
        let a = budget.reserve(60);
        assert_eq!((a.bytes(), budget.held()), (60, 60));
        let b = budget.reserve(40);
        assert_eq!(budget.held(), 100);
        drop(b);
        let got = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                // More than the whole budget: waits until nothing else is held.
                let r = budget.reserve(500);
                assert_eq!(r.bytes(), 100);
                got.store(true, Ordering::SeqCst);
            });
            std::thread::sleep(Duration::from_millis(100));
            assert!(!got.load(Ordering::SeqCst), "reserved while 60 bytes were held");
            drop(a);
        });
        assert!(got.load(Ordering::SeqCst));
        assert_eq!(budget.held(), 0);
        assert_eq!(budget.reserve(0).bytes(), 0);
    }
}
