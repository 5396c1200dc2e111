//! Plausible measurements as pure functions of the station and the time, so the history written
//! at start-up and the live readings published afterwards are one continuous series.
//!
//! Nothing here is random: "noise" is a hash of the station and the time bucket. Rain comes in
//! events (some afternoons, and one around the demo's start so that rivers are rising while
//! people look), and rivers follow the rain upstream a few hours later.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::stations::{Kind, Station};

/// Vietnam's time: the daily cycles follow local hours.
const LOCAL_OFFSET_SECS: i64 = 7 * 3600;

/// What the series depend on besides the station and the time.
#[derive(Debug, Clone, Copy)]
pub struct World {
    /// A rain event is centred shortly after this time (the demo's start).
    pub storm_at: DateTime<Utc>,
}

fn hash(a: u64, b: u64) -> u64 {
    // splitmix64 of the pair: uniform enough for demo noise.
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// In [0, 1).
fn unit(a: u64, b: u64) -> f64 {
    (hash(a, b) >> 11) as f64 / (1u64 << 53) as f64
}

/// In [-1, 1), changing every `bucket_secs`, interpolated so series are smooth.
fn noise(seed: u64, t: DateTime<Utc>, bucket_secs: i64) -> f64 {
    let x = t.timestamp() as f64 / bucket_secs as f64;
    let (i, f) = (x.floor() as i64 as u64, x.fract());
    let (a, b) = (unit(seed, i) * 2.0 - 1.0, unit(seed, i + 1) * 2.0 - 1.0);
    a + (b - a) * (f * f * (3.0 - 2.0 * f))
}

/// Local hour of day, 0 ≤ h < 24.
pub fn local_hour(t: DateTime<Utc>) -> f64 {
    ((t.timestamp() + LOCAL_OFFSET_SECS).rem_euclid(86_400)) as f64 / 3600.0
}

fn local_day(t: DateTime<Utc>) -> i64 {
    (t.timestamp() + LOCAL_OFFSET_SECS).div_euclid(86_400)
}

fn bump(h: f64, centre: f64, width: f64) -> f64 {
    (-((h - centre) / width).powi(2) / 2.0).exp()
}

fn round(v: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (v * p).round() / p
}

/// Rain intensity in mm/h over `region` (0 highlands, 1 coast).
pub fn rain(world: &World, region: u64, t: DateTime<Utc>) -> f64 {
    let mut mm = 0.0;
    // Afternoon showers on some days, 2–5 h long.
    for day in [local_day(t) - 1, local_day(t)] {
        let d = day as u64;
        if unit(d, 100 + region) < 0.35 {
            let start = (day * 86_400 - LOCAL_OFFSET_SECS) as f64 + (13.0 + 4.0 * unit(d, 200 + region)) * 3600.0;
            let length = (2.0 + 3.0 * unit(d, 300 + region)) * 3600.0;
            let peak = 6.0 + 30.0 * unit(d, 400 + region);
            mm += pulse(t.timestamp() as f64, start, length, peak);
        }
    }
    // The demo's storm: from an hour before the start, five hours long.
    let start = world.storm_at.timestamp() as f64 - 3600.0;
    mm += pulse(t.timestamp() as f64, start, 5.0 * 3600.0, if region == 1 { 38.0 } else { 24.0 });
    mm
}

fn pulse(x: f64, start: f64, length: f64, peak: f64) -> f64 {
    if x < start || x > start + length { 0.0 } else { peak * (std::f64::consts::PI * (x - start) / length).sin() }
}

/// Rain upstream over the past 12 hours, weighted to peak three hours back: how a river
/// answers rain.
fn runoff(world: &World, region: u64, t: DateTime<Utc>) -> f64 {
    (1..=36)
        .map(|k| {
            let lag_h = k as f64 / 3.0;
            let weight = (lag_h / 3.0) * (1.0 - lag_h / 3.0).exp();
            rain(world, region, t - chrono::Duration::minutes(20 * k)) * weight / 3.0
        })
        .sum()
}

/// VN_AQI of a PM2.5 concentration (Decision 1459/QĐ-TCMT breakpoints, linear between them).
pub fn vn_aqi_pm25(pm25: f64) -> f64 {
    const BP: [(f64, f64); 8] = [
        (0.0, 0.0),
        (25.0, 50.0),
        (50.0, 100.0),
        (80.0, 150.0),
        (150.0, 200.0),
        (250.0, 300.0),
        (350.0, 400.0),
        (500.0, 500.0),
    ];
    for w in BP.windows(2) {
        let ((c0, i0), (c1, i1)) = (w[0], w[1]);
        if pm25 <= c1 {
            return i0 + (i1 - i0) * (pm25.max(0.0) - c0) / (c1 - c0);
        }
    }
    500.0
}

/// Vehicles per five minutes on a road with `capacity` at rush hour.
fn traffic(h: f64, capacity: f64) -> f64 {
    capacity * (0.08 + 0.9 * bump(h, 7.3, 1.0) + 0.8 * bump(h, 17.5, 1.3) + 0.35 * bump(h, 12.0, 2.5))
}

/// The measures a station reports at `t`.
pub fn reading(station: &Station, index: u64, world: &World, t: DateTime<Utc>) -> Map<String, Value> {
    let h = local_hour(t);
    let n = |k: u64, bucket: i64| noise(index * 16 + k, t, bucket);
    let base = station.scale;
    let v = match station.kind {
        Kind::Air => {
            let traffic_peaks = 0.65 * bump(h, 7.5, 1.5) + 0.8 * bump(h, 19.0, 2.0);
            let washout = 1.0 / (1.0 + rain(world, station.region, t) / 4.0);
            let pm25 = (base * (0.7 + traffic_peaks - 0.25 * bump(h, 14.0, 2.5)) * washout * (1.0 + 0.15 * n(0, 1200)))
                .max(3.0);
            json!({
                "pm25": round(pm25, 1), "pm10": round(pm25 * (1.6 + 0.2 * n(1, 1800)), 1),
                "no2": round(12.0 + 30.0 * traffic_peaks + 4.0 * n(2, 900), 1),
                "o3": round(20.0 + 55.0 * bump(h, 13.5, 2.5) + 6.0 * n(3, 1800), 1),
                "co": round(450.0 + 700.0 * traffic_peaks + 60.0 * n(4, 900), 0),
                "so2": round(6.0 + 3.0 * n(5, 3600), 1),
                "airQualityIndex": vn_aqi_pm25(pm25).round(),
                "temperature": round(temperature(station, h) + 0.4 * n(6, 1800), 1),
                "relativeHumidity": round(humidity(h), 2),
            })
        }
        Kind::Weather => {
            let rain_mm = rain(world, station.region, t);
            json!({
                "temperature": round(temperature(station, h) - rain_mm.min(20.0) * 0.15 + 0.3 * n(0, 1800), 1),
                "relativeHumidity": round((humidity(h) + rain_mm / 60.0).min(0.99), 2),
                "precipitation": round(rain_mm, 1),
                "windSpeed": round((2.0 + 2.5 * bump(h, 15.0, 3.0) + rain_mm / 8.0 + n(1, 900)).max(0.0), 1),
                "windDirection": (90.0 + 60.0 * n(2, 7200)).round(),
                "atmosphericPressure": round(base - 1.5 * (h / 24.0 * std::f64::consts::TAU * 2.0).cos() - rain_mm / 10.0, 1),
            })
        }
        Kind::RainGauge => {
            json!({ "precipitation": round(rain(world, station.region, t) * (1.0 + 0.1 * n(0, 600)), 1) })
        }
        Kind::River { .. } => {
            let height = base + 0.12 * runoff(world, station.region, t) + 0.03 * n(0, 1800);
            json!({ "height": round(height, 2), "flow": round(40.0 * (height - base + 0.5).max(0.1).powf(1.6), 1) })
        }
        Kind::WaterQuality => {
            let turbid = 8.0 + 6.0 * rain(world, station.region, t);
            json!({
                "pH": round(7.3 + 0.2 * (h / 24.0 * std::f64::consts::TAU).sin() + 0.1 * n(0, 3600), 2),
                "temperature": round(26.0 + 2.0 * bump(h, 15.0, 4.0), 1),
                "conductivity": round(base + 20.0 * n(1, 3600), 0),
                "turbidity": round(turbid * (1.0 + 0.1 * n(2, 1800)), 1),
                "O2": round(6.8 + 1.2 * bump(h, 14.0, 3.0) - turbid / 60.0 + 0.2 * n(3, 1800), 2),
            })
        }
        Kind::Traffic => {
            let intensity = (traffic(h, base) * (1.0 + 0.12 * n(0, 600))).max(0.0);
            let occupancy = (intensity / base * 0.62).min(0.98);
            json!({
                "intensity": intensity.round(),
                "averageVehicleSpeed": round((52.0 * (1.0 - occupancy).powf(0.8)).max(5.0), 1),
                "occupancy": round(occupancy, 2),
                "congested": occupancy > 0.55,
            })
        }
        Kind::Streetlight => {
            let on = !(5.5..18.0).contains(&h);
            // Some lamps fail for a night now and then; the crew repairs them mid-morning.
            let fault_day = local_day(t - chrono::Duration::hours(10)) as u64;
            let faulty = unit(fault_day, index) < 0.12;
            let status = if faulty {
                ["defectiveLamp", "columnIssue", "brokenLantern"][(hash(fault_day, index) % 3) as usize]
            } else {
                "ok"
            };
            json!({
                "powerState": if on { "on" } else { "off" },
                "status": status,
                "illuminanceLevel": if on && !faulty { round(0.85 + 0.1 * n(0, 3600), 2) } else { 0.0 },
            })
        }
        Kind::WasteContainer => {
            // Emptied every morning at 05:00; fills at its own rate, faster in the evening.
            let since = (h - 5.0).rem_euclid(24.0);
            let rate = base * (1.0 + 0.2 * n(0, 86_400));
            let fill = (0.04 + rate * since + 0.1 * rate * bump(h, 19.0, 2.0)).min(1.0);
            let lid_open = unit(local_day(t) as u64, 1000 + index) < 0.08 && (17.0..22.0).contains(&h);
            json!({
                "fillingLevel": round(fill, 2),
                "status": if lid_open { "lidOpen" } else { "ok" },
                "temperature": round(temperature(station, h) + 1.5, 1),
            })
        }
    };
    let Value::Object(map) = v else { unreachable!("readings are objects") };
    map
}

/// A solar-powered station's own state: battery charging by day, draining by night.
pub fn device_status(index: u64, t: DateTime<Utc>) -> Map<String, Value> {
    let h = local_hour(t);
    let charge = 0.55 + 0.35 * bump(h, 15.0, 4.0) - 0.15 * bump(h, 5.0, 2.0) + 0.05 * noise(index * 16 + 9, t, 3600);
    let Value::Object(map) = json!({
        "batteryLevel": round(charge.clamp(0.05, 1.0), 2),
        "rssi": (-75.0 + 12.0 * noise(index * 16 + 10, t, 900)).round(),
        "deviceState": "ok",
    }) else {
        unreachable!()
    };
    map
}

fn temperature(station: &Station, h: f64) -> f64 {
    // Highland stations are cooler than the coast.
    let mean = if station.region == 0 { 22.0 } else { 27.0 };
    mean + 5.0 * ((h - 9.0) / 24.0 * std::f64::consts::TAU).sin()
}

fn humidity(h: f64) -> f64 {
    0.78 - 0.18 * ((h - 9.0) / 24.0 * std::f64::consts::TAU).sin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::stations::STATIONS;
    use chrono::TimeZone;

    fn vn(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap() - chrono::Duration::hours(7)
    }

    fn world() -> World {
        World { storm_at: vn(24, 14) }
    }

    fn first(kind: fn(&Kind) -> bool) -> (u64, &'static Station) {
        STATIONS.iter().enumerate().find(|(_, s)| kind(&s.kind)).map(|(i, s)| (i as u64, s)).unwrap()
    }

    fn num(m: &Map<String, Value>, k: &str) -> f64 {
        m[k].as_f64().unwrap()
    }

    #[test]
    fn the_same_time_gives_the_same_reading() {
        for (i, s) in STATIONS.iter().enumerate() {
            assert_eq!(reading(s, i as u64, &world(), vn(23, 8)), reading(s, i as u64, &world(), vn(23, 8)));
        }
    }

    #[test]
    fn air_is_worse_at_rush_hour_than_at_night_and_aqi_follows_pm25() {
        let (i, s) = first(|k| matches!(k, Kind::Air));
        let day = vn(20, 0);
        let at = |h: i64| num(&reading(s, i, &World { storm_at: vn(1, 0) }, day + chrono::Duration::hours(h)), "pm25");
        assert!(at(19) > at(3) * 1.3, "evening {} vs night {}", at(19), at(3));
        assert_eq!(vn_aqi_pm25(25.0), 50.0);
        assert_eq!(vn_aqi_pm25(65.0), 125.0);
        assert_eq!(vn_aqi_pm25(900.0), 500.0);
    }

    #[test]
    fn the_storm_raises_rivers_hours_later() {
        let (i, s) = first(|k| matches!(k, Kind::River { .. }));
        let w = world();
        let before = num(&reading(s, i, &w, w.storm_at - chrono::Duration::hours(2)), "height");
        let after = num(&reading(s, i, &w, w.storm_at + chrono::Duration::hours(4)), "height");
        assert!(after > before + 1.0, "{before} → {after}");
        let Kind::River { alert_levels } = s.kind else { unreachable!() };
        assert!(after >= alert_levels[0], "the storm reaches alert level I: {after}");
        assert!(rain(&w, 1, w.storm_at + chrono::Duration::hours(1)) > 20.0);
    }

    #[test]
    fn lamps_are_on_at_night_and_some_fail() {
        let lamps: Vec<(u64, &Station)> = STATIONS
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.kind, Kind::Streetlight))
            .map(|(i, s)| (i as u64, s))
            .collect();
        let night = reading(lamps[0].1, lamps[0].0, &world(), vn(22, 21));
        assert_eq!(night["powerState"], "on");
        assert_eq!(reading(lamps[0].1, lamps[0].0, &world(), vn(22, 12))["powerState"], "off");
        let faults = (1..=30)
            .flat_map(|d| lamps.iter().map(move |(i, s)| reading(s, *i, &world(), vn(d, 22))))
            .filter(|r| r["status"] != "ok")
            .count();
        assert!(faults > 0 && faults < 30 * lamps.len() / 4, "{faults} faulty lamp-nights");
    }

    #[test]
    fn containers_fill_during_the_day_and_are_emptied_in_the_morning() {
        let (i, s) = first(|k| matches!(k, Kind::WasteContainer));
        let fill = |h| num(&reading(s, i, &world(), vn(20, h)), "fillingLevel");
        assert!(fill(6) < 0.2);
        assert!(fill(21) > fill(12) && fill(12) > fill(6));
    }
}
