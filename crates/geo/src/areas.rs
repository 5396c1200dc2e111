//! Approximate commune areas from centre points, for as long as no real
//! boundaries are available.
//!
//! The official dataset gives each commune a representative point and an area in
//! km², nothing more. To route an incident to a commune we still need *some*
//! partition of the province, so each commune gets the Voronoi cell of its centre
//! (every point goes to the nearest centre), cut down to a plausible footprint:
//!
//! * **outline** — the union of the pre-2025 district bounding boxes of the
//!   province, plus a disc of the commune's own area around every centre. The
//!   boxes stop cells running into the next province where they are tight; the
//!   discs keep islands and the few centres that fall outside every (sometimes
//!   wrong) box inside their own cell.
//! * **cap** — the union of discs of radius [`CAP_FACTOR`] × √(km²/π) around all
//!   centres. Cells on the coast or the border would otherwise stretch until the
//!   (loose) outline stops them, tens of km into the sea or the next country.
//!
//! The cap is deliberately the *union* of the discs rather than each cell's own
//! disc: a small ward next to a large rural commune has a Voronoi cell that reaches
//! well past its own disc (the bisector lies half-way between the centres), so a
//! per-cell cap would cut holes between neighbours. With the union, any point that
//! is inside the footprint belongs to exactly one cell (its nearest centre): the
//! cells tile the footprint with no gaps and no overlaps, by construction.
//!
//! All geometry is done in a local equirectangular projection (km, longitude scaled
//! by cos of the mean latitude). It is affine, so straight edges stay straight and
//! the result maps back to longitude/latitude exactly; distances are within ~1% over
//! a province, far below the error of the approximation itself.

use std::collections::HashMap;
use std::f64::consts::PI;

use geo::{BooleanOps, Coord, GeodesicArea, LineString, MapCoords, MultiPolygon, Point, Polygon, Rect};
use spade::handles::FixedVertexHandle;
use spade::{DelaunayTriangulation, Point2, Triangulation};

/// How far, in multiples of the equal-area radius √(km²/π), the footprint reaches
/// around each centre.
///
/// A compact commune's farthest point is ~1.2–1.6 × its equal-area radius from its
/// centroid, and upstream centres are geocoded points, often a radius or so off the
/// centroid, so the factor must be well above 1 for the union of discs to cover the
/// land. Measured on the embedded data (grid samples inside the hull of the centres
/// and inside the legacy boxes of the 11 provinces without a coast):
///
/// | factor | uncovered samples, inland | Σ approx / Σ official, all 34 |
/// | --- | --- | --- |
/// | 2.0 | 0–2.6 % | 1.25 |
/// | 2.5 | 0–0.6 % | 1.30 |
/// | **3.0** | **0–0.06 %** | **1.33** |
/// | no cap | 0 | 1.45 (Hồ Chí Minh 4.8, sea) |
///
/// 3 is where the holes inland vanish; beyond it the factor only buys sea and
/// foreign land (coastal cells grow by roughly 60 % of their area per step of 1).
pub const CAP_FACTOR: f64 = 3.0;

/// Area assumed for a commune with no usable area when no other commune in the call
/// has one either: the national median (72 km²).
pub const DEFAULT_AREA_KM2: f64 = 72.0;

/// Areas above this are treated as errors and clamped, so that one wild input cannot
/// make the footprint of a whole province meaningless (the largest province is
/// ~ 30,000 km², the largest commune ~ 1,100 km²).
pub const MAX_AREA_KM2: f64 = 50_000.0;

/// Vertices of the polygons standing in for discs. 48 loses 0.3 % of the area.
const DISC_SEGMENTS: usize = 48;

/// Mean Earth radius (IUGG) in km, times π/180.
const KM_PER_DEGREE: f64 = 6_371.008_8 * PI / 180.0;

/// One commune as [`approximate_areas`] sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AreaSeed {
    /// x = longitude, y = latitude (WGS84 degrees).
    pub centre: Point<f64>,
    /// Official area; `None`, zero, negative or non-finite means unknown, and the
    /// median of the known areas in the same call is used instead.
    pub area_km2: Option<f64>,
}

/// Approximate the area of each seed by its Voronoi cell, clipped as described in
/// the [module docs](self). Returns one multipolygon per seed, in input order,
/// x = longitude, y = latitude.
///
/// Never panics. A seed whose centre is not a finite WGS84 position gets an empty
/// multipolygon, and so does every seed after the first at an exactly repeated
/// centre (two communes cannot be told apart by a single point). Empty or
/// non-finite outline rectangles are ignored.
///
/// Meant for one province at a time: the projection is centred on the seeds, so a
/// call spanning many degrees of latitude (or the antimeridian) is skewed.
pub fn approximate_areas(seeds: &[AreaSeed], outline: &[Rect<f64>]) -> Vec<MultiPolygon<f64>> {
    let cap_factor = CAP_FACTOR;
    let mut out = vec![MultiPolygon::<f64>(Vec::new()); seeds.len()];

    // Unique, valid sites; `owner[k]` is the seed index of site k.
    let mut owner: Vec<usize> = Vec::new();
    let mut seen: HashMap<(u64, u64), usize> = HashMap::new();
    for (i, s) in seeds.iter().enumerate() {
        let (lon, lat) = (s.centre.x(), s.centre.y());
        if !valid_lon_lat(lon, lat) {
            continue;
        }
        // `+ 0.0` folds -0.0 into 0.0 so both count as the same position.
        let key = ((lon + 0.0).to_bits(), (lat + 0.0).to_bits());
        seen.entry(key).or_insert_with(|| {
            owner.push(i);
            i
        });
    }
    if owner.is_empty() {
        return out;
    }

    let proj = LocalProjection::around(owner.iter().filter_map(|&i| seeds.get(i)));
    let sites: Vec<Coord<f64>> = owner.iter().filter_map(|&i| seeds.get(i)).map(|s| proj.forward(s.centre.0)).collect();
    let radii = equal_area_radii(seeds, &owner);

    let caps: Vec<Polygon<f64>> = sites.iter().zip(&radii).map(|(c, r)| disc(*c, cap_factor * r)).collect();
    // The outline: legacy boxes plus a disc of each commune's own area.
    let mut outline_parts: Vec<Polygon<f64>> = outline.iter().filter_map(|r| proj.forward_rect(r)).collect();
    let outline_rects = outline_parts.len();
    outline_parts.extend(sites.iter().zip(&radii).map(|(c, r)| disc(*c, *r)));

    let cap_boxes: Vec<Bbox> = caps.iter().map(Bbox::of_polygon).collect();
    let outline_boxes: Vec<Bbox> = outline_parts.iter().map(Bbox::of_polygon).collect();
    let everything = cap_boxes.iter().fold(Bbox::EMPTY, |a, b| a.union(b));

    let neighbours = delaunay_neighbours(&sites).unwrap_or_else(|| all_pairs(sites.len()));

    for (k, site) in sites.iter().enumerate() {
        let Some(&seed_index) = owner.get(k) else {
            continue;
        };
        let mut cell = everything.corners();
        for &j in neighbours.get(k).map(Vec::as_slice).unwrap_or_default() {
            if let Some(other) = sites.get(j) {
                cell = clip_half_plane(&cell, *site, *other);
            }
        }
        if cell.len() < 3 {
            continue;
        }
        let cell_box = Bbox::of_coords(&cell);
        // Boolean operations dominate the cost, so skip each one whenever a single
        // convex part (one disc, one box) already holds the whole convex cell, which
        // is the common case away from the coast and the border.
        let local_caps: Vec<&Polygon<f64>> =
            caps.iter().zip(&cap_boxes).filter(|(_, b)| b.intersects(&cell_box)).map(|(p, _)| p).collect();
        let caps_hold_cell = sites
            .iter()
            .zip(&radii)
            .zip(&cap_boxes)
            .filter(|(_, b)| b.intersects(&cell_box))
            .any(|((c, r), _)| disc_holds(*c, cap_factor * r, &cell));
        let outline_holds_cell = outline_boxes.iter().take(outline_rects).any(|b| b.holds(&cell_box))
            || disc_holds(*site, radii.get(k).copied().unwrap_or(0.0), &cell);
        let mut clipped = MultiPolygon(vec![Polygon::new(LineString::from(close(cell)), Vec::new())]);
        if !caps_hold_cell {
            clipped = clipped.intersection(&geo::unary_union(local_caps));
        }
        if !outline_holds_cell {
            let local_outline: Vec<&Polygon<f64>> = outline_parts
                .iter()
                .zip(&outline_boxes)
                .filter(|(_, b)| b.intersects(&cell_box))
                .map(|(p, _)| p)
                .collect();
            clipped = clipped.intersection(&geo::unary_union(local_outline));
        }
        if let Some(slot) = out.get_mut(seed_index) {
            *slot = clipped.map_coords(|c| proj.inverse(c));
        }
    }
    out
}

/// Geodesic area in km² (WGS84 ellipsoid, x = longitude, y = latitude). Useful to
/// sanity-check approximations and supplied boundaries against official areas.
pub fn geodesic_area_km2(area: &MultiPolygon<f64>) -> f64 {
    area.geodesic_area_unsigned() / 1e6
}

fn valid_lon_lat(lon: f64, lat: f64) -> bool {
    lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)
}

/// Equal-area radius per site, with unknown areas replaced by the median of the
/// known ones (a neighbour-sized guess beats a national constant).
fn equal_area_radii(seeds: &[AreaSeed], owner: &[usize]) -> Vec<f64> {
    let usable = |s: &AreaSeed| s.area_km2.filter(|a| a.is_finite() && *a > 0.0).map(|a| a.min(MAX_AREA_KM2));
    let mut known: Vec<f64> = owner.iter().filter_map(|&i| seeds.get(i).and_then(usable)).collect();
    known.sort_by(f64::total_cmp);
    let fallback = known.get(known.len() / 2).copied().unwrap_or(DEFAULT_AREA_KM2);
    owner
        .iter()
        .map(|&i| {
            let a = seeds.get(i).and_then(usable).unwrap_or(fallback);
            (a / PI).sqrt()
        })
        .collect()
}

/// Local equirectangular projection to km.
struct LocalProjection {
    lon0: f64,
    lat0: f64,
    kx: f64,
    ky: f64,
}

impl LocalProjection {
    fn around<'a>(seeds: impl Iterator<Item = &'a AreaSeed>) -> Self {
        let (mut n, mut lon, mut lat) = (0.0, 0.0, 0.0);
        for s in seeds {
            n += 1.0;
            lon += s.centre.x();
            lat += s.centre.y();
        }
        let (lon0, lat0) = if n > 0.0 { (lon / n, lat / n) } else { (0.0, 0.0) };
        LocalProjection {
            lon0,
            lat0,
            // Clamped so a polar call degrades instead of dividing by zero.
            kx: KM_PER_DEGREE * lat0.to_radians().cos().max(0.01),
            ky: KM_PER_DEGREE,
        }
    }

    fn forward(&self, c: Coord<f64>) -> Coord<f64> {
        Coord { x: (c.x - self.lon0) * self.kx, y: (c.y - self.lat0) * self.ky }
    }

    fn inverse(&self, c: Coord<f64>) -> Coord<f64> {
        Coord { x: c.x / self.kx + self.lon0, y: c.y / self.ky + self.lat0 }
    }

    fn forward_rect(&self, r: &Rect<f64>) -> Option<Polygon<f64>> {
        let (min, max) = (r.min(), r.max());
        if !(valid_lon_lat(min.x, min.y) && valid_lon_lat(max.x, max.y)) {
            return None;
        }
        let (a, b) = (self.forward(min), self.forward(max));
        if !(b.x > a.x && b.y > a.y) {
            return None; // degenerate: adds nothing to a union
        }
        let ring = vec![a, Coord { x: b.x, y: a.y }, b, Coord { x: a.x, y: b.y }, a];
        Some(Polygon::new(LineString::from(ring), Vec::new()))
    }
}

/// Counter-clockwise polygon inscribed in the circle. Every polygon handed to the
/// boolean operations is counter-clockwise: `unary_union` picks its fill rule from
/// the first ring's orientation.
fn disc(centre: Coord<f64>, radius: f64) -> Polygon<f64> {
    let ring: Vec<Coord<f64>> = (0..=DISC_SEGMENTS)
        .map(|i| {
            let t = 2.0 * PI * (i % DISC_SEGMENTS) as f64 / DISC_SEGMENTS as f64;
            Coord { x: centre.x + radius * t.cos(), y: centre.y + radius * t.sin() }
        })
        .collect();
    Polygon::new(LineString::from(ring), Vec::new())
}

/// Whether the inscribed polygon of the disc holds every vertex of the convex ring
/// (and so, by convexity, the whole ring).
fn disc_holds(centre: Coord<f64>, radius: f64, ring: &[Coord<f64>]) -> bool {
    let inradius = radius * (PI / DISC_SEGMENTS as f64).cos();
    ring.iter().all(|p| {
        let d = *p - centre;
        d.x * d.x + d.y * d.y <= inradius * inradius
    })
}

fn close(mut ring: Vec<Coord<f64>>) -> Vec<Coord<f64>> {
    if let Some(&first) = ring.first() {
        ring.push(first);
    }
    ring
}

/// Keep the part of the convex, open, counter-clockwise ring that is at least as
/// close to `site` as to `other` (Sutherland–Hodgman against one bisector).
fn clip_half_plane(ring: &[Coord<f64>], site: Coord<f64>, other: Coord<f64>) -> Vec<Coord<f64>> {
    let d = other - site;
    let mid = Coord { x: (site.x + other.x) / 2.0, y: (site.y + other.y) / 2.0 };
    // Positive = on the far side of the bisector.
    let side = |p: Coord<f64>| (p.x - mid.x) * d.x + (p.y - mid.y) * d.y;
    let mut out = Vec::with_capacity(ring.len() + 1);
    for (i, &p) in ring.iter().enumerate() {
        let q = ring.get((i + 1) % ring.len()).copied().unwrap_or(p);
        let (sp, sq) = (side(p), side(q));
        if sp <= 0.0 {
            out.push(p);
        }
        if (sp < 0.0 && sq > 0.0) || (sp > 0.0 && sq < 0.0) {
            let t = sp / (sp - sq);
            out.push(Coord { x: p.x + (q.x - p.x) * t, y: p.y + (q.y - p.y) * t });
        }
    }
    out
}

/// Neighbours of each site in the Delaunay triangulation: the only sites whose
/// bisectors bound its Voronoi cell. `None` if the triangulation refuses a site
/// (coordinates spade cannot represent); the caller then falls back to all pairs.
fn delaunay_neighbours(sites: &[Coord<f64>]) -> Option<Vec<Vec<usize>>> {
    let mut t: DelaunayTriangulation<Point2<f64>> = DelaunayTriangulation::new();
    for (i, s) in sites.iter().enumerate() {
        let handle = t.insert(Point2::new(s.x, s.y)).ok()?;
        if handle.index() != i {
            return None; // merged with an earlier site: not expected after dedup
        }
    }
    Some(
        (0..sites.len())
            .map(|i| t.vertex(FixedVertexHandle::from_index(i)).out_edges().map(|e| e.to().fix().index()).collect())
            .collect(),
    )
}

fn all_pairs(n: usize) -> Vec<Vec<usize>> {
    (0..n).map(|i| (0..n).filter(|&j| j != i).collect()).collect()
}

#[derive(Clone, Copy, Debug)]
struct Bbox {
    min: Coord<f64>,
    max: Coord<f64>,
}

impl Bbox {
    const EMPTY: Bbox = Bbox {
        min: Coord { x: f64::INFINITY, y: f64::INFINITY },
        max: Coord { x: f64::NEG_INFINITY, y: f64::NEG_INFINITY },
    };

    fn of_coords(coords: &[Coord<f64>]) -> Bbox {
        coords.iter().fold(Bbox::EMPTY, |b, c| Bbox {
            min: Coord { x: b.min.x.min(c.x), y: b.min.y.min(c.y) },
            max: Coord { x: b.max.x.max(c.x), y: b.max.y.max(c.y) },
        })
    }

    fn of_polygon(p: &Polygon<f64>) -> Bbox {
        Bbox::of_coords(&p.exterior().0)
    }

    fn union(&self, o: &Bbox) -> Bbox {
        Bbox {
            min: Coord { x: self.min.x.min(o.min.x), y: self.min.y.min(o.min.y) },
            max: Coord { x: self.max.x.max(o.max.x), y: self.max.y.max(o.max.y) },
        }
    }

    fn holds(&self, o: &Bbox) -> bool {
        self.min.x <= o.min.x && o.max.x <= self.max.x && self.min.y <= o.min.y && o.max.y <= self.max.y
    }

    fn intersects(&self, o: &Bbox) -> bool {
        self.min.x <= o.max.x && o.min.x <= self.max.x && self.min.y <= o.max.y && o.min.y <= self.max.y
    }

    /// Open counter-clockwise ring.
    fn corners(&self) -> Vec<Coord<f64>> {
        vec![self.min, Coord { x: self.max.x, y: self.min.y }, self.max, Coord { x: self.min.x, y: self.max.y }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AreaIndex;
    use geo::{Area, coord};

    fn seed(lon: f64, lat: f64, km2: Option<f64>) -> AreaSeed {
        AreaSeed { centre: Point::new(lon, lat), area_km2: km2 }
    }

    fn index(areas: Vec<MultiPolygon<f64>>) -> AreaIndex<usize> {
        AreaIndex::new(areas.into_iter().enumerate())
    }

    #[test]
    fn no_outline_means_own_disc_only() {
        let areas = approximate_areas(&[seed(108.0, 13.0, Some(100.0))], &[]);
        let km2 = geodesic_area_km2(&areas[0]);
        assert!((km2 - 100.0).abs() < 2.0, "{km2}");
    }

    #[test]
    fn outline_box_is_capped() {
        let big = Rect::new(coord! { x: 107.0, y: 12.0 }, coord! { x: 109.0, y: 14.0 });
        let areas = approximate_areas(&[seed(108.0, 13.0, Some(100.0))], &[big]);
        let km2 = geodesic_area_km2(&areas[0]);
        // A disc of CAP_FACTOR² × 100 km², less the polygon's 0.3 %.
        assert!((km2 - CAP_FACTOR * CAP_FACTOR * 100.0).abs() < 10.0, "{km2}");
    }

    #[test]
    fn two_neighbours_split_at_the_bisector_without_gap() {
        let outline = Rect::new(coord! { x: 107.9, y: 12.9 }, coord! { x: 108.3, y: 13.1 });
        // A small ward next to a large commune: the ward's cell reaches well past
        // its own cap, and the large commune's cap must fill in without a gap.
        let seeds = [seed(108.0, 13.0, Some(4.0)), seed(108.1, 13.0, Some(200.0))];
        let areas = approximate_areas(&seeds, &[outline]);
        let idx = index(areas);
        for i in 0..=100 {
            let lon = 108.0 + 0.1 * f64::from(i) / 100.0;
            let expected = if lon < 108.05 { 0 } else { 1 };
            assert_eq!(idx.locate(Point::new(lon, 13.0)), Some(&expected), "lon {lon}");
        }
    }

    #[test]
    fn duplicates_collinear_and_bad_centres_do_not_panic() {
        let seeds = [
            seed(108.0, 13.0, Some(10.0)),
            seed(108.0, 13.0, Some(10.0)),
            seed(108.1, 13.0, None),
            seed(108.2, 13.0, Some(f64::NAN)),
            seed(108.3, 13.0, Some(-5.0)),
            seed(f64::NAN, 13.0, Some(10.0)),
            seed(200.0, 13.0, Some(10.0)),
            seed(-0.0, 0.0, Some(10.0)),
            seed(0.0, -0.0, Some(10.0)),
            seed(108.4, 13.0, Some(f64::INFINITY)),
        ];
        let areas = approximate_areas(&seeds, &[]);
        assert_eq!(areas.len(), seeds.len());
        let empty: Vec<usize> = (0..seeds.len()).filter(|&i| areas[i].0.is_empty()).collect();
        assert_eq!(empty, vec![1, 5, 6, 8]);
        let idx = index(areas);
        for (i, s) in seeds.iter().enumerate() {
            if ![1, 5, 6, 8].contains(&i) {
                assert_eq!(idx.locate(s.centre), Some(&i));
            }
        }
        assert_eq!(idx.locate(Point::new(108.0, 13.0)), Some(&0));
    }

    #[test]
    fn all_collinear_and_tiny_inputs() {
        let line: Vec<AreaSeed> =
            (0..20).map(|i| seed(108.0 + 0.05 * f64::from(i), 13.0 + 0.05 * f64::from(i), Some(30.0))).collect();
        let idx = index(approximate_areas(&line, &[]));
        for (i, s) in line.iter().enumerate() {
            assert_eq!(idx.locate(s.centre), Some(&i));
        }
        assert!(approximate_areas(&[], &[]).is_empty());
        let degenerate = Rect::new(coord! { x: 1.0, y: 1.0 }, coord! { x: 1.0, y: 1.0 });
        let nan = Rect::new(coord! { x: f64::NAN, y: 1.0 }, coord! { x: 2.0, y: 2.0 });
        let areas = approximate_areas(&[seed(1.0, 1.0, Some(1.0))], &[degenerate, nan]);
        assert!(areas[0].unsigned_area() > 0.0);
    }

    #[test]
    fn near_pole_and_huge_areas_stay_finite() {
        let seeds = [seed(0.0, 90.0, Some(1e300)), seed(10.0, 89.9, Some(1.0))];
        let areas = approximate_areas(&seeds, &[]);
        assert!(
            areas
                .iter()
                .flat_map(|a| a.0.iter())
                .flat_map(|p| p.exterior().0.iter())
                .all(|c| c.x.is_finite() && c.y.is_finite())
        );
    }
}
