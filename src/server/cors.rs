//! Cross-origin access for browsers: only allowed origins (see [`Policy::origin_allowed`]) get
//! CORS headers, and preflights are answered for them alone.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Header, Method, Status};
use rocket::{Request, Response};

use super::guards::{Caller, Policy};

/// Adds `Access-Control-Allow-*` headers for allowed origins.
pub struct Cors;

#[rocket::async_trait]
impl Fairing for Cors {
    fn info(&self) -> Info {
        Info {
            name: "CORS for allowed origins",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let Some(origin) = request.headers().get_one("Origin") else {
            return;
        };
        let Some(policy) = request.rocket().state::<Policy>() else {
            return;
        };
        response.adjoin_header(Header::new("Vary", "Origin"));
        if !policy.origin_allowed(origin, request.headers().get_one("Host")) {
            return;
        }
        response.set_header(Header::new(
            "Access-Control-Allow-Origin",
            origin.to_string(),
        ));
        response.set_header(Header::new(
            "Access-Control-Expose-Headers",
            "ETag, Location",
        ));
        if request.method() == Method::Options {
            response.set_header(Header::new(
                "Access-Control-Allow-Methods",
                "GET, POST, DELETE, OPTIONS",
            ));
            response.set_header(Header::new(
                "Access-Control-Allow-Headers",
                "Content-Type, Authorization, Last-Event-ID, X-OCP-Token",
            ));
            response.set_header(Header::new("Access-Control-Max-Age", "600"));
        }
    }
}

/// Answers CORS preflights (the fairing adds the headers when the origin is allowed).
#[rocket::options("/<_..>")]
pub fn preflight(_caller: Caller) -> Status {
    Status::NoContent
}
