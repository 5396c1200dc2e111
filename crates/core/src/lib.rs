//! Domain types shared by every module of Hải Đăng.
//!
//! Nothing here does I/O. The store persists these types, the API exposes them, and each
//! service module builds on them — so the rules that must hold everywhere (who may see what,
//! which unit a record belongs to, what time it is) live here once.

pub mod access;
pub mod clock;
pub mod ids;
pub mod org;
pub mod validation;

pub use access::{Capability, Permission, Principal, PrincipalKind, Record, Role};
pub use clock::{Clock, ManualClock, SystemClock};
pub use ids::*;
pub use org::{FieldCode, OrgTree, OrgUnitType};
pub use validation::{FieldError, Invalid};
