//! A stored model's JSON as shared segments: a small head written by the server, the text of its
//! tree form and the bytes of its parts (see [`parts`](super::parts)), read as one. Serving it
//! costs no copy of the geometry (40 MB for a big part), and every response and event reads the
//! same bytes.

use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncSeek, ReadBuf};

/// JSON text in shared segments, read as one.
#[derive(Debug, Clone, Default)]
pub struct StoredJson {
    parts: Vec<Bytes>,
    len: usize,
}

impl StoredJson {
    pub fn new(parts: Vec<Bytes>) -> Self {
        let len = parts.iter().map(Bytes::len).sum();
        StoredJson { parts, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn parts(&self) -> &[Bytes] {
        &self.parts
    }

    /// Appends the whole text to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.reserve(self.len);
        for part in &self.parts {
            out.extend_from_slice(part);
        }
    }

    /// The whole text in one buffer (a copy: for tests and small models).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }

    /// An async reader over the text, for response bodies.
    pub fn reader(&self) -> StoredJsonReader {
        StoredJsonReader {
            json: self.clone(),
            position: 0,
        }
    }
}

impl From<Bytes> for StoredJson {
    fn from(bytes: Bytes) -> Self {
        StoredJson::new(vec![bytes])
    }
}

/// What goes around a raw JSON value to make it the last field `key` of `object` (a JSON
/// object): `{...object's fields,"key":` before it and `}` after it.
pub fn raw_field_frame(object: &serde_json::Value, key: &str) -> (Vec<u8>, &'static [u8]) {
    let head = object.to_string();
    debug_assert!(head.starts_with('{') && head.ends_with('}'));
    let mut open = Vec::with_capacity(head.len() + key.len() + 4);
    open.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    if head.len() > 2 {
        open.push(b',');
    }
    open.extend_from_slice(serde_json::to_string(key).unwrap_or_default().as_bytes());
    open.push(b':');
    (open, b"}")
}

/// Reads a [`StoredJson`] front to back (and seeks, as Rocket's sized bodies require).
pub struct StoredJsonReader {
    json: StoredJson,
    position: usize,
}

impl AsyncRead for StoredJsonReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut skip = self.position;
        let mut copied = 0;
        for part in &self.json.parts {
            if skip >= part.len() {
                skip -= part.len();
                continue;
            }
            let available = &part[skip..];
            let n = available.len().min(buf.remaining());
            buf.put_slice(&available[..n]);
            copied += n;
            skip = 0;
            if buf.remaining() == 0 {
                break;
            }
        }
        self.position += copied;
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for StoredJsonReader {
    fn start_seek(mut self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        let target = match position {
            SeekFrom::Start(n) => n as i64,
            SeekFrom::End(n) => self.json.len as i64 + n,
            SeekFrom::Current(n) => self.position as i64 + n,
        };
        if target < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start",
            ));
        }
        self.position = (target as usize).min(self.json.len);
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(self.position as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncSeekExt};

    #[tokio::test]
    async fn reads_and_seeks_across_segments() {
        let json = StoredJson::new(vec![
            Bytes::from_static(b"{\"a\":"),
            Bytes::from_static(b"[1,2,3]"),
            Bytes::from_static(b"}"),
        ]);
        assert_eq!(json.len(), 13);
        let mut all = String::new();
        json.reader().read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "{\"a\":[1,2,3]}");

        let mut reader = json.reader();
        reader.seek(SeekFrom::Start(6)).await.unwrap();
        let mut small = [0u8; 3];
        reader.read_exact(&mut small).await.unwrap();
        assert_eq!(&small, b"1,2");
        assert_eq!(reader.seek(SeekFrom::End(0)).await.unwrap(), 13);
    }
}
