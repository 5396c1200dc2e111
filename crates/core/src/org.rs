//! The org tree: the province, its departments and communes, and their sub-units.

use crate::{Invalid, OrgUnitId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What kind of unit this is. Commune-level units come in three kinds since July 2025.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgUnitType {
    /// Tỉnh / thành phố trực thuộc trung ương.
    Province,
    /// Sở, ban, ngành.
    Department,
    /// Other agencies (centres, boards) under the province.
    Agency,
    /// Công an tỉnh and its units.
    Police,
    /// Phường.
    Ward,
    /// Xã.
    Commune,
    /// Đặc khu.
    SpecialZone,
    /// Phòng, ban, đội: a sub-unit of any of the above.
    Division,
}

impl OrgUnitType {
    pub const ALL: [OrgUnitType; 8] = [
        Self::Province,
        Self::Department,
        Self::Agency,
        Self::Police,
        Self::Ward,
        Self::Commune,
        Self::SpecialZone,
        Self::Division,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Department => "department",
            Self::Agency => "agency",
            Self::Police => "police",
            Self::Ward => "ward",
            Self::Commune => "commune",
            Self::SpecialZone => "special_zone",
            Self::Division => "division",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Phường, xã and đặc khu: the units a place belongs to.
    pub fn is_commune_level(self) -> bool {
        matches!(self, Self::Ward | Self::Commune | Self::SpecialZone)
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Self::Province => "Tỉnh",
            Self::Department => "Sở, ngành",
            Self::Agency => "Cơ quan",
            Self::Police => "Công an",
            Self::Ward => "Phường",
            Self::Commune => "Xã",
            Self::SpecialZone => "Đặc khu",
            Self::Division => "Phòng, ban",
        }
    }

    /// Which parents make sense, so the tree never holds a province under a commune.
    pub fn may_be_child_of(self, parent: OrgUnitType) -> bool {
        match self {
            Self::Province => false,
            Self::Department | Self::Agency | Self::Police => parent == Self::Province,
            Self::Ward | Self::Commune | Self::SpecialZone => parent == Self::Province,
            Self::Division => parent != Self::Province,
        }
    }
}

/// A field of work (lĩnh vực) that can narrow a grant: e.g. `construction` for Sở Xây dựng.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "construction")]
pub struct FieldCode(String);

impl FieldCode {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && s.as_bytes()[0].is_ascii_lowercase();
        if ok {
            Ok(FieldCode(s.to_owned()))
        } else {
            Err(Invalid::field("field", "a field code is 1–40 of a–z, 0–9 and _, starting with a letter"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FieldCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        FieldCode::parse(&s).map_err(|e| e.to_string())
    }
}

impl From<FieldCode> for String {
    fn from(f: FieldCode) -> String {
        f.0
    }
}

/// The shape of the org tree, held in memory by the server for scope checks: a province has a
/// few thousand units at most, and every request asks "is this unit inside that subtree".
#[derive(Debug, Clone, Default)]
pub struct OrgTree {
    parent: HashMap<OrgUnitId, Option<OrgUnitId>>,
}

impl OrgTree {
    pub fn new(edges: impl IntoIterator<Item = (OrgUnitId, Option<OrgUnitId>)>) -> Self {
        Self { parent: edges.into_iter().collect() }
    }

    pub fn contains(&self, unit: OrgUnitId) -> bool {
        self.parent.contains_key(&unit)
    }

    pub fn parent(&self, unit: OrgUnitId) -> Option<OrgUnitId> {
        self.parent.get(&unit).copied().flatten()
    }

    /// True when `unit` is `root` or below it. Bounded by the tree's size, so a corrupted
    /// cycle cannot hang a request.
    pub fn is_within(&self, unit: OrgUnitId, root: OrgUnitId) -> bool {
        let mut current = Some(unit);
        for _ in 0..=self.parent.len() {
            match current {
                Some(u) if u == root => return true,
                Some(u) => current = self.parent(u),
                None => return false,
            }
        }
        false
    }

    /// The unit and its ancestors, the unit first.
    pub fn lineage(&self, unit: OrgUnitId) -> Vec<OrgUnitId> {
        let mut out = Vec::new();
        let mut current = Some(unit);
        while let Some(u) = current {
            if out.contains(&u) || !self.contains(u) {
                break;
            }
            out.push(u);
            current = self.parent(u);
        }
        out
    }

    /// Units without a parent (a province has one), in id order.
    pub fn roots(&self) -> Vec<OrgUnitId> {
        let mut roots: Vec<OrgUnitId> = self.parent.iter().filter(|(_, p)| p.is_none()).map(|(u, _)| *u).collect();
        roots.sort();
        roots
    }

    /// The unit and every unit below it, in no particular order.
    pub fn subtree(&self, root: OrgUnitId) -> Vec<OrgUnitId> {
        self.parent.keys().copied().filter(|u| self.is_within(*u, root)).collect()
    }

    /// Would making `parent` the parent of `unit` create a cycle?
    pub fn would_cycle(&self, unit: OrgUnitId, parent: OrgUnitId) -> bool {
        self.is_within(parent, unit)
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> OrgTree {
        // 1 province → 2 dept → 4 division; 1 → 3 commune
        OrgTree::new([
            (OrgUnitId(1), None),
            (OrgUnitId(2), Some(OrgUnitId(1))),
            (OrgUnitId(3), Some(OrgUnitId(1))),
            (OrgUnitId(4), Some(OrgUnitId(2))),
        ])
    }

    #[test]
    fn subtree_membership() {
        let t = tree();
        assert!(t.is_within(OrgUnitId(4), OrgUnitId(1)));
        assert!(t.is_within(OrgUnitId(4), OrgUnitId(2)));
        assert!(t.is_within(OrgUnitId(3), OrgUnitId(3)));
        assert!(!t.is_within(OrgUnitId(3), OrgUnitId(2)));
        assert!(!t.is_within(OrgUnitId(1), OrgUnitId(2)));
        assert_eq!(t.lineage(OrgUnitId(4)), [OrgUnitId(4), OrgUnitId(2), OrgUnitId(1)]);
        assert!(t.would_cycle(OrgUnitId(2), OrgUnitId(4)));
        assert!(!t.would_cycle(OrgUnitId(3), OrgUnitId(2)));
    }

    #[test]
    fn a_cycle_in_stored_data_does_not_hang() {
        let t = OrgTree::new([(OrgUnitId(1), Some(OrgUnitId(2))), (OrgUnitId(2), Some(OrgUnitId(1)))]);
        assert!(!t.is_within(OrgUnitId(1), OrgUnitId(3)));
        assert_eq!(t.lineage(OrgUnitId(1)).len(), 2);
    }

    #[test]
    fn field_codes_are_slugs() {
        assert!(FieldCode::parse("construction").is_ok());
        assert!(FieldCode::parse("Construction").is_err());
        assert!(FieldCode::parse("").is_err());
        assert!(FieldCode::parse("9x").is_err());
        assert!(FieldCode::parse("a-b").is_err());
    }

    #[test]
    fn type_parents() {
        assert!(OrgUnitType::Ward.may_be_child_of(OrgUnitType::Province));
        assert!(!OrgUnitType::Ward.may_be_child_of(OrgUnitType::Commune));
        assert!(OrgUnitType::Division.may_be_child_of(OrgUnitType::Commune));
        assert!(!OrgUnitType::Province.may_be_child_of(OrgUnitType::Province));
        for t in OrgUnitType::ALL {
            assert_eq!(OrgUnitType::parse(t.as_str()), Some(t));
        }
    }
}
