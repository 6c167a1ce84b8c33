//! The bounds every store keeps to, defined once: what the flags set and what is fixed.

use std::time::Duration;

/// Live events buffered per viewer (and, on Redis, per instance) before a slow page lags and
/// gets one `resync` instead of a growing queue.
pub const LIVE_BUFFER: usize = 64;
/// Bytes of event frames kept per viewer for replay (inlined models make frames big), beside the
/// configured count.
pub const HISTORY_BYTES: usize = 16 << 20;
/// Screenshots kept (the newest, each at most `--screenshot-limit`), and for how long.
pub const SCREENSHOTS: usize = 32;
pub const SCREENSHOT_TTL: Duration = Duration::from_secs(3600);
/// How long an unanswered screenshot request may still be answered.
pub const SCREENSHOT_REQUEST_TTL: Duration = Duration::from_secs(60);
/// A viewer that pages alone ever used (no push, config or clear) is collected this long after its
/// last page left: pages may create viewers without a token, so they must not pile up.
pub const EMPTY_VIEWER_IDLE: Duration = Duration::from_secs(60);
/// How many models, oldest first, eviction reads from the store at a time.
pub const EVICTION_WINDOW: usize = 1024;
/// Evicted model ids and deleted viewer ids remembered (so they answer 410 and 204, not 404 and
/// a fresh viewer): at most this many, for at most this long.
pub const TOMBSTONES: usize = 4096;
pub const TOMBSTONE_TTL: Duration = Duration::from_secs(86_400);

/// The bounds that come from the settings.
#[derive(Debug, Clone, Copy)]
pub struct HubLimits {
    /// Bytes of stored models; beyond it the oldest go (`--model-memory`).
    pub model_budget: usize,
    /// Versions (models) kept per viewer, the one on screen always among them (`--history`).
    pub history: usize,
    /// Events kept per viewer for replay (`--event-history`).
    pub event_history: usize,
    /// Models up to this size travel inside their event (`--inline-limit`).
    pub inline_limit: usize,
    /// JSON bytes of one settings object: a viewer's config or status, the defaults
    /// (`--settings-limit`).
    pub settings_bytes: usize,
    /// Viewers at once (`--max-viewers`).
    pub max_viewers: usize,
}
