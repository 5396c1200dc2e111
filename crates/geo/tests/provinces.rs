//! The approximate areas on the real data: what the IOC relies on until provinces
//! supply boundaries.

use std::f64::consts::PI;
use std::sync::OnceLock;

use haidang_geo::geo::{Contains, Point, Rect};
use haidang_geo::{AreaIndex, CAP_FACTOR, Province, geodesic_area_km2, province, provinces};

const KM_PER_DEGREE: f64 = 6_371.008_8 * PI / 180.0;

fn gia_lai() -> &'static Province {
    province("52").unwrap().expect("Gia Lai is code 52")
}

fn gia_lai_index() -> &'static AreaIndex<String> {
    static INDEX: OnceLock<AreaIndex<String>> = OnceLock::new();
    INDEX.get_or_init(|| gia_lai().approximate_index())
}

fn name_of(p: &Province, code: &str) -> String {
    p.commune(code).map(|c| c.name.clone()).unwrap_or_default()
}

#[test]
fn quy_nhon_city_centre_is_in_a_quy_nhon_ward() {
    let code = gia_lai_index().locate(Point::new(109.2237, 13.7765)).expect("Quy Nhơn city centre is in Gia Lai");
    let name = name_of(gia_lai(), code);
    assert!(name.starts_with("Phường Quy Nhơn"), "{code} {name}");
}

#[test]
fn ha_noi_is_not_in_gia_lai() {
    let ha_noi = Point::new(105.8542, 21.0285);
    assert!(!gia_lai_index().contains(ha_noi));
    assert_eq!(gia_lai_index().locate(ha_noi), None);
}

#[test]
fn every_gia_lai_centre_resolves_to_its_own_commune() {
    let p = gia_lai();
    assert_eq!(p.communes.len(), 135);
    for c in &p.communes {
        assert_eq!(gia_lai_index().locate(c.centre), Some(&c.code), "{}", c.name);
    }
}

#[test]
fn every_centre_of_every_province_resolves_to_itself() {
    let mut checked = 0;
    for p in provinces().unwrap() {
        let index = p.approximate_index();
        for c in &p.communes {
            assert_eq!(index.locate(c.centre), Some(&c.code), "{} / {}", p.name, c.name);
            checked += 1;
        }
    }
    assert_eq!(checked, 3321);
}

#[test]
fn gia_lai_total_area_is_plausible() {
    let p = gia_lai();
    let approx: f64 = p.approximate_areas().iter().map(geodesic_area_km2).sum();
    let official: f64 = p.communes.iter().filter_map(|c| c.area_km2).sum();
    let ratio = approx / official;
    println!("Gia Lai: approximate {approx:.0} km², official {official:.0} km², ratio {ratio:.3}");
    // Sea off the coast and some land over the border are included by design
    // (see CAP_FACTOR); far more would mean the cap is not working.
    assert!((0.9..1.5).contains(&ratio), "{ratio}");
}

#[test]
fn island_commune_edge() {
    // Xã Nhơn Châu (Cù Lao Xanh), 3.62 km², lies outside every legacy district box,
    // so its own disc (radius √(km²/π)) is its outline there.
    let p = gia_lai();
    let island = p.communes.iter().find(|c| c.name == "Xã Nhơn Châu").unwrap();
    assert!(!p.legacy_outline.iter().any(|r| r.contains(&island.centre)));
    let r_km = (island.area_km2.unwrap() / PI).sqrt();
    let r_deg_lon = r_km / (KM_PER_DEGREE * island.centre.y().to_radians().cos());
    let at = |f: f64| Point::new(island.centre.x() + f * r_deg_lon, island.centre.y());
    assert_eq!(gia_lai_index().locate(at(0.9)), Some(&island.code));
    assert!(!gia_lai_index().contains(at(1.1)));
}

#[test]
fn west_border_edge() {
    // Just inside and just outside the westernmost legacy box, where the border
    // communes' caps still reach.
    let p = gia_lai();
    let west = p.legacy_outline.iter().min_by(|a, b| a.min().x.total_cmp(&b.min().x)).unwrap();
    let lat = (west.min().y + west.max().y) / 2.0;
    let inside = Point::new(west.min().x + 0.002, lat);
    let outside = Point::new(west.min().x - 0.002, lat);
    let model = Model::new(p);
    assert!(model.surely_inside(inside), "precondition");
    assert!(model.surely_outside(outside), "precondition");
    assert!(gia_lai_index().contains(inside));
    assert!(!gia_lai_index().contains(outside));
}

#[test]
fn gia_lai_areas_tile_the_footprint_without_gaps_or_overlaps() {
    // Sample a grid and compare with the definition: inside (legacy boxes ∪ own
    // discs) ∩ (∪ capped discs), a point belongs to its nearest centre. Points
    // too close to a boundary or a bisector for polygon discretisation are skipped.
    let p = gia_lai();
    let model = Model::new(p);
    let bounds = p
        .legacy_outline
        .iter()
        .fold(None::<Rect<f64>>, |acc, r| {
            Some(match acc {
                None => *r,
                Some(a) => Rect::new(
                    (a.min().x.min(r.min().x), a.min().y.min(r.min().y)),
                    (a.max().x.max(r.max().x), a.max().y.max(r.max().y)),
                ),
            })
        })
        .unwrap();
    let n = 120;
    let (mut inside, mut outside) = (0, 0);
    for i in 0..n {
        for j in 0..n {
            let pt = Point::new(
                bounds.min().x - 0.2 + (bounds.width() + 0.4) * (f64::from(i) + 0.5) / f64::from(n),
                bounds.min().y - 0.2 + (bounds.height() + 0.4) * (f64::from(j) + 0.5) / f64::from(n),
            );
            let got = gia_lai_index().locate(pt);
            if model.surely_inside(pt) {
                if let Some(nearest) = model.clear_nearest(pt) {
                    assert_eq!(got, Some(&p.communes[nearest].code), "{pt:?}");
                    inside += 1;
                }
            } else if model.surely_outside(pt) {
                assert_eq!(got, None, "{pt:?}");
                outside += 1;
            }
        }
    }
    println!("checked {inside} points inside and {outside} outside");
    assert!(inside > 5_000 && outside > 1_000);
}

/// The definition of the approximate areas, evaluated directly with exact circles
/// and a safety margin.
struct Model {
    lon0: f64,
    lat0: f64,
    kx: f64,
    centres: Vec<(f64, f64)>,
    radii: Vec<f64>,
    boxes: Vec<Rect<f64>>,
}

impl Model {
    const MARGIN: f64 = 0.05; // km

    fn new(p: &Province) -> Model {
        let n = p.communes.len() as f64;
        let lon0 = p.communes.iter().map(|c| c.centre.x()).sum::<f64>() / n;
        let lat0 = p.communes.iter().map(|c| c.centre.y()).sum::<f64>() / n;
        let kx = KM_PER_DEGREE * lat0.to_radians().cos();
        let mut known: Vec<f64> = p.communes.iter().filter_map(|c| c.area_km2).collect();
        known.sort_by(f64::total_cmp);
        let median = known[known.len() / 2];
        Model {
            lon0,
            lat0,
            kx,
            centres: p
                .communes
                .iter()
                .map(|c| ((c.centre.x() - lon0) * kx, (c.centre.y() - lat0) * KM_PER_DEGREE))
                .collect(),
            radii: p.communes.iter().map(|c| (c.area_km2.unwrap_or(median) / PI).sqrt()).collect(),
            boxes: p.legacy_outline.clone(),
        }
    }

    fn project(&self, p: Point<f64>) -> (f64, f64) {
        ((p.x() - self.lon0) * self.kx, (p.y() - self.lat0) * KM_PER_DEGREE)
    }

    fn distances(&self, p: Point<f64>) -> Vec<f64> {
        let (x, y) = self.project(p);
        self.centres.iter().map(|(cx, cy)| ((x - cx).powi(2) + (y - cy).powi(2)).sqrt()).collect()
    }

    /// The inscribed 48-gon loses up to 0.21 % of the radius.
    fn inner(r: f64) -> f64 {
        r * (PI / 48.0).cos() - Self::MARGIN
    }

    fn box_margin_deg(&self) -> f64 {
        Self::MARGIN / KM_PER_DEGREE * 2.0
    }

    fn surely_inside(&self, p: Point<f64>) -> bool {
        let d = self.distances(p);
        let m = self.box_margin_deg();
        let in_box = self
            .boxes
            .iter()
            .any(|b| p.x() > b.min().x + m && p.x() < b.max().x - m && p.y() > b.min().y + m && p.y() < b.max().y - m);
        let in_own = d.iter().zip(&self.radii).any(|(d, r)| *d < Self::inner(*r));
        let in_cap = d.iter().zip(&self.radii).any(|(d, r)| *d < Self::inner(CAP_FACTOR * r));
        (in_box || in_own) && in_cap
    }

    fn surely_outside(&self, p: Point<f64>) -> bool {
        let d = self.distances(p);
        let m = self.box_margin_deg();
        let in_box = self
            .boxes
            .iter()
            .any(|b| p.x() > b.min().x - m && p.x() < b.max().x + m && p.y() > b.min().y - m && p.y() < b.max().y + m);
        let in_own = d.iter().zip(&self.radii).any(|(d, r)| *d < r + Self::MARGIN);
        let in_cap = d.iter().zip(&self.radii).any(|(d, r)| *d < CAP_FACTOR * r + Self::MARGIN);
        !((in_box || in_own) && in_cap)
    }

    /// The nearest centre, unless the runner-up is within the margin.
    fn clear_nearest(&self, p: Point<f64>) -> Option<usize> {
        let d = self.distances(p);
        let mut order: Vec<usize> = (0..d.len()).collect();
        order.sort_by(|a, b| d[*a].total_cmp(&d[*b]));
        let (first, second) = (order[0], order[1]);
        (d[second] - d[first] > Self::MARGIN).then_some(first)
    }
}
