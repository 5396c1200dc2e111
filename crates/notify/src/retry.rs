use chrono::TimeDelta;

/// When to try a failed temporary send again: exponential back-off, capped, then give up.
/// The defaults (1, 3, 9, 27, 81, 243 min, then 6 h) span about a day, long enough to outlast a
/// mail relay's maintenance window without retrying for days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: TimeDelta,
    pub factor: u32,
    pub cap: TimeDelta,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 8, base: TimeDelta::minutes(1), factor: 3, cap: TimeDelta::hours(6) }
    }
}

impl RetryPolicy {
    /// How long to wait after `attempts_so_far` failed attempts; `None` means give up. Zero
    /// attempts means nothing was tried yet: send now.
    pub fn next_delay(&self, attempts_so_far: u32) -> Option<TimeDelta> {
        if attempts_so_far >= self.max_attempts {
            return None;
        }
        let Some(exponent) = attempts_so_far.checked_sub(1) else { return Some(TimeDelta::zero()) };
        let delay = self
            .factor
            .checked_pow(exponent)
            .and_then(|f| self.base.checked_mul(i32::try_from(f).ok()?))
            .unwrap_or(self.cap);
        Some(delay.min(self.cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_then_gives_up() {
        let p = RetryPolicy::default();
        let minutes: Vec<Option<i64>> = (0..10).map(|n| p.next_delay(n).map(|d| d.num_minutes())).collect();
        assert_eq!(minutes, [Some(0), Some(1), Some(3), Some(9), Some(27), Some(81), Some(243), Some(360), None, None]);
    }

    #[test]
    fn huge_factors_saturate_at_the_cap() {
        let p = RetryPolicy { max_attempts: 100, factor: 1000, ..Default::default() };
        assert_eq!(p.next_delay(50), Some(TimeDelta::hours(6)));
        assert_eq!(p.next_delay(u32::MAX), None);
    }
}
