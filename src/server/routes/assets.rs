//! `GET /static/<name>`: the renderer's bundle, stylesheet and licenses, embedded in the binary
//! at build time (see build.rs), and the page's own modules from `web/src/`. Only names in the
//! generated table are served, so no request path reaches the filesystem. Content hashes are the
//! ETags; pages link `?v=<hash>`, so those files can be cached for a year and a new release is
//! fetched at once.

use std::io::Cursor;
use std::sync::OnceLock;

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

use crate::error::{ApiError, ApiResult};
use crate::server::compress;
use crate::server::guards::{Caller, Conditional};

/// An embedded file.
pub struct Asset {
    pub name: &'static str,
    pub kind: AssetKind,
    pub bytes: &'static [u8],
    /// Content hash (hex), computed by build.rs.
    pub hash: &'static str,
    gzip: OnceLock<Vec<u8>>,
}

/// What an asset is, for its Content-Type.
#[derive(Debug, Clone, Copy)]
pub enum AssetKind {
    JavaScript,
    Css,
    /// Plain text: the licenses of the embedded renderer.
    Text,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

impl Asset {
    const fn new(
        name: &'static str,
        kind: AssetKind,
        bytes: &'static [u8],
        hash: &'static str,
    ) -> Self {
        Asset {
            name,
            kind,
            bytes,
            hash,
            gzip: OnceLock::new(),
        }
    }

    fn content_type(&self) -> ContentType {
        match self.kind {
            AssetKind::JavaScript => ContentType::JavaScript,
            AssetKind::Css => ContentType::CSS,
            AssetKind::Text => ContentType::Text,
        }
    }
}

impl Asset {
    /// The asset named `name`, if the binary has one.
    pub fn find(name: &str) -> Option<&'static Asset> {
        ASSETS.iter().find(|asset| asset.name == name)
    }

    /// The path a page links: relative, versioned by content hash.
    pub fn href(&self) -> String {
        format!("static/{}?v={}", self.name, self.hash)
    }

    fn gzipped(&self) -> &[u8] {
        self.gzip
            .get_or_init(|| compress::gzip([self.bytes], flate2::Compression::best()))
    }
}

#[rocket::get("/static/<name>?<v>")]
pub async fn get(
    _caller: Caller,
    name: &str,
    v: Option<&str>,
    conditional: Conditional,
) -> ApiResult<AssetResponse> {
    let asset = Asset::find(name).ok_or_else(|| {
        ApiError::new(
            Status::NotFound,
            "not_found",
            format!("no static file {name:?}"),
        )
    })?;
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
            .header(self.asset.content_type())
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
