//! Request guards: who may call (Host and Origin checks, the token for writes), and the few
//! headers routes read. A failing guard answers with an [`ApiError`] through the catchers.

use std::net::IpAddr;

use rocket::http::{Method, Status};
use rocket::request::{FromRequest, Outcome, Request};

use crate::error::ApiError;
use crate::wire::ErrorCode;
use crate::Settings;

/// The access rules of a running server, built once from [`Settings`].
#[derive(Debug, Clone)]
pub struct Policy {
    token: Option<String>,
    any_host: bool,
    hosts: Vec<String>,
    any_origin: bool,
    origins: Vec<String>,
}

impl Policy {
    pub fn new(settings: &Settings) -> Self {
        let lower = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|s| s.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let hosts = lower(&settings.allowed_hosts);
        let origins = lower(&settings.allowed_origins);
        Policy {
            token: settings.token.clone().filter(|t| !t.is_empty()),
            any_host: hosts.iter().any(|h| h == "*"),
            hosts,
            any_origin: origins.iter().any(|o| o == "*"),
            origins,
        }
    }

    pub fn token_required(&self) -> bool {
        self.token.is_some()
    }

    /// A Host header is accepted when it names an IP address (never the target of DNS
    /// rebinding), `localhost` or a `*.localhost` name, or a configured name.
    fn host_allowed(&self, host_header: &str) -> bool {
        let name = host_name(host_header).to_ascii_lowercase();
        self.any_host
            || name.parse::<IpAddr>().is_ok()
            || is_localhost_name(&name)
            || self.hosts.contains(&name)
    }

    /// A browser Origin is accepted when it is the server's own, a loopback origin (a notebook
    /// served on this machine), or configured.
    pub fn origin_allowed(&self, origin: &str, host_header: Option<&str>) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        let authority = origin.split_once("://").map_or("", |(_, rest)| rest);
        let same_origin = host_header.is_some_and(|h| h.eq_ignore_ascii_case(authority));
        let name = host_name(authority);
        let loopback =
            is_localhost_name(name) || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        self.any_origin || same_origin || loopback || self.origins.contains(&origin)
    }

    fn token_matches(&self, given: &str) -> bool {
        self.token
            .as_deref()
            .is_some_and(|token| constant_time_eq(token.as_bytes(), given.as_bytes()))
    }
}

/// The name part of a Host header or URL authority: `[::1]:5000` -> `::1`, `a.b:80` -> `a.b`.
/// Anything after the name but a port (`localhost:1.evil.example`) makes it no name at all.
fn host_name(authority: &str) -> &str {
    let (name, port) = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((name, after)) => (
                name,
                after
                    .strip_prefix(':')
                    .or(Some(after).filter(|a| a.is_empty())),
            ),
            None => return "",
        },
        None => match authority.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, Some("")),
        },
    };
    match port {
        Some(port) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => "",
    }
}

fn is_localhost_name(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The error a guard failed with, kept for the catcher (Rocket hands catchers only a status).
#[derive(Default)]
pub struct GuardFailure(pub Option<ApiError>);

/// Keeps `error` for the catcher; returns its status.
pub fn remember_failure(request: &Request<'_>, error: &ApiError) -> Status {
    request.local_cache(|| GuardFailure(Some(error.clone())));
    error.status
}

/// Refuses a request in a request guard with `error`. The guard forwards rather than fails, so
/// that the request reaches the fallback routes with its body, which they read before sending
/// `error` (see [`catchers`](super::catchers)).
pub fn fail<T>(request: &Request<'_>, error: ApiError) -> Outcome<T, ApiError> {
    Outcome::Forward(remember_failure(request, &error))
}

fn policy<'r>(request: &'r Request<'_>) -> &'r Policy {
    request
        .rocket()
        .state::<Policy>()
        .expect("the server manages a Policy")
}

/// Any caller that passed the Host and Origin checks. Reads and a page's own reports need only
/// this (a viewer id is the capability to watch and report on that viewer).
pub struct Caller;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Caller {
    type Error = ApiError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ApiError> {
        let policy = policy(request);
        let host = request.headers().get_one("Host");
        if let Some(host) = host.filter(|h| !policy.host_allowed(h)) {
            let message = match host_name(host) {
                "" => format!("Host {host:?} is not a host name with an optional port"),
                name => format!(
                    "Host {host:?} is not allowed (DNS rebinding protection); start the server \
                     with --allowed-host {name} to accept it"
                ),
            };
            return fail(request, ApiError::new(ErrorCode::HostNotAllowed, message));
        }
        if let Some(origin) = request.headers().get_one("Origin") {
            if !policy.origin_allowed(origin, host) {
                let message = format!(
                    "Origin {origin:?} may not call this server; start it with --allowed-origin {origin} to allow it"
                );
                return fail(request, ApiError::new(ErrorCode::OriginNotAllowed, message));
            }
        }
        // A read with a body: refused (the fallback routes read the body first, so the client
        // gets this answer rather than a reset connection).
        if matches!(request.method(), Method::Get | Method::Head) && has_body(request) {
            return fail(
                request,
                ApiError::bad_request(
                    "a GET carries no body here: send what it asks for in the URL's query",
                ),
            );
        }
        Outcome::Success(Caller)
    }
}

/// Whether the request says a body follows (a length above 0, or chunks).
fn has_body(request: &Request<'_>) -> bool {
    let headers = request.headers();
    headers
        .get_one("Content-Length")
        .is_some_and(|length| length.trim() != "0")
        || headers.get_one("Transfer-Encoding").is_some()
}

/// A caller that also holds the server's token, when it has one: needed for writes that change
/// what viewers show, and for listing viewer ids.
pub struct Authorized;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Authorized {
    type Error = ApiError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ApiError> {
        match Caller::from_request(request).await {
            Outcome::Success(Caller) => {}
            Outcome::Forward(status) => return Outcome::Forward(status),
            Outcome::Error(failure) => return Outcome::Error(failure),
        }
        let policy = policy(request);
        if !policy.token_required() {
            return Outcome::Success(Authorized);
        }
        let given = request
            .headers()
            .get_one("Authorization")
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("token "))
            })
            .or_else(|| request.headers().get_one("X-OCP-Token"))
            .or_else(|| request.query_value::<&str>("token").and_then(Result::ok));
        match given {
            Some(token) if policy.token_matches(token.trim()) => Outcome::Success(Authorized),
            Some(_) => fail(
                request,
                ApiError::new(ErrorCode::BadToken, "the token is wrong"),
            ),
            None => fail(
                request,
                ApiError::new(
                    ErrorCode::TokenRequired,
                    "this server needs its token for this request: send `Authorization: Bearer \
                     <token>` (the token is in the URL the server printed at start)",
                ),
            ),
        }
    }
}

/// The id of the last event a reconnecting page saw: EventSource's `Last-Event-ID` header, or a
/// `last_event_id` query parameter for a page that was reloaded.
pub struct LastEventId(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for LastEventId {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let id = request
            .headers()
            .get_one("Last-Event-ID")
            .map(str::to_string)
            .or_else(|| {
                request
                    .query_value::<String>("last_event_id")
                    .and_then(Result::ok)
            })
            .filter(|id| !id.trim().is_empty());
        Outcome::Success(LastEventId(id))
    }
}

/// How the client wants a response body: whether it takes gzip, and the ETag it already has.
pub struct Conditional {
    pub gzip: bool,
    pub if_none_match: Option<String>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Conditional {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let headers = request.headers();
        Outcome::Success(Conditional {
            gzip: headers.get("Accept-Encoding").any(accepts_gzip),
            if_none_match: headers.get_one("If-None-Match").map(str::to_string),
        })
    }
}

impl Conditional {
    /// Whether the client already has the body tagged `etag` (`If-None-Match`, weak tags and `*`
    /// included), so a 304 will do.
    pub fn has(&self, etag: &str) -> bool {
        self.if_none_match.as_deref().is_some_and(|tags| {
            tags.split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == etag || tag == "*")
        })
    }
}

/// Whether an Accept-Encoding header value lists gzip with a non-zero quality.
fn accepts_gzip(header: &str) -> bool {
    header.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

/// The server's base URL as this client reached it (`http://<Host>`), for absolute URLs in
/// answers.
pub struct BaseUrl(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for BaseUrl {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let host = request
            .headers()
            .get_one("Host")
            .map(str::to_string)
            .unwrap_or_else(|| {
                let config = request.rocket().config();
                std::net::SocketAddr::new(config.address, config.port).to_string()
            });
        Outcome::Success(BaseUrl(format!("http://{host}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str], origins: &[&str]) -> Policy {
        Policy::new(&Settings {
            allowed_hosts: hosts.iter().map(|s| s.to_string()).collect(),
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            ..Settings::default()
        })
    }

    #[test]
    fn hosts_that_cannot_be_rebound_are_accepted() {
        let p = policy(&[], &[]);
        for host in [
            "127.0.0.1:5000",
            "localhost:5000",
            "v3.localhost:5000",
            "[::1]:5000",
            "10.0.0.2",
        ] {
            assert!(p.host_allowed(host), "{host}");
        }
        assert!(!p.host_allowed("evil.example:5000"));
        for trick in [
            "localhost:1.evil.example",
            "127.0.0.1:80@evil.example",
            "[::1]x",
            "[::1",
            "localhost:80:81",
        ] {
            assert!(!p.host_allowed(trick), "{trick}");
        }
        assert!(policy(&["cad.example"], &[]).host_allowed("CAD.example:5000"));
        assert!(policy(&["*"], &[]).host_allowed("evil.example"));
    }

    #[test]
    fn origins_are_same_origin_loopback_or_listed() {
        let p = policy(&[], &["https://hub.example"]);
        assert!(p.origin_allowed("http://127.0.0.1:5000", Some("127.0.0.1:5000")));
        assert!(p.origin_allowed("http://localhost:8888", Some("127.0.0.1:5000")));
        assert!(p.origin_allowed("https://hub.example", Some("cad.example")));
        assert!(p.origin_allowed("http://cad.example:5000", Some("cad.example:5000")));
        assert!(!p.origin_allowed("https://evil.example", Some("127.0.0.1:5000")));
        assert!(!p.origin_allowed("null", Some("127.0.0.1:5000")));
    }

    #[test]
    fn gzip_negotiation_follows_quality_values() {
        assert!(accepts_gzip("gzip, deflate, br"));
        assert!(accepts_gzip("br;q=1.0, gzip;q=0.5"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("identity"));
    }
}
