//! The hub's locks across instances: a key set only if absent, holding a token of its holder,
//! with a lease that the holder renews while it holds the lock, so that an instance that dies
//! holding one blocks the others for one lease at most.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{unavailable, Inner, Result};
use crate::hub::lock::{Held, LockName};
use crate::hub::HubError;

/// How long a lock outlives an instance that died holding it; its holder renews it every third
/// of that, for as long as it holds it.
const LEASE: Duration = Duration::from_secs(15);
/// How long a write waits for a lock before it is answered 503 `busy`.
const PATIENCE: Duration = Duration::from_secs(60);

/// Deletes the lock KEYS[1] if it still holds this holder's token ARGV[1].
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Extends the lease of KEYS[1] to ARGV[2] ms if it still holds this holder's token ARGV[1].
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
";

impl Inner {
    pub(super) async fn lock(self: &Arc<Self>, name: LockName<'_>) -> Result<Held> {
        // The writes of this instance queue here, so only one of them at a time asks Redis.
        let local = self.locks.lock(name).await;
        let key = self.keys.lock(&name.key());
        let token = uuid::Uuid::new_v4().simple().to_string();
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            let taken: std::result::Result<Option<String>, _> = redis::cmd("SET")
                .arg(&key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(LEASE.as_millis() as u64)
                .query_async(&mut self.conn())
                .await;
            match taken {
                Ok(Some(_)) => break,
                Ok(None) => {}
                Err(err) => {
                    // The reply may be what was lost: give the lock back in case it was taken.
                    self.script(RELEASE, &key, &token, None).await;
                    return Err(unavailable(err));
                }
            }
            if started.elapsed() > PATIENCE {
                return Err(HubError::Busy(format!(
                    "another instance held the lock on {} for over {} s",
                    name.key(),
                    PATIENCE.as_secs()
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
        let renewal = tokio::spawn(renew(Arc::downgrade(self), key.clone(), token.clone()));
        let inner = self.clone();
        let release = async move {
            renewal.abort();
            inner.script(RELEASE, &key, &token, None).await;
        };
        Ok(Held::shared(local, Box::pin(release)))
    }

    /// Runs a token-checked script on a lock; a failure leaves the lock to its lease.
    async fn script(&self, script: &str, key: &str, token: &str, lease: Option<Duration>) -> bool {
        let mut call = redis::cmd("EVAL");
        call.arg(script).arg(1).arg(key).arg(token);
        if let Some(lease) = lease {
            call.arg(lease.as_millis() as u64);
        }
        match call.query_async::<i64>(&mut self.conn()).await {
            Ok(done) => done == 1,
            Err(err) => {
                tracing::warn!(%err, lock = %key, "a lock is left to its lease");
                false
            }
        }
    }
}

/// Extends the lease every third of it while the lock is this holder's.
async fn renew(inner: std::sync::Weak<Inner>, key: String, token: String) {
    loop {
        tokio::time::sleep(LEASE / 3).await;
        let Some(inner) = inner.upgrade() else { return };
        if !inner.script(RENEW, &key, &token, Some(LEASE)).await {
            tracing::warn!(lock = %key, "a lock's lease could not be renewed");
            return;
        }
    }
}
