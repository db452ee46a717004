//! HTTP body handling: content type, gzip with a hard output limit.

use std::io::Read as _;

use crate::error::Error;
use crate::request::ExportRequest;
use crate::wal::Signal;

/// The two OTLP/HTTP encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    pub fn from_content_type(ct: Option<&str>) -> Result<Self, Error> {
        let raw = ct.unwrap_or("");
        let mime = raw
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/x-protobuf"
            | "application/protobuf"
            | "application/vnd.google.protobuf" => Ok(Encoding::Protobuf),
            "application/json" => Ok(Encoding::Json),
            _ => Err(Error::UnsupportedMediaType(raw.to_string())),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// Inflates gzip, reading at most `limit + 1` bytes so a bomb is stopped after
/// `limit` bytes of output, not after it has filled memory.
pub fn gunzip_limited(input: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(input.len().saturating_mul(4).min(limit));
    let decoder = flate2::read::MultiGzDecoder::new(input);
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(Error::BadGzip)?;
    if out.len() > limit {
        return Err(Error::TooLarge { limit });
    }
    Ok(out)
}

/// Undoes `Content-Encoding`.
pub fn decode_content(encoding: Option<&str>, body: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    match encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("identity") => {
            if body.len() > limit {
                return Err(Error::TooLarge { limit });
            }
            Ok(body.to_vec())
        }
        Some("gzip") | Some("x-gzip") => gunzip_limited(body, limit),
        Some(other) => Err(Error::UnsupportedEncoding(other.to_string())),
    }
}

/// What an untrusted request body will take in memory once decoded (its
/// bytes included), estimated from the bytes alone (see `wire_budget`);
/// refused when over `max_decoded_bytes` or nested too deep.
pub fn price_request(
    signal: Signal,
    encoding: Encoding,
    bytes: &[u8],
    max_decoded_bytes: usize,
) -> Result<usize, Error> {
    let budget = match encoding {
        Encoding::Protobuf => crate::wire_budget::check_protobuf(signal, bytes, max_decoded_bytes),
        Encoding::Json => crate::wire_budget::check_json(bytes, max_decoded_bytes),
    };
    budget.map_err(|over| match over {
        crate::wire_budget::OverBudget::Size { limit } => Error::TooManyElements { limit },
        crate::wire_budget::OverBudget::Depth => Error::TooDeep {
            limit: crate::wire_budget::MAX_DEPTH,
        },
    })
}

/// Decodes a request body [`price_request`] accepted.
pub fn decode_request(
    signal: Signal,
    encoding: Encoding,
    bytes: &[u8],
) -> Result<ExportRequest, Error> {
    match encoding {
        Encoding::Protobuf => Ok(ExportRequest::decode_proto(signal, bytes)?),
        Encoding::Json => Ok(ExportRequest::decode_json(signal, bytes)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_within_limit_inflates() {
        assert_eq!(
            decode_content(Some("gzip"), &gzip(b"hello"), 100).unwrap(),
            b"hello"
        );
    }

    #[test]
    fn gzip_bomb_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 50 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024);
        assert!(matches!(
            decode_content(Some("gzip"), &bomb, 1024 * 1024),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn bad_gzip_and_unknown_encoding() {
        assert!(matches!(
            decode_content(Some("gzip"), b"not gzip", 100),
            Err(Error::BadGzip(_))
        ));
        assert!(matches!(
            decode_content(Some("br"), b"x", 100),
            Err(Error::UnsupportedEncoding(_))
        ));
    }

    #[test]
    fn content_types() {
        assert_eq!(
            Encoding::from_content_type(Some("application/json; charset=utf-8")).unwrap(),
            Encoding::Json
        );
        assert_eq!(
            Encoding::from_content_type(Some("application/x-protobuf")).unwrap(),
            Encoding::Protobuf
        );
        assert!(Encoding::from_content_type(Some("text/plain")).is_err());
        assert!(Encoding::from_content_type(None).is_err());
    }
}
