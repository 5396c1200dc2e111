//! Point-in-area lookup: "which commune is this incident in?".

use geo::{BoundingRect, Distance, Euclidean, Intersects, MultiPolygon, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

/// How far (degrees, about 1 cm) a point may lie outside every area and still be
/// given to the nearest one. Areas built one by one by floating-point boolean
/// operations can leave slivers far thinner than this between neighbours; a point
/// in such a sliver is in the province, not outside it.
pub const SNAP_TOLERANCE_DEG: f64 = 1e-7;

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// A set of keyed areas (x = longitude, y = latitude) that answers which one holds
/// a point.
///
/// An R-tree over bounding boxes narrows the search to a handful of candidates, then
/// an exact point-in-polygon test decides, so a lookup costs microseconds even for
/// detailed supplied boundaries.
pub struct AreaIndex<K> {
    areas: Vec<(K, MultiPolygon<f64>)>,
    tree: RTree<Entry>,
}

impl<K> AreaIndex<K> {
    /// Areas are kept in the given order; that order breaks ties (see [`Self::locate`]).
    /// Empty areas are kept (so [`Self::len`] matches the input) but never match.
    pub fn new(areas: impl IntoIterator<Item = (K, MultiPolygon<f64>)>) -> Self {
        let areas: Vec<(K, MultiPolygon<f64>)> = areas.into_iter().collect();
        let entries = areas
            .iter()
            .enumerate()
            .filter_map(|(i, (_, mp))| {
                let r = mp.bounding_rect()?;
                let (min, max) = (r.min(), r.max());
                [min.x, min.y, max.x, max.y]
                    .iter()
                    .all(|v| v.is_finite())
                    .then(|| GeomWithData::new(Rectangle::from_corners([min.x, min.y], [max.x, max.y]), i))
            })
            .collect();
        AreaIndex { areas, tree: RTree::bulk_load(entries) }
    }

    /// The key of the area holding `p`.
    ///
    /// A point on an edge shared by several areas goes to the one given first to
    /// [`Self::new`], so the answer never depends on the R-tree's internal order.
    /// Failing an exact hit, a point within [`SNAP_TOLERANCE_DEG`] of an area goes to
    /// the nearest one. Non-finite points are in no area.
    pub fn locate(&self, p: Point<f64>) -> Option<&K> {
        self.locate_index(p).and_then(|i| self.areas.get(i)).map(|(k, _)| k)
    }

    /// Whether `p` is in any of the areas; with a province's communes, whether it is
    /// inside the province.
    pub fn contains(&self, p: Point<f64>) -> bool {
        self.locate_index(p).is_some()
    }

    pub fn len(&self) -> usize {
        self.areas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// All keys and areas, in the order given.
    pub fn areas(&self) -> &[(K, MultiPolygon<f64>)] {
        &self.areas
    }

    fn locate_index(&self, p: Point<f64>) -> Option<usize> {
        if !(p.x().is_finite() && p.y().is_finite()) {
            return None;
        }
        let exact = self
            .tree
            .locate_all_at_point(&[p.x(), p.y()])
            .map(|e| e.data)
            .filter(|&i| self.areas.get(i).is_some_and(|(_, mp)| mp.intersects(&p)))
            .min();
        if exact.is_some() {
            return exact;
        }
        let t = SNAP_TOLERANCE_DEG;
        let around = AABB::from_corners([p.x() - t, p.y() - t], [p.x() + t, p.y() + t]);
        self.tree
            .locate_in_envelope_intersecting(&around)
            .filter_map(|e| {
                let (_, mp) = self.areas.get(e.data)?;
                let d = Euclidean.distance(&p, mp);
                (d <= t).then_some((d, e.data))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            .map(|(_, i)| i)
    }
}

impl<K: std::fmt::Debug> std::fmt::Debug for AreaIndex<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AreaIndex").field("areas", &self.areas.len()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Rect, coord};

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        Rect::new(coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 }).to_polygon().into()
    }

    #[test]
    fn shared_edge_goes_to_the_first_area() {
        let index = AreaIndex::new([("b", square(1.0, 0.0, 2.0, 1.0)), ("a", square(0.0, 0.0, 1.0, 1.0))]);
        assert_eq!(index.locate(Point::new(1.0, 0.5)), Some(&"b"));
        let index = AreaIndex::new([("a", square(0.0, 0.0, 1.0, 1.0)), ("b", square(1.0, 0.0, 2.0, 1.0))]);
        assert_eq!(index.locate(Point::new(1.0, 0.5)), Some(&"a"));
        assert_eq!(index.locate(Point::new(1.5, 0.5)), Some(&"b"));
    }

    #[test]
    fn slivers_snap_but_outside_does_not() {
        let index = AreaIndex::new([("a", square(0.0, 0.0, 1.0, 1.0)), ("b", square(1.0 + 1e-9, 0.0, 2.0, 1.0))]);
        assert_eq!(index.locate(Point::new(1.0 + 5e-10, 0.5)), Some(&"a"));
        assert!(index.contains(Point::new(1.5, 0.5)));
        assert!(!index.contains(Point::new(2.0 + 1e-6, 0.5)));
        assert!(!index.contains(Point::new(f64::NAN, 0.5)));
        assert!(!index.contains(Point::new(f64::INFINITY, f64::NEG_INFINITY)));
    }

    #[test]
    fn empty_areas_and_empty_index() {
        let index: AreaIndex<u8> = AreaIndex::new([]);
        assert!(index.is_empty());
        assert_eq!(index.locate(Point::new(0.0, 0.0)), None);
        let index = AreaIndex::new([(1u8, MultiPolygon(Vec::new()))]);
        assert_eq!(index.len(), 1);
        assert_eq!(index.locate(Point::new(0.0, 0.0)), None);
    }
}
