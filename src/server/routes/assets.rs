//! `GET /static/<name>`: the files the binary carries ([`crate::assets`]). Only names in the
//! generated table are served, so no request path reaches the filesystem. Content hashes are the
//! ETags; pages link `?v=<hash>`, so those files can be cached for a year and a new release is
//! fetched at once.

use std::io::Cursor;

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

use crate::assets::{Asset, AssetKind};
use crate::error::{ApiError, ApiResult};
use crate::server::guards::{Caller, Conditional};
use crate::server::openapi::ErrorBody;
use crate::wire::ErrorCode;

/// An embedded file: the renderer, Swagger UI, their licences, the pages' modules.
#[utoipa::path(
    get,
    path = "/static/{name}",
    operation_id = "get_static",
    tag = "pages",
    params(
        ("name" = String, Path, description = "`three-cad-viewer.js`, `main.js`, ..."),
        ("v" = Option<String>, Query, description = "The file's content hash: with it, the file may be cached for good"),
    ),
    responses(
        (status = 200, description = "The file (ETag: its hash; gzip when accepted)", content((String = "text/javascript"), (String = "text/css"), (String = "text/plain"))),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, description = "`not_found`: no such file", body = ErrorBody),
    ),
)]
#[rocket::get("/static/<name>?<v>")]
pub async fn get(
    _caller: Caller,
    name: &str,
    v: Option<&str>,
    conditional: Conditional,
) -> ApiResult<AssetResponse> {
    let asset = Asset::find(name)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no static file {name:?}")))?;
    let etag = format!("\"{}\"", asset.hash);
    let not_modified = conditional.has(&etag);
    let gzip = conditional.gzip;
    let body = if gzip && !not_modified {
        rocket::tokio::task::spawn_blocking(move || asset.gzipped())
            .await
            .map_err(|err| ApiError::internal(err.to_string()))?
    } else {
        asset.bytes
    };
    // A link that names this content's hash may be cached for good; any other (a module's
    // import of a sibling) is revalidated by ETag.
    let immutable = v == Some(asset.hash);
    Ok(AssetResponse {
        asset,
        etag,
        not_modified,
        gzip,
        body,
        immutable,
    })
}

pub struct AssetResponse {
    asset: &'static Asset,
    etag: String,
    not_modified: bool,
    gzip: bool,
    body: &'static [u8],
    immutable: bool,
}

impl<'r> Responder<'r, 'static> for AssetResponse {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        response
            .header(content_type(self.asset.kind))
            .header(Header::new("ETag", self.etag))
            .header(Header::new("Vary", "Accept-Encoding"))
            .header(Header::new(
                "Cache-Control",
                if self.immutable {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                },
            ));
        if self.not_modified {
            return response.status(Status::NotModified).ok();
        }
        if self.gzip {
            response.header(Header::new("Content-Encoding", "gzip"));
        }
        response
            .sized_body(self.body.len(), Cursor::new(self.body))
            .max_chunk_size(256 * 1024)
            .ok()
    }
}

fn content_type(kind: AssetKind) -> ContentType {
    match kind {
        AssetKind::JavaScript => ContentType::JavaScript,
        AssetKind::Css => ContentType::CSS,
        AssetKind::Text => ContentType::Text,
    }
}
