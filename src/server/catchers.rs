//! Catchers: whatever fails outside a handler (a guard, an unknown route, a body Rocket refused)
//! still answers with the JSON error shape, never an HTML page.

use rocket::http::Status;
use rocket::Request;

use super::guards::GuardFailure;
use crate::error::ApiError;
use crate::wire::ErrorCode;

#[rocket::catch(default)]
pub fn json_error(status: Status, request: &Request<'_>) -> ApiError {
    if let Some(error) = &request.local_cache(GuardFailure::default).0 {
        return error.clone();
    }
    let (code, message) = match status.code {
        404 => (
            ErrorCode::NotFound,
            format!("no route for {} {}", request.method(), request.uri().path()),
        ),
        405 => (
            ErrorCode::MethodNotAllowed,
            format!("{} is not allowed here", request.method()),
        ),
        _ => (ErrorCode::Error, status.reason_lossy().to_string()),
    };
    ApiError::with_status(status, code, message)
}
