//! Places: which commune a point is in, through the API.

use super::support::*;
use serde_json::Value;

#[tokio::test]
async fn quy_nhon_centre_resolves_to_one_of_its_wards_and_ha_noi_is_outside() {
    let admin = login("admin").await;
    let here: Value = admin.get("/api/geo/locate?lat=13.7765&lon=109.2237").await.json().await.unwrap();
    assert_eq!(here["inside_province"], true);
    assert!(here["unit"]["name"].as_str().unwrap().starts_with("Phường Quy Nhơn"), "{here}");
    assert_eq!(here["boundary"], "approximate");
    let hanoi: Value = admin.get("/api/geo/locate?lat=21.0285&lon=105.8542").await.json().await.unwrap();
    assert_eq!(hanoi["inside_province"], false);
    assert_eq!(hanoi["unit"], Value::Null);
}

#[tokio::test]
async fn every_commune_centre_resolves_to_its_own_commune() {
    let admin = login("admin").await;
    let tree: Value = admin.get("/api/org-units/tree").await.json().await.unwrap();
    let communes: Vec<&Value> = tree
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| matches!(u["type"].as_str(), Some("ward" | "commune" | "special_zone")))
        .collect();
    assert_eq!(communes.len(), 135);
    for c in communes {
        let located: Value =
            admin.get(&format!("/api/geo/locate?lat={}&lon={}", c["lat"], c["lon"])).await.json().await.unwrap();
        assert_eq!(located["unit"]["id"], c["id"], "{} resolved to {}", c["name"], located["unit"]["name"]);
    }
}

#[tokio::test]
async fn the_map_layer_marks_approximate_boundaries() {
    let admin = login("admin").await;
    let res = admin.get("/api/org-units/geojson").await;
    assert_eq!(res.headers()["content-type"], "application/geo+json");
    let fc: Value = res.json().await.unwrap();
    let features = fc["features"].as_array().unwrap();
    let polygons: Vec<&Value> = features.iter().filter(|f| f["geometry"]["type"] == "MultiPolygon").collect();
    assert_eq!(polygons.len(), 135);
    assert!(polygons.iter().all(|f| f["properties"]["boundary"] == "approximate"));
    let search: Value = admin.get("/api/org-units?q=Quy%20Nhon%20Dong").await.json().await.unwrap();
    assert_eq!(search["items"][0]["name"], "Phường Quy Nhơn Đông");
}
