//! What answers when no handler does: a request no route takes, a method a path does not have, a
//! guard that refused. Every answer is the JSON error shape, never an HTML page, and a body the
//! client sent is read first (up to 16 MiB, for up to a second; see
//! [`drain`](super::body::drain)), so a client that writes its whole body before reading sees
//! the answer rather than a reset connection.
//!
//! - Request guards refuse by forwarding (see [`fail`](super::guards::fail)); the request then
//!   reaches the [`fallback`] routes, which take every path and method at the lowest rank,
//!   drain the body and answer with the guard's error, 405 with `Allow`, or 404.
//! - Rocket itself answers a method it does not know (`QUERY`) with 400 before routing; the
//!   [`json_error`] catcher turns that into 405 with `Allow` too.

use rocket::data::Data;
use rocket::http::{Header, Method, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::route::{self, Handler, Route};

use super::body::drain;
use super::guards::GuardFailure;
use crate::error::ApiError;
use crate::wire::ErrorCode;

/// The rank of the fallback routes: below every route of the API.
const FALLBACK_RANK: isize = 1000;
/// The methods the fallback routes take (OPTIONS has the CORS preflight, HEAD goes to GET).
const FALLBACK_METHODS: [Method; 6] = [
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Delete,
    Method::Patch,
    Method::Trace,
];

/// An error answer, with the `Allow` header when it is a 405.
pub struct Refusal {
    error: ApiError,
    allow: Option<String>,
}

impl<'r> Responder<'r, 'static> for Refusal {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.error.respond_to(request)?;
        if let Some(allow) = self.allow {
            response.set_header(Header::new("Allow", allow));
        }
        Ok(response)
    }
}

#[rocket::catch(default)]
pub fn json_error(status: Status, request: &Request<'_>) -> Refusal {
    let remembered = remembered(request);
    // Rocket dispatches a request it could not read (an unknown method) to catchers as a GET of
    // the same path with 400, before any route was tried; a method no fallback route takes
    // (CONNECT) is a 404.
    // (A target it could not read keeps its known method: only a GET here is one Rocket made.)
    let unknown_method = status == Status::BadRequest
        && request.route().is_none()
        && request.method() == Method::Get;
    if remembered.is_none() && (unknown_method || status == Status::NotFound) {
        let method = if unknown_method {
            "this method".to_string()
        } else {
            request.method().to_string()
        };
        if let Some(refusal) = method_not_allowed(request, &method) {
            return refusal;
        }
    }
    Refusal {
        error: remembered.unwrap_or_else(|| {
            let code = match status.code {
                404 => ErrorCode::NotFound,
                _ => ErrorCode::Error,
            };
            ApiError::with_status(status, code, status.reason_lossy().to_string())
        }),
        allow: None,
    }
}

/// The routes that take whatever no other route did.
pub fn fallback() -> Vec<Route> {
    FALLBACK_METHODS
        .into_iter()
        .map(|method| Route::ranked(FALLBACK_RANK, method, "/<_..>", Fallback))
        .collect()
}

#[derive(Clone)]
struct Fallback;

#[rocket::async_trait]
impl Handler for Fallback {
    async fn handle<'r>(&self, request: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        drain(data).await;
        let refusal = match remembered(request) {
            Some(error) => Refusal { error, allow: None },
            None => {
                let method = request.method().to_string();
                method_not_allowed(request, &method).unwrap_or_else(|| Refusal {
                    error: ApiError::new(
                        ErrorCode::NotFound,
                        format!("no route for {} {}", method, request.uri().path()),
                    ),
                    allow: None,
                })
            }
        };
        route::Outcome::from(request, refusal)
    }
}

/// The error a guard refused this request with, if one did.
fn remembered(request: &Request<'_>) -> Option<ApiError> {
    request.local_cache(GuardFailure::default).0.clone()
}

/// 405 naming the methods the request's path has, if it has any.
fn method_not_allowed(request: &Request<'_>, method: &str) -> Option<Refusal> {
    let path = request.uri().path();
    let allowed = allowed_methods(request.rocket().routes(), path.as_str());
    if allowed.is_empty() {
        return None;
    }
    let allow = allowed.join(", ");
    Some(Refusal {
        error: ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("{path} does not take {method}: it takes {allow}"),
        ),
        allow: Some(allow),
    })
}

/// The methods the API's routes take at `path`, with HEAD beside GET and OPTIONS for CORS.
fn allowed_methods<'a>(routes: impl Iterator<Item = &'a Route>, path: &str) -> Vec<String> {
    let mut methods: Vec<Method> = routes
        .filter(|route| route.rank != FALLBACK_RANK && route.method != Method::Options)
        .filter(|route| path_matches(route.uri.path(), path))
        .map(|route| route.method)
        .collect();
    if methods.is_empty() {
        return Vec::new();
    }
    if methods.contains(&Method::Get) {
        methods.push(Method::Head);
    }
    methods.push(Method::Options);
    let mut names: Vec<String> = methods.iter().map(Method::to_string).collect();
    names.sort();
    names.dedup();
    names
}

/// Whether a route's path (`/api/viewer/<id>/events`) takes `path`.
fn path_matches(route: &str, path: &str) -> bool {
    let mut wanted = path.trim_start_matches('/').split('/');
    for segment in route.trim_start_matches('/').split('/') {
        if segment.starts_with('<') && segment.ends_with("..>") {
            return true;
        }
        match wanted.next() {
            Some(given) if segment.starts_with('<') => {
                if given.is_empty() {
                    return false;
                }
            }
            Some(given) if given == segment => {}
            _ => return false,
        }
    }
    wanted.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn paths_match_route_patterns_segment_by_segment() {
        assert!(path_matches(
            "/api/viewer/<id>/events",
            "/api/viewer/abc/events"
        ));
        assert!(path_matches("/", "/"));
        assert!(path_matches("/api/model", "/api/model"));
        assert!(path_matches("/static/<name>", "/static/x.js"));
        assert!(!path_matches(
            "/api/viewer/<id>/events",
            "/api/viewer//events"
        ));
        assert!(!path_matches("/api/viewer/<id>", "/api/viewer/abc/events"));
        assert!(!path_matches("/api/model", "/api/models"));
        assert!(!path_matches("/", "/api"));
    }
}
