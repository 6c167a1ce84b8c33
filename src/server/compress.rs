//! Gzip for response bodies (models, the renderer's bundle): one helper, so every body that is
//! compressed is compressed the same way.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

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
