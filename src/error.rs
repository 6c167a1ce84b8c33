//! The one error shape of the API: `{"error": {"code", "message", "path"?}}` with a fitting
//! status. Routes, request guards and catchers all answer with [`ApiError`], so a client never has
//! to parse an HTML page or guess what went wrong.

use std::io::Cursor;

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use serde::Serialize;

use crate::hub::HubError;
use crate::ids::InvalidId;
use crate::model::error::{ModelError, ModelErrorKind};

/// An API failure: HTTP status, a stable machine-readable `code`, a message for people, and
/// where in the request body the problem is (a JSON path such as `$.data.shapes.parts[2]`).
#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: Status,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl ApiError {
    pub fn new(status: Status, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            path: None,
        }
    }

    /// The same error, pointing at `path` in the request body.
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(Status::BadRequest, "bad_request", message)
    }

    pub fn malformed_json(message: impl Into<String>) -> Self {
        ApiError::new(Status::BadRequest, "malformed_json", message)
    }

    pub fn invalid(message: impl Into<String>, path: impl Into<String>) -> Self {
        ApiError::new(Status::UnprocessableEntity, "invalid", message).at(path)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError::new(Status::PayloadTooLarge, "too_large", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(Status::InternalServerError, "internal", message)
    }

    /// The body as sent: `{"error": {...}}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": self }).to_string()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}: {}", path, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl From<ModelError> for ApiError {
    fn from(err: ModelError) -> Self {
        let status = match err.kind {
            ModelErrorKind::Malformed => Status::BadRequest,
            ModelErrorKind::Invalid => Status::UnprocessableEntity,
        };
        let code = match err.kind {
            ModelErrorKind::Malformed => "malformed_json",
            ModelErrorKind::Invalid => "invalid",
        };
        ApiError {
            status,
            code,
            message: err.message,
            path: err.path,
        }
    }
}

impl From<InvalidId> for ApiError {
    fn from(err: InvalidId) -> Self {
        ApiError::new(Status::BadRequest, "invalid_id", err.to_string())
    }
}

impl From<HubError> for ApiError {
    fn from(err: HubError) -> Self {
        let (status, code) = match &err {
            HubError::ModelNotFound(_) => (Status::NotFound, "model_not_found"),
            HubError::ModelGone(_) => (Status::Gone, "model_evicted"),
            HubError::ViewerNotFound(_) => (Status::NotFound, "viewer_not_found"),
            HubError::ViewerDeleted(_) => (Status::Gone, "viewer_deleted"),
            HubError::ScreenshotNotFound(_) => (Status::NotFound, "screenshot_not_found"),
            HubError::NoThumbnail(_) => (Status::NotFound, "no_thumbnail"),
            HubError::OverBudget { .. } => (Status::PayloadTooLarge, "over_memory_budget"),
            HubError::ModelMemoryFull { .. } => (Status::ServiceUnavailable, "model_memory_full"),
            HubError::SettingsTooLarge { .. } => (Status::PayloadTooLarge, "too_large"),
            HubError::TooManyViewers { .. } => (Status::TooManyRequests, "too_many_viewers"),
            HubError::NoPage(_) | HubError::ScreenshotTimeout(_) => {
                (Status::GatewayTimeout, "no_page_answered")
            }
            HubError::Unavailable(_) => (Status::ServiceUnavailable, "store_unavailable"),
            HubError::ModelChanged { .. } => (Status::Conflict, "model_changed"),
        };
        ApiError::new(status, code, err.to_string())
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let body = self.to_json();
        Response::build()
            .status(self.status)
            .header(ContentType::JSON)
            .raw_header("Cache-Control", "no-store")
            .sized_body(body.len(), Cursor::new(body))
            .ok()
    }
}

/// An error serde reported at `path` in a request body: 422 for a value of the wrong type or
/// shape, 400 for broken JSON.
pub fn from_serde(prefix: &str, err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    ModelError::from_serde(prefix, err).into()
}

/// What route handlers return.
pub type ApiResult<T> = Result<T, ApiError>;
