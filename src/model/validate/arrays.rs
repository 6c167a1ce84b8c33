//! Arrays as the validator reads them: plain number arrays summarised while they are parsed,
//! encoded buffers kept as borrowed text, length-checked against `shape` and `dtype`, then
//! decoded in chunks to summarise their values. Nothing decoded is kept.

use std::borrow::Cow;
use std::cell::Cell;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::ARRAY_LIMIT;
use crate::model::error::ModelError;

/// An array as read: plain numbers (already summarised) or an encoded buffer (still text).
pub(super) enum Array<'a> {
    Plain(Stats),
    Encoded(Encoded<'a>),
}

pub(super) struct Encoded<'a> {
    shape: Vec<u64>,
    dtype: Dtype,
    buffer: Cow<'a, str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dtype {
    Float32,
    Int32,
    Uint32,
}

/// What the checks need to know of an array's values.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stats {
    pub len: usize,
    pub integers: bool,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    /// Index of the first value that is not finite, if any.
    pub non_finite: Option<usize>,
}

impl Stats {
    fn new() -> Self {
        Stats {
            len: 0,
            integers: true,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
            non_finite: None,
        }
    }

    /// Adds decoded integers: no fractions and no infinities to look for.
    fn add_integers(&mut self, values: impl Iterator<Item = i64>) {
        let (mut min, mut max, mut sum) = (i64::MAX, i64::MIN, 0i64);
        for value in values {
            min = min.min(value);
            max = max.max(value);
            sum = sum.wrapping_add(value);
        }
        if min <= max {
            self.min = self.min.min(min as f64);
            self.max = self.max.max(max as f64);
            self.sum += sum as f64;
        }
    }

    fn add(&mut self, value: f64) {
        if !value.is_finite() {
            self.non_finite.get_or_insert(self.len);
        } else {
            self.integers &= value.fract() == 0.0;
            self.min = self.min.min(value);
            self.max = self.max.max(value);
            self.sum += value;
        }
        self.len += 1;
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Array<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ArrayVisitor(std::marker::PhantomData))
    }
}

struct ArrayVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ArrayVisitor<'a> {
    type Value = Array<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of numbers or an encoded buffer {\"shape\", \"dtype\", \"buffer\", \"codec\": \"b64\"}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let limit = ARRAY_LIMIT.with(Cell::get);
        let mut stats = Stats::new();
        while let Some(value) = seq.next_element::<f64>()? {
            if stats.len == limit {
                return Err(de::Error::custom(format!("more than {limit} elements")));
            }
            stats.add(value);
        }
        Ok(Array::Plain(stats))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut shape, mut dtype, mut buffer, mut codec) = (None, None, None, None);
        while let Some(key) = map.next_key::<BorrowedStr>()? {
            match key.0.as_ref() {
                "shape" => shape = Some(map.next_value::<ShapeField>()?.0),
                "dtype" => dtype = Some(map.next_value::<BorrowedStr>()?.0),
                "buffer" => buffer = Some(map.next_value::<BorrowedStr>()?.0),
                "codec" => codec = Some(map.next_value::<BorrowedStr>()?.0),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let missing = |field| de::Error::custom(format!("an encoded buffer needs \"{field}\""));
        let codec = codec.ok_or_else(|| missing("codec"))?;
        if codec != "b64" {
            return Err(de::Error::custom(format!(
                "codec {codec:?} is not supported; expected \"b64\""
            )));
        }
        let dtype = match dtype.ok_or_else(|| missing("dtype"))?.as_ref() {
            "float32" => Dtype::Float32,
            "int32" => Dtype::Int32,
            "uint32" => Dtype::Uint32,
            other => {
                return Err(de::Error::custom(format!(
                "dtype {other:?} is not supported; expected \"float32\", \"int32\" or \"uint32\""
            )))
            }
        };
        Ok(Array::Encoded(Encoded {
            shape: shape.ok_or_else(|| missing("shape"))?,
            dtype,
            buffer: buffer.ok_or_else(|| missing("buffer"))?,
        }))
    }
}

/// A string borrowed from the body when it has no escapes (serde's own `Cow<str>` always
/// copies, which for a 40 MB model means copying every buffer).
pub(super) struct BorrowedStr<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;

        impl<'de> Visitor<'de> for StrVisitor {
            type Value = BorrowedStr<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_string())))
            }
        }

        deserializer.deserialize_str(StrVisitor)
    }
}

/// `shape` of an encoded buffer: `[n]` (ocp-tessellate) or a plain number.
struct ShapeField(Vec<u64>);

impl<'de> Deserialize<'de> for ShapeField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            List(Vec<u64>),
            One(u64),
        }
        match Form::deserialize(deserializer) {
            Ok(Form::List(dims)) => Ok(ShapeField(dims)),
            Ok(Form::One(n)) => Ok(ShapeField(vec![n])),
            Err(_) => Err(de::Error::custom(
                "\"shape\" must be a list of non-negative integers",
            )),
        }
    }
}

impl Array<'_> {
    /// The values' summary, decoding a buffer if needed. `path` names the array in errors.
    pub(super) fn stats(&self, path: &str, want: Kind) -> Result<Stats, ModelError> {
        match self {
            Array::Plain(stats) => Ok(*stats),
            Array::Encoded(encoded) => encoded.stats(path, want),
        }
    }
}

/// What an array holds: coordinates (floats) or counts and indices (integers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Float,
    Integer,
}

impl Encoded<'_> {
    fn stats(&self, path: &str, want: Kind) -> Result<Stats, ModelError> {
        let count = self
            .shape
            .iter()
            .try_fold(1u64, |acc, d| acc.checked_mul(*d))
            .filter(|n| *n <= ARRAY_LIMIT.with(Cell::get) as u64)
            .ok_or_else(|| {
                ModelError::invalid(
                    "\"shape\" is larger than this server accepts",
                    format!("{path}.shape"),
                )
            })? as usize;
        match (want, self.dtype) {
            (Kind::Float, Dtype::Float32) | (Kind::Integer, Dtype::Int32 | Dtype::Uint32) => {}
            (Kind::Float, other) => {
                return Err(ModelError::invalid(
                    format!("dtype {other:?} holds integers; coordinates need float32"),
                    format!("{path}.dtype"),
                ))
            }
            (Kind::Integer, other) => {
                return Err(ModelError::invalid(
                    format!(
                        "dtype {other:?} holds floats; counts and indices need int32 or uint32"
                    ),
                    format!("{path}.dtype"),
                ))
            }
        }
        let text = self.buffer.as_bytes();
        let padding = text
            .iter()
            .rev()
            .take(2)
            .take_while(|b| **b == b'=')
            .count();
        let decoded_len = (text.len() / 4 * 3).saturating_sub(padding);
        if !text.len().is_multiple_of(4) || decoded_len != count * 4 {
            return Err(ModelError::invalid(
                format!(
                    "the buffer holds {decoded_len} bytes but shape {:?} of {} needs {}",
                    self.shape,
                    self.dtype.name(),
                    count * 4
                ),
                format!("{path}.buffer"),
            ));
        }
        let mut stats = Stats::new();
        stats.len = count;
        let mut scratch = vec![0u8; CHUNK / 4 * 3];
        let mut index = 0;
        let last_chunk = text.len().saturating_sub(1) / CHUNK;
        for (n, chunk) in text.chunks(CHUNK).enumerate() {
            // Each chunk decodes on its own, so padding that ends an inner chunk would pass.
            if n < last_chunk && chunk.last() == Some(&b'=') {
                return Err(ModelError::invalid(
                    format!(
                        "the buffer is not valid base64: padding '=' before its end, near offset {}",
                        (n + 1) * CHUNK
                    ),
                    format!("{path}.buffer"),
                ));
            }
            let words = base64_simd::STANDARD
                .decode(chunk, base64_simd::Out::from_slice(&mut scratch))
                .map_err(|_| {
                    let detail = explain_base64(chunk, n * CHUNK);
                    ModelError::invalid(
                        format!("the buffer is not valid base64: {detail}"),
                        format!("{path}.buffer"),
                    )
                })?;
            match self.dtype {
                Dtype::Float32 => {
                    if stats.non_finite.is_none() {
                        stats.non_finite = first_non_finite(words).map(|at| index + at);
                    }
                }
                Dtype::Int32 => stats.add_integers(
                    words
                        .chunks_exact(4)
                        .map(|w| i32::from_le_bytes([w[0], w[1], w[2], w[3]]) as i64),
                ),
                Dtype::Uint32 => stats.add_integers(
                    words
                        .chunks_exact(4)
                        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as i64),
                ),
            }
            index += words.len() / 4;
        }
        Ok(stats)
    }
}

/// Index of the first float32 (little-endian) that is NaN or infinite: all exponent bits set.
/// The common case (all finite) is a branch-free pass the compiler vectorises.
fn first_non_finite(words: &[u8]) -> Option<usize> {
    const EXPONENT: u32 = 0x7F80_0000;
    let bits = |w: &[u8]| u32::from_le_bytes([w[0], w[1], w[2], w[3]]) & EXPONENT;
    let any = words
        .chunks_exact(4)
        .fold(false, |found, w| found | (bits(w) == EXPONENT));
    if any {
        words.chunks_exact(4).position(|w| bits(w) == EXPONENT)
    } else {
        None
    }
}

/// Where a chunk of base64 text goes wrong (the fast decoder only says that it does).
fn explain_base64(chunk: &[u8], offset: usize) -> String {
    match BASE64.decode(chunk) {
        Err(base64::DecodeError::InvalidByte(at, byte)) => {
            format!("invalid byte {:?} at offset {}", byte as char, offset + at)
        }
        Err(other) => other.to_string(),
        Ok(_) => format!("bad padding near offset {offset}"),
    }
}

/// Base64 text decoded at a time (a multiple of 4).
const CHUNK: usize = 64 * 1024;

impl Dtype {
    fn name(self) -> &'static str {
        match self {
            Dtype::Float32 => "float32",
            Dtype::Int32 => "int32",
            Dtype::Uint32 => "uint32",
        }
    }
}
