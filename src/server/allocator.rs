//! Giving big buffers back to the system when they are freed.
//!
//! glibc's malloc serves blocks from 128 KiB up with `mmap`, and frees them back to the system,
//! but it raises that threshold to the size of the largest such block freed (up to 32 MiB). After
//! the first upload, every upload's buffer (8 MB for a typical build123d part) is then carved out
//! of a thread's heap arena, and stays in the arena when freed. Measured: 40 pushes of one 8.5 MB
//! model kept 1.003 times one model's bytes in the store, while the server's RSS grew 2.9 times.
//! A fixed threshold keeps big blocks mmapped; with it RSS stayed flat (`web/bench/versions.mjs`).

/// glibc's own default threshold, fixed so that it no longer rises.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Fixes malloc's mmap threshold (glibc only; other allocators return big blocks already).
/// Idempotent; a server run inside a kernel sets it for the kernel's process too, which only
/// makes big blocks go back to the system sooner.
pub fn return_big_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: mallopt takes malloc's own lock; any thread may call it at any time.
        ONCE.call_once(|| unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        });
    }
}
