//! WSDL/XSD → JSON Schema on two real-world-shaped services (`tests/fixtures/wsdl/`).

use std::path::PathBuf;

use burler_schema::wsdl::{from_wsdl, from_xsd};
use indexmap::IndexMap;
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wsdl")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn expected(name: &str) -> IndexMap<String, Value> {
    serde_json::from_str(&fixture(name)).unwrap()
}

#[test]
fn crm_enterprise_wsdl_matches_its_expected_schemas() {
    let types = from_wsdl(&fixture("crm_enterprise.wsdl")).unwrap();
    let names: Vec<&str> = types.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "sObject",
            "Address",
            "Account",
            "Contact",
            "QueryResult",
            "queryResponse"
        ]
    );
    assert_eq!(types, expected("crm_enterprise.expected.json"));
}

#[test]
fn crm_extension_nesting_and_restrictions() {
    let types = from_wsdl(&fixture("crm_enterprise.wsdl")).unwrap();
    let account = &types["Account"]["properties"];
    // Inherited from sObject, first.
    assert_eq!(
        account.as_object().unwrap().keys().next().unwrap(),
        "fieldsToNull"
    );
    assert_eq!(
        account["Id"],
        json!({"type": ["null", "string"], "minLength": 18, "maxLength": 18, "pattern": "^(?:[a-zA-Z0-9]{18})$"})
    );
    assert_eq!(account["Name"], json!({"type": "string"}));
    assert_eq!(
        account["AnnualRevenue"],
        json!({"type": ["null", "number"]})
    );
    assert_eq!(
        account["CreatedDate"],
        json!({"type": ["null", "string"], "format": "date-time"})
    );
    assert_eq!(
        account["Rating"]["enum"],
        json!(["Hot", "Warm", "Cold", null])
    );
    assert_eq!(
        account["BillingAddress"]["properties"]["latitude"],
        json!({"type": ["null", "number"]})
    );
    // Nested named type from the other schema, holding an unbounded list.
    let records = &account["Contacts"]["properties"]["records"];
    assert_eq!(records["type"], json!(["null", "array"]));
    assert_eq!(records["items"]["type"], json!(["null", "object"]));
    assert_eq!(
        types["Contact"]["properties"]["Birthdate"]["format"],
        json!("date")
    );
}

#[test]
fn order_service_wsdl_matches_its_expected_schemas() {
    let types = from_wsdl(&fixture("order_service.wsdl")).unwrap();
    assert_eq!(types, expected("order_service.expected.json"));
}

#[test]
fn order_service_choice_all_attributes_and_simple_content() {
    let types = from_wsdl(&fixture("order_service.wsdl")).unwrap();
    let order = &types["SalesOrder"]["properties"];
    assert_eq!(
        order["status"]["enum"],
        json!(["pendingApproval", "pendingFulfillment", "billed", "closed"])
    );
    assert_eq!(
        order["priority"],
        json!({"type": ["null", "integer"], "minimum": 1, "maximum": 5})
    );
    // Choice members are nullable; the anonymous nested type is inlined.
    assert_eq!(order["shipToAddress"]["type"], json!(["null", "object"]));
    assert_eq!(
        order["shipToAddress"]["properties"]["addr1"],
        json!({"type": "string"})
    );
    assert_eq!(order["pickupLocation"]["type"], json!(["null", "object"]));
    // simpleContent: the text as `value`, attributes beside it.
    assert_eq!(
        order["total"],
        json!({"type": "object", "properties": {"value": {"type": "number", "multipleOf": 0.01},
            "currency": {"type": "string", "pattern": "^(?:[A-Z]{3})$"}}})
    );
    let lines = &order["itemList"]["properties"]["item"];
    assert_eq!(lines["type"], json!("array"));
    assert_eq!(
        lines["items"]["properties"]["shipDate"],
        json!({"type": ["null", "string"], "format": "date"})
    );
    assert_eq!(
        order["tags"],
        json!({"type": ["null", "array"], "items": {"type": "string"}})
    );
    assert_eq!(order["reference"]["anyOf"][1], json!({"type": "integer"}));
    assert_eq!(order["memo"], json!({"type": ["null", "string"]}));
    assert_eq!(
        order["createdDate"],
        json!({"type": "string", "format": "date-time"})
    );
    assert_eq!(order["internalId"], json!({"type": "string"}));
    let response = &types["getOrdersResponse"]["properties"];
    assert_eq!(
        response["pageIndex"],
        json!({"type": "integer", "minimum": 0})
    );
    assert_eq!(response["order"]["items"], types["SalesOrder"]);
}

#[test]
fn the_same_schema_as_a_standalone_xsd() {
    let from_schema = from_xsd(&fixture("order_service.xsd")).unwrap();
    assert_eq!(from_schema, expected("order_service.expected.json"));
}
