//! The files the binary carries: the renderer's bundle, stylesheet and licences (embedded at
//! build time, see build.rs) and the page's own modules from `web/src/`, with one gzip for every
//! body that is compressed. The server serves them (`/static/<name>`), and one-file scenes
//! (`scene`) pack them; neither reaches the filesystem.

use std::io::Write;
use std::sync::OnceLock;

use flate2::write::GzEncoder;
pub use flate2::Compression;

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

    /// The asset named `name`, if the binary has one.
    pub fn find(name: &str) -> Option<&'static Asset> {
        ASSETS.iter().find(|asset| asset.name == name)
    }

    /// The path a page links: relative, versioned by content hash.
    pub fn href(&self) -> String {
        format!("static/{}?v={}", self.name, self.hash)
    }

    /// The file gzipped at the best level, made once and kept.
    pub fn gzipped(&self) -> &[u8] {
        self.gzip
            .get_or_init(|| gzip([self.bytes], Compression::best()))
    }
}

/// `parts`, written one after the other, gzipped at `level`.
pub fn gzip<'a>(parts: impl IntoIterator<Item = &'a [u8]>, level: Compression) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), level);
    for part in parts {
        encoder
            .write_all(part)
            .expect("writing to a Vec cannot fail");
    }
    encoder.finish().expect("writing to a Vec cannot fail")
}
