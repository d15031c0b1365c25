//! Unit tests of `query.rs`: filters, projection and its `fields=` check, pagination.

use super::*;

const SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &["svmdr_volumes"],
    fields: Catalogue::from_text(
        "uuid\nname\nstate\nlag_time\nservices\nsvm.name\nsvm.uuid\nsvmdr_volumes.name\n",
    ),
};

fn rec() -> Value {
    json!({"uuid":"u1","name":"svm1","state":"running","lag_time":"PT3H",
           "services":["data_core","data_nfs"],"svm":{"name":"svm1","uuid":"s"},
           "svmdr_volumes":[{"name":"v1"}],"_links":{"self":{"href":"/api/x/u1"}}})
}

#[test]
fn filters() {
    let r = rec();
    assert!(matches_filter(&r, "name", "svm1"));
    assert!(matches_filter(&r, "name", "svm*"));
    assert!(matches_filter(&r, "name", "other|svm1"));
    assert!(!matches_filter(&r, "name", "!svm1"));
    assert!(matches_filter(&r, "services", "data_nfs"));
    assert!(!matches_filter(&r, "services", "data_iscsi"));
    assert!(matches_filter(&r, "lag_time", ">PT2H"));
    assert!(!matches_filter(&r, "lag_time", ">P2DT"));
    assert!(matches_filter(&r, "lag_time", "<=PT3H"));
    assert!(matches_filter(&r, "comment", "null"));
    assert!(matches_filter(&r, "svm.name", "!null"));
}

#[test]
fn projection() {
    let r = rec();
    let p = project(&r, None, &SHAPE).unwrap();
    assert_eq!(
        p,
        json!({"uuid":"u1","name":"svm1","_links":{"self":{"href":"/api/x/u1"}}})
    );
    let p = project(&r, Some("svm.name,state"), &SHAPE).unwrap();
    assert_eq!(p["svm"], json!({"name":"svm1"}));
    assert_eq!(p["state"], json!("running"));
    let p = project(&r, Some("*"), &SHAPE).unwrap();
    assert!(p.get("svmdr_volumes").is_none());
    let p = project(&r, Some("svmdr_volumes.name"), &SHAPE).unwrap();
    assert_eq!(p["svmdr_volumes"], json!([{"name":"v1"}]));
    let e = project(&r, Some("svm.name,comment"), &SHAPE).unwrap_err();
    assert_eq!(e.code, "262197");
    let q = Query::parse(Some("fields=svm.nam"));
    assert!(collection("/api/x", &q, vec![r.clone()], &SHAPE).is_err());
    assert!(instance(&r, &q, &SHAPE).is_err());
}

#[test]
fn pagination() {
    let recs: Vec<Value> = (0..5)
        .map(|i| json!({"uuid": i.to_string(), "name": format!("n{i}")}))
        .collect();
    let q = Query::parse(Some("max_records=2"));
    let out = collection("/api/x", &q, recs.clone(), &SHAPE).unwrap();
    assert_eq!(out["num_records"], json!(2));
    let next = out["_links"]["next"]["href"].as_str().unwrap().to_string();
    let q2 = Query::parse(next.split_once('?').map(|x| x.1));
    let out2 = collection("/api/x", &q2, recs.clone(), &SHAPE).unwrap();
    assert_eq!(out2["records"][0]["uuid"], json!("2"));
    let q3 = Query::parse(Some("max_records=2&start.index=4"));
    let out3 = collection("/api/x", &q3, recs, &SHAPE).unwrap();
    assert!(out3["_links"].get("next").is_none());
    assert_eq!(out3["num_records"], json!(1));
}
