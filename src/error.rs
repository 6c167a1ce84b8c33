//! The one error shape of the API: `{"error": {"code", "message", "path"?}}` with a fitting
//! status. Routes, request guards and catchers all answer with [`ApiError`], so a client never has
//! to parse an HTML page or guess what went wrong.

use std::io::Cursor;

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use serde::Serialize;

use crate::hub::HubError;
use crate::ids::{InvalidId, InvalidPartHash};
use crate::model::config::BadSetting;
use crate::model::error::{ModelError, ModelErrorKind};
use crate::wire::ErrorCode;

/// An API failure: HTTP status, a stable machine-readable `code`, a message for people, and
/// where in the request body the problem is (a JSON path such as `$.data.shapes.parts[2]`).
#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: Status,
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl ApiError {
    /// An error with `code`, answered with the code's status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let status = code.status().and_then(Status::from_code);
        ApiError::with_status(status.unwrap_or(Status::InternalServerError), code, message)
    }

    /// An error answered with `status` (for [`ErrorCode::Error`], which has none of its own).
    pub fn with_status(status: Status, code: ErrorCode, message: impl Into<String>) -> Self {
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
        ApiError::new(ErrorCode::BadRequest, message)
    }

    pub fn malformed_json(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::MalformedJson, message)
    }

    pub fn invalid(message: impl Into<String>, path: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Invalid, message).at(path)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::TooLarge, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Internal, message)
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
        let code = match err.kind {
            ModelErrorKind::Malformed => ErrorCode::MalformedJson,
            ModelErrorKind::Invalid => ErrorCode::Invalid,
        };
        ApiError {
            path: err.path,
            ..ApiError::new(code, err.message)
        }
    }
}

impl From<BadSetting> for ApiError {
    fn from(err: BadSetting) -> Self {
        ApiError::invalid(err.message, err.path)
    }
}

impl From<InvalidId> for ApiError {
    fn from(err: InvalidId) -> Self {
        ApiError::new(ErrorCode::InvalidId, err.to_string())
    }
}

impl From<InvalidPartHash> for ApiError {
    fn from(err: InvalidPartHash) -> Self {
        ApiError::new(ErrorCode::InvalidId, err.to_string())
    }
}

impl From<HubError> for ApiError {
    fn from(err: HubError) -> Self {
        let code = match &err {
            HubError::ModelNotFound(_) => ErrorCode::ModelNotFound,
            HubError::ModelGone(_) => ErrorCode::ModelEvicted,
            HubError::ViewerNotFound(_) => ErrorCode::ViewerNotFound,
            HubError::NoModel(_) => ErrorCode::NoModel,
            HubError::VersionNotKept { .. } => ErrorCode::VersionNotKept,
            HubError::ViewerDeleted(_) => ErrorCode::ViewerDeleted,
            HubError::ScreenshotNotFound(_) => ErrorCode::ScreenshotNotFound,
            HubError::NoThumbnail(_) => ErrorCode::NoThumbnail,
            HubError::OverBudget { .. } => ErrorCode::OverMemoryBudget,
            HubError::ModelMemoryFull { .. } => ErrorCode::ModelMemoryFull,
            HubError::SettingsTooLarge { .. } => ErrorCode::TooLarge,
            HubError::TooManyViewers { .. } => ErrorCode::TooManyViewers,
            HubError::NoPage(_) | HubError::ScreenshotTimeout(_) => ErrorCode::NoPageAnswered,
            HubError::Unavailable(_) => ErrorCode::StoreUnavailable,
            HubError::Busy(_) => ErrorCode::Busy,
            HubError::ModelChanged { .. } => ErrorCode::ModelChanged,
        };
        ApiError::new(code, err.to_string())
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
