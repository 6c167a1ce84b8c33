//! The hub's locks across instances: a key set only if absent, holding a token of its holder,
//! with a lease so that an instance that dies holding one blocks nobody for long.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{unavailable, Inner, Result};
use crate::hub::lock::{Held, LockName};
use crate::hub::HubError;

/// How long a lock outlives an instance that died holding it. Longer than any write holds one
/// (storing a model of `--model-memory` in Redis takes seconds).
const LEASE: Duration = Duration::from_secs(30);
/// How long a write waits for a lock before it is answered 503.
const PATIENCE: Duration = Duration::from_secs(60);

/// Deletes the lock KEYS[1] if it still holds this holder's token ARGV[1].
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

impl Inner {
    pub(super) async fn lock(self: &Arc<Self>, name: LockName<'_>) -> Result<Held> {
        let local = self.locks.lock(name).await;
        let key = self.keys.lock(&name.key());
        let token = uuid::Uuid::new_v4().simple().to_string();
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            let taken: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(LEASE.as_millis() as u64)
                .query_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            if taken.is_some() {
                break;
            }
            if started.elapsed() > PATIENCE {
                return Err(HubError::Unavailable(format!(
                    "the lock {} stayed held by another instance for {}s",
                    name.key(),
                    PATIENCE.as_secs()
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
        let inner = self.clone();
        let release = async move {
            let released: std::result::Result<i64, _> = redis::cmd("EVAL")
                .arg(RELEASE)
                .arg(1)
                .arg(&key)
                .arg(&token)
                .query_async(&mut inner.conn())
                .await;
            if let Err(err) = released {
                tracing::warn!(%err, lock = %key, "a lock is left to its lease");
            }
        };
        Ok(Held::shared(local, Box::pin(release)))
    }
}
