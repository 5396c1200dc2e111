//! Records the store hands out. They are what the API returns, so they carry schemas.

use chrono::{DateTime, Utc};
use haidang_core::{FieldCode, GrantId, OrgUnitId, OrgUnitType, Permission, Role, ShiftId, TokenId, UserId};
use serde::Serialize;
use utoipa::ToSchema;

/// How a unit's area was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BoundaryKind {
    /// No area: only a centre point, or nothing.
    None,
    /// Approximated from the centres of neighbouring units (ranh giới gần đúng).
    Approximate,
    /// Supplied by the province.
    Official,
}

impl BoundaryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Approximate => "approximate",
            Self::Official => "official",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "approximate" => Self::Approximate,
            "official" => Self::Official,
            _ => Self::None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct Contact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrgUnit {
    pub id: OrgUnitId,
    /// The official code (communes: the national code; departments: the province's code).
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    #[serde(rename = "type")]
    pub unit_type: OrgUnitType,
    pub parent_id: Option<OrgUnitId>,
    /// Depth in the tree: 0 for the province.
    pub level: u32,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub area_km2: Option<f64>,
    pub boundary: BoundaryKind,
    /// The code is a placeholder made up for the demo, not an official one.
    pub demo_code: bool,
    /// Number of direct sub-units.
    pub children: i64,
    pub contact: Contact,
}

/// A short reference to a unit, for embedding in other records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UnitRef {
    pub id: OrgUnitId,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldInfo {
    pub code: FieldCode,
    pub name_vi: String,
    pub name_en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Grant {
    pub id: GrantId,
    pub role: Role,
    pub unit: UnitRef,
    /// Empty: every field.
    pub fields: Vec<FieldCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub home_unit: UnitRef,
    pub active: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub must_change_password: bool,
    pub totp_enabled: bool,
    pub locale: String,
    pub last_login_at: Option<DateTime<Utc>>,
    pub grants: Vec<Grant>,
}

/// What login needs to know about an account; never serialised.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user_id: UserId,
    pub password_hash: String,
    pub active: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub failed_logins: i64,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserRef {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Shift {
    pub id: ShiftId,
    pub unit: UnitRef,
    pub user: UserRef,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub handover_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    pub unit: UnitRef,
    pub permissions: Vec<Permission>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Context data: only these entity types (expanded IRIs); `None` = every type.
    pub entity_types: Option<Vec<String>>,
}

/// A live session, looked up by the hash of its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: UserId,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}
