//! The life of a report: statuses, actions, and the legal moves between them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a report stands. Only [`Status::after`] moves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Submitted, awaiting verification by the IOC.
    Received,
    /// Checked by the IOC, awaiting assignment.
    Verified,
    /// Spam, duplicate or out of scope.
    Rejected,
    /// Folded into another report as its duplicate.
    Merged,
    /// Sent to a unit, awaiting its acceptance.
    Assigned,
    /// Sent back to the IOC by the unit: wrong unit, or beyond its authority.
    Returned,
    /// Accepted by the unit and being handled.
    InProgress,
    /// The unit reported a result, awaiting the IOC's approval.
    Resolved,
    /// Result approved, not yet published.
    Approved,
    /// Result published, awaiting the citizen's rating.
    Published,
    Closed,
}

impl Status {
    pub const ALL: [Status; 11] = [
        Self::Received,
        Self::Verified,
        Self::Rejected,
        Self::Merged,
        Self::Assigned,
        Self::Returned,
        Self::InProgress,
        Self::Resolved,
        Self::Approved,
        Self::Published,
        Self::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Verified => "verified",
            Self::Rejected => "rejected",
            Self::Merged => "merged",
            Self::Assigned => "assigned",
            Self::Returned => "returned",
            Self::InProgress => "in_progress",
            Self::Resolved => "resolved",
            Self::Approved => "approved",
            Self::Published => "published",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Self::Received => "Mới tiếp nhận",
            Self::Verified => "Đã xác minh",
            Self::Rejected => "Từ chối",
            Self::Merged => "Đã gộp",
            Self::Assigned => "Đã chuyển xử lý",
            Self::Returned => "Trả lại",
            Self::InProgress => "Đang xử lý",
            Self::Resolved => "Đã có kết quả",
            Self::Approved => "Đã duyệt",
            Self::Published => "Đã công khai",
            Self::Closed => "Đã đóng",
        }
    }

    /// No further work: the report left the queues for good (a closed one may still reopen).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Rejected | Self::Merged | Self::Closed)
    }

    /// The IOC must act next (verify, reassign, approve, publish), not a handling unit.
    pub fn awaits_dispatch(self) -> bool {
        matches!(self, Self::Received | Self::Verified | Self::Returned | Self::Resolved | Self::Approved)
    }

    /// Visible to the public: the result is out.
    pub fn is_public(self) -> bool {
        matches!(self, Self::Published | Self::Closed)
    }

    /// Open in the Open311 sense: the city has not finished with it.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Rejected | Self::Merged | Self::Published | Self::Closed)
    }

    /// Where an action leads from here, or why it cannot be taken.
    pub fn after(self, action: Action) -> Result<Status, IllegalMove> {
        use Action as A;
        use Status as S;
        let to = match (self, action) {
            (S::Received, A::Verify) => S::Verified,
            (S::Received | S::Verified, A::Reject) => S::Rejected,
            (S::Received | S::Verified, A::Merge) => S::Merged,
            (S::Verified | S::Returned, A::Assign) => S::Assigned,
            (S::Assigned | S::InProgress, A::Transfer) => S::Assigned,
            (S::Assigned, A::Accept) => S::InProgress,
            (S::Assigned | S::InProgress, A::Return) => S::Returned,
            (S::InProgress, A::Update) => S::InProgress,
            (S::InProgress, A::Resolve) => S::Resolved,
            (S::Resolved, A::Approve { publish: true }) | (S::Approved, A::Publish) => S::Published,
            (S::Resolved, A::Approve { publish: false }) => S::Approved,
            (S::Resolved, A::SendBack) => S::InProgress,
            (S::Published, A::Close) | (S::Published, A::Rate { satisfied: true }) => S::Closed,
            (S::Published, A::Rate { satisfied: false }) | (S::Published | S::Closed, A::Reopen) => S::Assigned,
            (from, action) => return Err(IllegalMove { from, action }),
        };
        Ok(to)
    }

    /// The actions that can be taken from here (each with its usual variant), for the UI.
    pub fn actions(self) -> Vec<Action> {
        Action::ALL.into_iter().filter(|a| self.after(*a).is_ok()).collect()
    }
}

/// What someone does to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Verify,
    Reject,
    Merge,
    Assign,
    Transfer,
    Accept,
    Return,
    Update,
    Resolve,
    Approve { publish: bool },
    SendBack,
    Publish,
    Close,
    Reopen,
    Rate { satisfied: bool },
}

/// Whose work an action is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// The IOC: verifies, routes, approves, publishes.
    Dispatch,
    /// The unit the report is assigned to (and, for updates, its coordinators).
    Handle,
    /// The citizen who reported, through the tracking code.
    Citizen,
}

impl Action {
    /// Every action with the variant the UI offers; rating is the citizen's and not listed.
    pub const ALL: [Action; 14] = [
        Self::Verify,
        Self::Reject,
        Self::Merge,
        Self::Assign,
        Self::Transfer,
        Self::Accept,
        Self::Return,
        Self::Update,
        Self::Resolve,
        Self::Approve { publish: true },
        Self::SendBack,
        Self::Publish,
        Self::Close,
        Self::Reopen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Reject => "reject",
            Self::Merge => "merge",
            Self::Assign => "assign",
            Self::Transfer => "transfer",
            Self::Accept => "accept",
            Self::Return => "return",
            Self::Update => "update",
            Self::Resolve => "resolve",
            Self::Approve { .. } => "approve",
            Self::SendBack => "send_back",
            Self::Publish => "publish",
            Self::Close => "close",
            Self::Reopen => "reopen",
            Self::Rate { .. } => "rate",
        }
    }

    pub fn duty(self) -> Duty {
        match self {
            Self::Accept | Self::Return | Self::Update | Self::Resolve => Duty::Handle,
            Self::Rate { .. } => Duty::Citizen,
            _ => Duty::Dispatch,
        }
    }

    /// Whether the citizen hears of this step (by e-mail, and on the tracking page).
    pub fn is_public_step(self) -> bool {
        matches!(
            self,
            Self::Verify
                | Self::Reject
                | Self::Merge
                | Self::Assign
                | Self::Accept
                | Self::Publish
                | Self::Approve { publish: true }
                | Self::Close
                | Self::Reopen
                | Self::Rate { .. }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a report that is {} cannot be given the action {}", from.as_str(), action.as_str())]
pub struct IllegalMove {
    pub from: Status,
    pub action: Action,
}

/// Why the IOC turns a report away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    Spam,
    Duplicate,
    OutOfScope,
}

/// Why a unit hands a report back to the IOC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    WrongUnit,
    /// *Vượt thẩm quyền*: the commune cannot decide it; the IOC forwards it to a department.
    BeyondAuthority,
}

/// How the report reached the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The public web page.
    Web,
    /// An Open311 client (the province's SmartCity app, third-party apps).
    Open311,
    Hotline,
    InPerson,
    Zalo,
    Email,
    /// Seen by staff themselves (patrols, cameras).
    Staff,
}

impl Channel {
    pub const ALL: [Channel; 7] =
        [Self::Web, Self::Open311, Self::Hotline, Self::InPerson, Self::Zalo, Self::Email, Self::Staff];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Open311 => "open311",
            Self::Hotline => "hotline",
            Self::InPerson => "in_person",
            Self::Zalo => "zalo",
            Self::Email => "email",
            Self::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Channels an operator enters by hand (the others have their own intake).
    pub fn is_staff_entered(self) -> bool {
        !matches!(self, Self::Web | Self::Open311)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_loop_is_legal() {
        let mut s = Status::Received;
        for a in [
            Action::Verify,
            Action::Assign,
            Action::Accept,
            Action::Update,
            Action::Resolve,
            Action::Approve { publish: true },
            Action::Rate { satisfied: true },
        ] {
            s = s.after(a).unwrap();
        }
        assert_eq!(s, Status::Closed);
    }

    #[test]
    fn returns_reopens_and_send_backs() {
        assert_eq!(Status::Assigned.after(Action::Return), Ok(Status::Returned));
        assert_eq!(Status::Returned.after(Action::Assign), Ok(Status::Assigned));
        assert_eq!(Status::Resolved.after(Action::SendBack), Ok(Status::InProgress));
        assert_eq!(Status::Published.after(Action::Rate { satisfied: false }), Ok(Status::Assigned));
        assert_eq!(Status::Resolved.after(Action::Approve { publish: false }), Ok(Status::Approved));
        assert_eq!(Status::Approved.after(Action::Publish), Ok(Status::Published));
    }

    #[test]
    fn illegal_moves_are_refused() {
        assert!(Status::Received.after(Action::Resolve).is_err());
        assert!(Status::Received.after(Action::Assign).is_err(), "verification comes first");
        assert!(Status::Closed.after(Action::Rate { satisfied: true }).is_err());
        for a in Action::ALL {
            assert!(Status::Rejected.after(a).is_err());
            assert!(Status::Merged.after(a).is_err());
        }
        let e = Status::Assigned.after(Action::Resolve).unwrap_err();
        assert_eq!(e.to_string(), "a report that is assigned cannot be given the action resolve");
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn every_status_but_the_final_ones_has_a_way_on() {
        for s in Status::ALL {
            assert_eq!(s.actions().is_empty(), matches!(s, Status::Rejected | Status::Merged), "{s:?}");
        }
    }
}
