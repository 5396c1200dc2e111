//! Who hears about work that is late or not taken up: the officer, then the head of the unit,
//! then the IOC on duty, then a leader.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

/// Ordered: a later level is higher, and an item's level only goes up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationLevel {
    /// The officer handling the item.
    Handler = 0,
    /// The head of the handling unit.
    UnitHead = 1,
    /// The IOC operator on duty.
    IocOnDuty = 2,
    /// A provincial leader.
    Leader = 3,
}

impl EscalationLevel {
    pub const ALL: [EscalationLevel; 4] = [Self::Handler, Self::UnitHead, Self::IocOnDuty, Self::Leader];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Handler => "handler",
            Self::UnitHead => "unit_head",
            Self::IocOnDuty => "ioc_on_duty",
            Self::Leader => "leader",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// When each level hears about an overdue item, measured from the due time (wall-clock, so a
/// leader hears the next day even over a weekend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationPolicy {
    pub unit_head_after_overdue: TimeDelta,
    pub ioc_after_overdue: TimeDelta,
    pub leader_after_overdue: TimeDelta,
    /// Reminders to the current level while overdue and unfinished; zero or less sends none.
    pub remind_every: TimeDelta,
    /// The urgent procedure: if no unit accepts within this time of assignment, the IOC on duty
    /// and a leader are told at once, before any deadline passes.
    pub accept_within: Option<TimeDelta>,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        Self {
            unit_head_after_overdue: TimeDelta::zero(),
            ioc_after_overdue: TimeDelta::hours(4),
            leader_after_overdue: TimeDelta::hours(24),
            remind_every: TimeDelta::hours(4),
            accept_within: None,
        }
    }
}

impl EscalationPolicy {
    /// How long after the due time `level` is told; `None` for the handler, who always knows.
    pub fn after_overdue(&self, level: EscalationLevel) -> Option<TimeDelta> {
        match level {
            EscalationLevel::Handler => None,
            EscalationLevel::UnitHead => Some(self.unit_head_after_overdue),
            EscalationLevel::IocOnDuty => Some(self.ioc_after_overdue),
            EscalationLevel::Leader => Some(self.leader_after_overdue),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_named() {
        assert!(EscalationLevel::Handler < EscalationLevel::UnitHead);
        assert!(EscalationLevel::IocOnDuty < EscalationLevel::Leader);
        for l in EscalationLevel::ALL {
            assert_eq!(EscalationLevel::parse(l.as_str()), Some(l));
            assert_eq!(l as u8, EscalationLevel::ALL.iter().position(|x| *x == l).unwrap() as u8);
        }
        assert_eq!(EscalationLevel::parse("nobody"), None);
    }
}
