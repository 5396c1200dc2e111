//! Clauses 6.25–6.28: type and attribute discovery, within the caller's scope.

use super::common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn types_and_attributes_are_discovered_with_their_kinds_and_counts() {
    let (lon, lat) = centre("21583").await;
    let ty = format!("Lamp{}", uid("T").replace([':', '-'], ""));
    let batch: Vec<Value> = (0..2)
        .map(|_| {
            json!({"id": uid(&ty), "type": ty,
                   "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
                   "powerState": {"type": "Property", "value": "on"},
                   "refStreet": {"type": "Relationship", "object": "urn:ngsi-ld:Street:1"}})
        })
        .collect();
    assert_eq!(post_json(&admin(), "/entityOperations/create", &Value::Array(batch)).await.status(), 201);

    let list: Value = get(&admin(), "/types").await.json().await.unwrap();
    assert_eq!(list["type"], "EntityTypeList");
    assert!(list["typeList"].as_array().unwrap().iter().any(|t| t == ty.as_str()), "{list}");
    let detailed: Vec<Value> = get(&admin(), "/types?details=true").await.json().await.unwrap();
    let mine = detailed.iter().find(|t| t["typeName"] == ty.as_str()).expect("the type");
    assert_eq!(mine["type"], "EntityType");
    assert!(mine["attributeNames"].as_array().unwrap().iter().any(|a| a == "powerState"), "{mine}");

    let info: Value = get(&admin(), &format!("/types/{ty}")).await.json().await.unwrap();
    assert_eq!(info["type"], "EntityTypeInfo");
    assert_eq!(info["entityCount"], 2);
    let details = info["attributeDetails"].as_array().unwrap();
    let kind = |name: &str| details.iter().find(|d| d["attributeName"] == name).unwrap()["attributeTypes"].clone();
    assert_eq!(kind("powerState"), json!(["Property"]));
    assert_eq!(kind("refStreet"), json!(["Relationship"]));
    assert_eq!(kind("location"), json!(["GeoProperty"]));

    let attrs: Value = get(&admin(), "/attributes").await.json().await.unwrap();
    assert_eq!(attrs["type"], "AttributeList");
    assert!(attrs["attributeList"].as_array().unwrap().iter().any(|a| a == "refStreet"));
    let attr: Value = get(&admin(), "/attributes/refStreet").await.json().await.unwrap();
    assert_eq!(attr["type"], "Attribute");
    assert_eq!(attr["attributeTypes"], json!(["Relationship"]));
    assert!(attr["typeNames"].as_array().unwrap().iter().any(|t| t == ty.as_str()));
    assert!(attr["attributeCount"].as_u64().unwrap() >= 2);

    ngsi_problem(get(&admin(), "/types/NoSuchTypeAnywhere").await, 404, "ResourceNotFound").await;
    ngsi_problem(get(&admin(), "/attributes/noSuchAttributeAnywhere").await, 404, "ResourceNotFound").await;
    // Another commune's token does not see the type.
    let other = unit_token("23575").await;
    ngsi_problem(get(&other, &format!("/types/{ty}")).await, 404, "ResourceNotFound").await;
}
