//! The API as a document and as every client reads it: `/api/openapi.json` describes exactly
//! the routes the server mounts, a method a path does not have is a 405 naming the ones it has,
//! a body sent where none is read still gets its answer, and query parameters are read strictly.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use ocp_notebook::server::{openapi, routes};
use ocp_notebook::wire::ErrorCode;
use ocp_notebook::Settings;
use serde_json::Value;

/// `(METHOD, /path/{param})` of every route the server mounts, but the CORS preflight.
fn mounted() -> BTreeSet<(String, String)> {
    routes::all()
        .iter()
        .filter(|route| route.method != rocket::http::Method::Options)
        .map(|route| {
            let path = route
                .uri
                .path()
                .split('/')
                .map(|segment| match segment.strip_prefix('<') {
                    Some(param) => format!("{{{}}}", param.trim_end_matches('>')),
                    None => segment.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/");
            (route.method.as_str().to_string(), path)
        })
        .collect()
}

fn documented(document: &Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target);
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_describes_exactly_the_mounted_routes() {
    let server = TestServer::start();
    let response = client()
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: Value = response.json().await.unwrap();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        document["openapi"]
    );
    assert_eq!(
        document,
        serde_json::from_str::<Value>(openapi::document()).unwrap()
    );

    let (mounted, documented) = (mounted(), documented(&document));
    assert_eq!(
        mounted.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "mounted but not in the document"
    );
    assert_eq!(
        documented.difference(&mounted).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "in the document but not mounted"
    );

    let mut operation_ids = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(
                operation_ids.insert(id),
                "{method} {path}: operationId {id} is unique"
            );
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{method} {path} documents a success"
            );
            assert!(
                responses.contains_key("403"),
                "{method} {path} documents the guards' refusal"
            );
            let path_params: Vec<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            for param in path_params {
                assert!(path.contains(&format!("{{{param}}}")), "{path}: {param}");
            }
        }
    }
    let mut found = Vec::new();
    refs(&document, &mut found);
    for target in found {
        let name = target.strip_prefix("#/components/schemas/").unwrap();
        assert!(
            document["components"]["schemas"].get(name).is_some(),
            "{target} resolves"
        );
    }
    let codes: Vec<&str> = document["components"]["schemas"]["ErrorBody"]["properties"]["error"]
        ["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let listed: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes, listed);
    let theme = &document["components"]["schemas"]["Config"]["properties"]["theme"];
    assert!(theme.to_string().contains("\"dark\""), "{theme}");
}

/// A refused request guard forwards the request to the next route that matches it (and then to
/// the fallback routes, which send the refusal); that is only safe while no two routes of one
/// method match the same path.
#[test]
fn no_two_routes_of_one_method_match_one_path() {
    let routes: Vec<(String, Vec<String>)> = mounted()
        .into_iter()
        .map(|(method, path)| (method, path.split('/').map(String::from).collect()))
        .collect();
    let dynamic = |segment: &str| segment.starts_with('{');
    for (i, (method, a)) in routes.iter().enumerate() {
        for (other, b) in &routes[i + 1..] {
            let overlap = method == other
                && a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| x == y || dynamic(x) || dynamic(y));
            assert!(!overlap, "{method} {} and {}", a.join("/"), b.join("/"));
        }
    }
}

/// Writes `head` and then `body` whole, as clients that do not read before they finish writing
/// do, and reads the answer: the status line and headers, and the JSON body.
fn send_whole(server: &TestServer, head: &str, body: &[u8]) -> (String, Value) {
    let address = server.base.trim_start_matches("http://");
    let mut request = format!(
        "{head}\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    let answer = raw_exchange(&server.base, &request, Duration::from_secs(20))
        .unwrap_or_else(|err| panic!("{head}: the request could not be sent whole: {err}"));
    let (headers, json) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{head}: no answer: {answer:?}"));
    let json = serde_json::from_str(json).unwrap_or_else(|err| panic!("{head}: {err}: {json}"));
    (headers.to_string(), json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_where_none_is_read_still_gets_its_answer() {
    let server = TestServer::with(Settings {
        token: Some("sesame".into()),
        ..Settings::default()
    });
    // 8 MB, more than loopback's socket buffers hold: a server that answers and closes without
    // reading it resets the connection under a client still writing.
    let body = format!("[{}0]", "0,".repeat(4_000_000)).into_bytes();
    let cases = [
        (
            "POST /api/viewer/../screenshot?token=sesame HTTP/1.1",
            400,
            "invalid_id",
        ),
        ("POST /api/viewer/a/clear?token=sesame HTTP/1.1", 200, ""),
        (
            "DELETE /api/viewer/nobody?token=sesame HTTP/1.1",
            404,
            "viewer_not_found",
        ),
        ("POST /api/nowhere HTTP/1.1", 404, "not_found"),
        ("PUT /api/model HTTP/1.1", 405, "method_not_allowed"),
        ("POST /api/model HTTP/1.1", 401, "token_required"),
        ("POST /api/config?token=wrong HTTP/1.1", 403, "bad_token"),
        ("GET /api/viewers?token=sesame HTTP/1.1", 400, "bad_request"),
        ("GET /health HTTP/1.1", 400, "bad_request"),
    ];
    for (head, status, code) in cases {
        let (headers, answer) = send_whole(&server, head, &body);
        assert!(
            headers.starts_with(&format!("HTTP/1.1 {status} ")),
            "{head}: {headers}"
        );
        assert_eq!(
            answer["error"]["code"].as_str().unwrap_or_default(),
            code,
            "{head}: {answer}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_a_path_does_not_have_is_405_with_allow() {
    let server = TestServer::start();
    for (method, path, allow) in [
        ("PUT", "/api/model", "OPTIONS, POST"),
        ("DELETE", "/api/config", "GET, HEAD, OPTIONS, POST"),
        ("PATCH", "/api/viewer/a/status", "GET, HEAD, OPTIONS, POST"),
        ("POST", "/health", "GET, HEAD, OPTIONS"),
    ] {
        let response = client()
            .request(method.parse().unwrap(), server.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], "method_not_allowed");
        assert!(answer["error"]["message"].as_str().unwrap().contains(allow));
    }
    // A method Rocket does not know at all (`/` found by schemathesis).
    let address = server.base.trim_start_matches("http://");
    for path in ["/api/viewers", "/"] {
        let request =
            format!("QUERY {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        let answer =
            raw_exchange(&server.base, request.as_bytes(), Duration::from_secs(10)).unwrap();
        assert!(answer.starts_with("HTTP/1.1 405 "), "{path}: {answer}");
        assert!(
            answer
                .to_lowercase()
                .contains("\r\nallow: get, head, options\r\n"),
            "{answer}"
        );
        assert!(answer.contains("\"method_not_allowed\""), "{answer}");
    }
    // A path no route has stays a 404.
    let (status, answer) = get_json(&server, "/api/nothing/here").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_parameters_are_read_strictly() {
    let server = TestServer::start();
    post(&server, "/api/model?viewer=v", fixture("box.json")).await;
    for (path, status, at) in [
        ("/api/viewer/v/screenshot?timeout=abc", 422, "?timeout"),
        ("/api/viewer/v/screenshot?timeout=-1", 422, "?timeout"),
        (
            "/api/viewer/v/screenshot?timeout=1&timeout=2",
            400,
            "?timeout",
        ),
        ("/api/model?viewer=a&viewer=b", 400, "?viewer"),
    ] {
        let (got, answer) = post(&server, path, fixture("box.json")).await;
        assert_eq!(
            (got, answer["error"]["path"].as_str()),
            (status, Some(at)),
            "{path}: {answer}"
        );
    }
    let (status, answer) = get_json(&server, "/api/viewer/v/tool-requests?wait=soon").await;
    assert_eq!(
        (status, answer["error"]["path"].as_str()),
        (422, Some("?wait"))
    );
    let (status, answer) = get_json(&server, "/viewer/v/scene.js?height=300&height=400").await;
    assert_eq!(
        (status, answer["error"]["path"].as_str()),
        (400, Some("?height"))
    );
    // Nothing went to the `default` viewer instead.
    let (status, _) = get_json(&server, "/api/viewer/default/status").await;
    assert_eq!(status, 404);
}
