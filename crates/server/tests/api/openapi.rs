//! The OpenAPI document: valid 3.1, every documented operation is served, protected ones
//! name the session cookie, and errors are documented.

use reqwest::header::COOKIE;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;

async fn document(app: &TestApp) -> Value {
    let response = app.api().get("/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_a_cookie_security_scheme() {
    let app = TestApp::spawn().await;

    let doc = document(&app).await;

    assert_eq!(doc["openapi"], "3.1.0");
    let scheme = &doc["components"]["securitySchemes"]["session_cookie"];
    assert_eq!(
        (scheme["type"].as_str(), scheme["in"].as_str(), scheme["name"].as_str()),
        (Some("apiKey"), Some("cookie"), Some("id"))
    );
    for schema in
        ["LoginForm", "User", "Track", "NewTrack", "TrackUpdate", "ErrorBody", "SessionInfo", "SuccessBody"]
    {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema} missing");
    }
}

#[tokio::test]
async fn every_documented_operation_is_served_and_documents_its_errors() {
    let app = TestApp::spawn().await;
    let session = {
        app.create_user("alice", false).await;
        app.session_id_for("alice").await
    };
    let doc = document(&app).await;
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;

    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("operations") {
            operations += 1;
            let concrete = path.replace("{id}", "1");
            let method: Method = method.to_uppercase().parse().expect("a method");
            let response = Client::new()
                .request(method.clone(), app.url(&concrete))
                .header(COOKIE, format!("id={session}"))
                .send()
                .await
                .expect("sent");
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let unrouted = (status == StatusCode::NOT_FOUND && body["detail"] == "Not Found")
                || status == StatusCode::METHOD_NOT_ALLOWED;
            assert!(!unrouted, "{method} {path} is documented but not served ({status})");

            let responses = operation["responses"].as_object().expect("responses");
            // `/healthz` answers whenever the process can answer at all.
            assert!(
                path == "/healthz"
                    || responses.keys().any(|code| code.starts_with('4') || code.starts_with('5')),
                "{method} {path}: no error documented"
            );
            let protected = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("session_cookie").is_some()));
            if responses.get("401").is_some_and(|r| r["description"] == "Not authenticated") {
                assert!(protected, "{method} {path} answers 401 but names no security scheme");
            }
        }
    }
    assert!(operations >= 15, "only {operations} operations documented");
    // The catalogue's reads are mounted apart from its changes (outside the session layer):
    // both halves of each path are still in the document.
    let methods = |path: &str| paths[path].as_object().expect(path).keys().cloned().collect::<Vec<_>>();
    assert_eq!(methods("/tracks"), ["get", "post"]);
    assert_eq!(methods("/tracks/{id}"), ["delete", "get", "patch"]);
}

#[tokio::test]
async fn with_secure_cookies_the_document_names_the_host_prefixed_cookie() {
    let app = TestApp::spawn_with(|config| config.secure_cookies = true).await;

    let doc = document(&app).await;

    assert_eq!(doc["components"]["securitySchemes"]["session_cookie"]["name"], "__Host-id");
}

#[tokio::test]
async fn documented_limits_are_the_ones_the_validation_applies() {
    use shared::ListQuery;
    use shared::validate::{
        PASSWORD_MAX, PASSWORD_MIN, TRACK_TEXT_MAX, USERNAME_MAX, USERNAME_MIN, YEAR_MIN,
    };
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let limit = |value: &Value| value.as_i64().expect("a number");
    let length = |value: &Value| usize::try_from(limit(value)).expect("a length");

    for schema in ["NewTrack", "TrackUpdate"] {
        for field in ["title", "artist", "album", "label"] {
            assert_eq!(
                length(&schemas[schema]["properties"][field]["maxLength"]),
                TRACK_TEXT_MAX,
                "{schema}.{field}"
            );
        }
        assert_eq!(
            limit(&schemas[schema]["properties"]["year"]["minimum"]),
            i64::from(YEAR_MIN),
            "{schema}.year"
        );
    }
    for (schema, field) in [("SignupForm", "password"), ("PasswordChange", "new_password")] {
        let password = &schemas[schema]["properties"][field];
        assert_eq!(
            (length(&password["minLength"]), length(&password["maxLength"])),
            (PASSWORD_MIN, PASSWORD_MAX)
        );
    }
    let username = &schemas["SignupForm"]["properties"]["username"];
    assert_eq!(
        (length(&username["minLength"]), length(&username["maxLength"])),
        (USERNAME_MIN, USERNAME_MAX)
    );

    let parameters = doc["paths"]["/tracks"]["get"]["parameters"].as_array().expect("parameters");
    let parameter =
        |name: &str| &parameters.iter().find(|p| p["name"] == name).expect("documented")["schema"];
    assert_eq!(limit(&parameter("limit")["maximum"]), ListQuery::MAX_LIMIT);
    assert_eq!(limit(&parameter("skip")["maximum"]), ListQuery::MAX_SKIP);
    assert_eq!(length(&parameter("q")["maxLength"]), TRACK_TEXT_MAX);
}
