//! Typed identifiers, so a user id is never passed where an org unit id is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = i64)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An org unit: the province, a department, a commune, a division.
    OrgUnitId
);
id_type!(
    /// A person's account.
    UserId
);
id_type!(
    /// One grant of a role on an org-unit subtree.
    GrantId
);
id_type!(
    /// A machine client's API token.
    TokenId
);
id_type!(
    /// One shift of the IOC duty roster.
    ShiftId
);
id_type!(
    /// One entry of the audit log.
    AuditId
);
