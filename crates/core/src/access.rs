//! Who may see and do what: the one place where permissions are decided.
//!
//! A person holds **grants**: a role on an org-unit subtree, optionally narrowed to fields.
//! A machine client holds a **token**: explicit permissions on a subtree. Both become
//! [`Capability`]s of a [`Principal`], and every check goes through [`Principal::can`].
//!
//! **Visibility rule** (every module follows it): a record has an owning unit (where it belongs,
//! e.g. the commune a place is in) and handling units (assigned, coordinating). A capability
//! sees a record when its subtree holds the owner or one of the handlers, and — when the
//! capability is narrowed to fields and the record has a field — the record's field is one of
//! them. Records without a field (org units, accounts) are not narrowed by fields.

use crate::{FieldCode, OrgTree, OrgUnitId, TokenId, UserId};
use serde::{Deserialize, Serialize};

/// What an endpoint needs. Serialised as `area.verb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Permission {
    #[serde(rename = "org.read")]
    OrgRead,
    #[serde(rename = "org.write")]
    OrgWrite,
    #[serde(rename = "users.read")]
    UsersRead,
    #[serde(rename = "users.write")]
    UsersWrite,
    #[serde(rename = "audit.read")]
    AuditRead,
    #[serde(rename = "duty.read")]
    DutyRead,
    #[serde(rename = "duty.write")]
    DutyWrite,
    #[serde(rename = "tokens.manage")]
    TokensManage,
    /// See citizen reports of units in scope.
    #[serde(rename = "reports.read")]
    ReportsRead,
    /// Accept, return, update and resolve reports assigned to a unit in scope.
    #[serde(rename = "reports.handle")]
    ReportsHandle,
    /// The IOC's part: verify, reject, merge, assign, transfer, approve, publish, close, reopen.
    #[serde(rename = "reports.dispatch")]
    ReportsDispatch,
    /// Report categories, the working calendar, Open311 clients, citizens' privacy requests.
    #[serde(rename = "reports.admin")]
    ReportsAdmin,
    /// Read context data (NGSI-LD entities, their history, subscriptions) owned in scope.
    #[serde(rename = "context.read")]
    ContextRead,
    /// Create, change and delete context data and subscriptions in scope.
    #[serde(rename = "context.write")]
    ContextWrite,
    /// Devices, connectors, imports and the policies of entity types.
    #[serde(rename = "devices.admin")]
    DevicesAdmin,
}

impl Permission {
    pub const ALL: [Permission; 15] = [
        Self::OrgRead,
        Self::OrgWrite,
        Self::UsersRead,
        Self::UsersWrite,
        Self::AuditRead,
        Self::DutyRead,
        Self::DutyWrite,
        Self::TokensManage,
        Self::ReportsRead,
        Self::ReportsHandle,
        Self::ReportsDispatch,
        Self::ReportsAdmin,
        Self::ContextRead,
        Self::ContextWrite,
        Self::DevicesAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrgRead => "org.read",
            Self::OrgWrite => "org.write",
            Self::UsersRead => "users.read",
            Self::UsersWrite => "users.write",
            Self::AuditRead => "audit.read",
            Self::DutyRead => "duty.read",
            Self::DutyWrite => "duty.write",
            Self::TokensManage => "tokens.manage",
            Self::ReportsRead => "reports.read",
            Self::ReportsHandle => "reports.handle",
            Self::ReportsDispatch => "reports.dispatch",
            Self::ReportsAdmin => "reports.admin",
            Self::ContextRead => "context.read",
            Self::ContextWrite => "context.write",
            Self::DevicesAdmin => "devices.admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// The roles of the platform. The public (citizen) role needs no account and is not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    Leader,
    Operator,
    Specialist,
    CommuneOfficer,
    SocAnalyst,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Self::Administrator, Self::Leader, Self::Operator, Self::Specialist, Self::CommuneOfficer, Self::SocAnalyst];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Administrator => "administrator",
            Self::Leader => "leader",
            Self::Operator => "operator",
            Self::Specialist => "specialist",
            Self::CommuneOfficer => "commune_officer",
            Self::SocAnalyst => "soc_analyst",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Self::Administrator => "Quản trị hệ thống",
            Self::Leader => "Lãnh đạo",
            Self::Operator => "Điều hành viên IOC",
            Self::Specialist => "Chuyên viên sở, ngành",
            Self::CommuneOfficer => "Cán bộ xã, phường",
            Self::SocAnalyst => "Chuyên viên giám sát an toàn thông tin (SOC)",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Self::Administrator => "Administrator",
            Self::Leader => "Leader",
            Self::Operator => "IOC operator",
            Self::Specialist => "Department specialist",
            Self::CommuneOfficer => "Commune officer",
            Self::SocAnalyst => "SOC analyst",
        }
    }

    /// The permission matrix. Service modules add their permissions here, so the whole matrix
    /// stays readable in one place.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Self::Administrator => &Permission::ALL,
            Self::Leader => &[OrgRead, UsersRead, DutyRead, AuditRead, ReportsRead, ContextRead],
            Self::Operator => &[
                OrgRead,
                UsersRead,
                DutyRead,
                DutyWrite,
                ReportsRead,
                ReportsHandle,
                ReportsDispatch,
                ContextRead,
                ContextWrite,
            ],
            Self::Specialist => &[OrgRead, ReportsRead, ReportsHandle, ContextRead],
            Self::CommuneOfficer => &[OrgRead, UsersRead, ReportsRead, ReportsHandle, ContextRead],
            Self::SocAnalyst => &[OrgRead, DutyRead, AuditRead],
        }
    }

    /// Roles that must log in with a second factor outside the demo.
    pub fn requires_totp(self) -> bool {
        matches!(self, Self::Administrator | Self::Leader | Self::SocAnalyst)
    }
}

/// Permissions on one org-unit subtree, optionally narrowed to fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    pub permissions: Vec<Permission>,
    pub unit: OrgUnitId,
    /// Empty means every field.
    pub fields: Vec<FieldCode>,
}

impl Capability {
    pub fn from_role(role: Role, unit: OrgUnitId, fields: Vec<FieldCode>) -> Self {
        Self { permissions: role.permissions().to_vec(), unit, fields }
    }

    fn sees(&self, record: &Record, tree: &OrgTree) -> bool {
        let field_ok = match (&record.field, self.fields.is_empty()) {
            (Some(f), false) => self.fields.contains(f),
            _ => true,
        };
        field_ok && std::iter::once(&record.owner).chain(&record.handlers).any(|u| tree.is_within(*u, self.unit))
    }
}

/// What a record exposes to the visibility rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub owner: OrgUnitId,
    pub handlers: Vec<OrgUnitId>,
    pub field: Option<FieldCode>,
}

impl Record {
    /// A record that belongs to one unit and is handled by no other.
    pub fn owned_by(owner: OrgUnitId) -> Self {
        Self { owner, handlers: Vec::new(), field: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    User {
        id: UserId,
        username: String,
    },
    Token {
        id: TokenId,
        name: String,
    },
    /// The platform itself: scheduled jobs, the command line, the demo loader.
    System,
}

/// Whoever is acting: a person, a machine client, or the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub capabilities: Vec<Capability>,
}

impl Principal {
    pub fn system() -> Self {
        Self { kind: PrincipalKind::System, capabilities: Vec::new() }
    }

    pub fn is_system(&self) -> bool {
        self.kind == PrincipalKind::System
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self.kind {
            PrincipalKind::User { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Holds `permission` somewhere: enough to call the endpoint, not to touch a given record.
    pub fn has(&self, permission: Permission) -> bool {
        self.is_system() || self.capabilities.iter().any(|c| c.permissions.contains(&permission))
    }

    /// May exercise `permission` on `record`.
    pub fn can(&self, permission: Permission, record: &Record, tree: &OrgTree) -> bool {
        self.is_system()
            || self.capabilities.iter().any(|c| c.permissions.contains(&permission) && c.sees(record, tree))
    }

    /// May exercise `permission` on a record owned by `unit` with no field.
    pub fn can_at(&self, permission: Permission, unit: OrgUnitId, tree: &OrgTree) -> bool {
        self.can(permission, &Record::owned_by(unit), tree)
    }

    /// The subtree roots where `permission` holds, for filtering lists in the store.
    /// `None` means everywhere (the system principal).
    pub fn scope(&self, permission: Permission) -> Option<Vec<OrgUnitId>> {
        if self.is_system() {
            return None;
        }
        let mut roots: Vec<OrgUnitId> =
            self.capabilities.iter().filter(|c| c.permissions.contains(&permission)).map(|c| c.unit).collect();
        roots.sort();
        roots.dedup();
        Some(roots)
    }

    /// The permissions held anywhere, for the UI to decide what to show.
    pub fn permissions(&self) -> Vec<Permission> {
        if self.is_system() {
            return Permission::ALL.to_vec();
        }
        let mut all: Vec<Permission> = self.capabilities.iter().flat_map(|c| c.permissions.iter().copied()).collect();
        all.sort();
        all.dedup();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PROVINCE: OrgUnitId = OrgUnitId(1);
    const DEPT: OrgUnitId = OrgUnitId(2);
    const COMMUNE_A: OrgUnitId = OrgUnitId(3);
    const COMMUNE_B: OrgUnitId = OrgUnitId(4);
    const DIVISION_A: OrgUnitId = OrgUnitId(5);

    fn tree() -> OrgTree {
        OrgTree::new([
            (PROVINCE, None),
            (DEPT, Some(PROVINCE)),
            (COMMUNE_A, Some(PROVINCE)),
            (COMMUNE_B, Some(PROVINCE)),
            (DIVISION_A, Some(COMMUNE_A)),
        ])
    }

    fn user(caps: Vec<Capability>) -> Principal {
        Principal { kind: PrincipalKind::User { id: UserId(9), username: "u".into() }, capabilities: caps }
    }

    fn field(s: &str) -> FieldCode {
        FieldCode::parse(s).unwrap()
    }

    #[test]
    fn commune_officer_sees_own_subtree_only() {
        let officer = user(vec![Capability::from_role(Role::CommuneOfficer, COMMUNE_A, vec![])]);
        let t = tree();
        assert!(officer.can_at(Permission::OrgRead, COMMUNE_A, &t));
        assert!(officer.can_at(Permission::OrgRead, DIVISION_A, &t));
        assert!(!officer.can_at(Permission::OrgRead, COMMUNE_B, &t));
        assert!(!officer.can_at(Permission::OrgRead, PROVINCE, &t));
        assert!(!officer.can_at(Permission::UsersWrite, COMMUNE_A, &t));
    }

    #[test]
    fn handling_unit_grants_visibility() {
        let officer = user(vec![Capability::from_role(Role::CommuneOfficer, COMMUNE_A, vec![])]);
        let assigned = Record { owner: COMMUNE_B, handlers: vec![DIVISION_A], field: None };
        assert!(officer.can(Permission::OrgRead, &assigned, &tree()));
    }

    #[test]
    fn fields_narrow_records_that_have_a_field() {
        let specialist = user(vec![Capability::from_role(Role::Specialist, PROVINCE, vec![field("construction")])]);
        let t = tree();
        let building = Record { owner: COMMUNE_B, handlers: vec![], field: Some(field("construction")) };
        let health = Record { owner: COMMUNE_B, handlers: vec![], field: Some(field("health")) };
        assert!(specialist.can(Permission::OrgRead, &building, &t));
        assert!(!specialist.can(Permission::OrgRead, &health, &t));
        assert!(specialist.can_at(Permission::OrgRead, COMMUNE_B, &t));
    }

    #[test]
    fn scope_lists_subtree_roots() {
        let p = user(vec![
            Capability::from_role(Role::CommuneOfficer, COMMUNE_A, vec![]),
            Capability::from_role(Role::Operator, DEPT, vec![]),
        ]);
        assert_eq!(p.scope(Permission::OrgRead), Some(vec![DEPT, COMMUNE_A]));
        assert_eq!(p.scope(Permission::DutyWrite), Some(vec![DEPT]));
        assert_eq!(Principal::system().scope(Permission::OrgRead), None);
        assert!(!p.has(Permission::AuditRead));
    }

    #[test]
    fn administrator_holds_every_permission() {
        for p in Permission::ALL {
            assert!(Role::Administrator.permissions().contains(&p));
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }

    proptest! {
        /// Whatever the grants, a capability on one commune never reaches a sibling commune.
        #[test]
        fn no_grant_on_a_leaves_reaches_b(perm_idx in 0usize..8, role_idx in 0usize..6) {
            let role = Role::ALL[role_idx];
            let perm = Permission::ALL[perm_idx];
            let p = user(vec![Capability::from_role(role, COMMUNE_A, vec![])]);
            prop_assert!(!p.can_at(perm, COMMUNE_B, &tree()));
        }
    }
}
