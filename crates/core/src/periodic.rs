//! Background upkeep that must not run on the async workers: a blocking job (a store write or
//! read) once a second, for as long as its owner lives.

use std::sync::{Arc, Weak};
use std::time::Duration;

/// Runs `work(&target)` on Tokio's blocking pool once a second until `target` is dropped
/// (only a weak reference is kept). Errors go to `on_error`; the next tick retries.
pub fn every_second_on_blocking_pool<T, E>(
    target: &Arc<T>,
    work: fn(&T) -> Result<(), E>,
    on_error: fn(E),
) where
    T: Send + Sync + 'static,
    E: Send + 'static,
{
    let weak: Weak<T> = Arc::downgrade(target);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(target) = weak.upgrade() else { return };
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || work(&target)).await {
                on_error(e);
            }
        }
    });
}
