//! The allocator the easlens binaries use. Indexing a capture allocates and frees a body buffer
//! per session between small long-lived header strings; glibc's malloc keeps that freed memory
//! (a 153 MB SAZ left 650 MB resident), mimalloc with prompt purging gives it back (125 MB).
//! Binaries: `#[global_allocator] static A: easlens_alloc::MiMalloc = easlens_alloc::MiMalloc;`
//! then [`return_freed_memory_promptly`] first thing in `main`.

pub use mimalloc::MiMalloc;

/// `mi_option_purge_delay` in `mimalloc.h` (15 in v2 and in v3, which libmimalloc-sys builds; the
/// Rust bindings do not export it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory is kept before it is given back. At 0, every freed body buffer was given
/// back at once, and each time the kernel stopped the other core to flush its TLB: a sixth of the
/// time opening a 1,000,000-session capture (54 s against 31 s at 10 ms). 10 ms keeps the prompt
/// return (peak RSS 0.4% higher than at 0).
const PURGE_DELAY_MS: std::os::raw::c_long = 10;

/// Purge freed memory after 10 ms instead of after mimalloc v3's default of one second, in small
/// pages. With transparent huge pages, every purged 2 MiB page was zeroed again by the kernel as
/// soon as the next session's body buffer touched it: a fifth of the time indexing many small
/// sessions. mimalloc's own `allow_thp` option does not reach pages the kernel promotes on its
/// own, so the process opts out of THP (Linux only; elsewhere there is nothing to undo).
pub fn return_freed_memory_promptly() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integer arguments and affects only this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    // SAFETY: setting a documented mimalloc option; valid at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_15_is_the_purge_delay() {
        // SAFETY: reading and setting documented options.
        unsafe {
            // v3's default purge_delay is 1000 ms; no neighbouring option defaults to 1000.
            assert_eq!(libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY), 1000);
            return_freed_memory_promptly();
            assert_eq!(libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY), PURGE_DELAY_MS);
            #[cfg(target_os = "linux")]
            assert_eq!(libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0), 1);
        }
    }
}
