//! Caps on open client connections: in total and per client IP.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Counts open connections. A connection holds a [`ConnPermit`] for its life.
pub struct ConnLimits {
    total: Arc<Semaphore>,
    per_ip: Arc<Mutex<HashMap<IpAddr, usize>>>,
    max_per_ip: usize,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The total cap is reached.
    Total,
    /// The per-IP cap is reached.
    PerIp,
}

impl Refusal {
    /// Metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Total => "max_connections",
            Self::PerIp => "max_per_ip",
        }
    }
}

/// Held by an open connection; releases its slots when dropped.
pub struct ConnPermit {
    _total: OwnedSemaphorePermit,
    ip: IpAddr,
    per_ip: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        if let Ok(mut map) = self.per_ip.lock()
            && let Some(n) = map.get_mut(&self.ip)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

impl ConnLimits {
    /// New caps.
    pub fn new(max_total: usize, max_per_ip: usize) -> Self {
        Self {
            total: Arc::new(Semaphore::new(max_total.min(Semaphore::MAX_PERMITS))),
            per_ip: Arc::new(Mutex::new(HashMap::new())),
            max_per_ip,
        }
    }

    /// Takes a slot for a connection from `ip`, or says why not.
    pub fn try_acquire(&self, ip: IpAddr) -> Result<ConnPermit, Refusal> {
        let total = self
            .total
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::Total)?;
        let mut map = self.per_ip.lock().map_err(|_| Refusal::Total)?;
        let n = map.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return Err(Refusal::PerIp);
        }
        *n += 1;
        drop(map);
        Ok(ConnPermit {
            _total: total,
            ip,
            per_ip: self.per_ip.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_total_and_per_ip_and_release_on_drop() {
        let limits = ConnLimits::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let p1 = limits.try_acquire(a).unwrap();
        let _p2 = limits.try_acquire(a).unwrap();
        assert_eq!(limits.try_acquire(a).err(), Some(Refusal::PerIp));
        let _p3 = limits.try_acquire(b).unwrap();
        assert_eq!(limits.try_acquire(b).err(), Some(Refusal::Total));
        drop(p1);
        assert!(limits.try_acquire(a).is_ok());
    }
}
