//! What Vector 0.57's `aws_kinesis_firehose` source makes of a Firehose
//! HTTP-endpoint request, per `src/sources/aws_kinesis_firehose/{filters,
//! handlers,models}.rs` of the v0.57 branch, legacy log namespace,
//! `record_compression: auto`, default `bytes` decoding and framing.
//!
//! Only what reaches the remap transform is imitated (plus the answers that
//! reject a whole request, since those are where Vector and the plugin part
//! ways): no HTTP, acknowledgements or metrics.

use std::io::Read as _;

use base64::Engine as _;

/// `vector_common::decompression::DEFAULT_MAX_DECOMPRESSED_SIZE_BYTES`: the
/// global cap on an inflated request body or record.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: usize = 100 * 1024 * 1024;

/// The secret `store_access_key: true` attaches to every event.
pub const ACCESS_KEY_SECRET: &str = "aws_kinesis_firehose_access_key";

/// The source's settings that change what the transform sees.
#[derive(Clone, Debug)]
pub struct SourceConfig {
    /// `access_keys`: when not empty, a request must carry one of them.
    pub access_keys: Vec<String>,
    /// `store_access_key`: the request's key becomes the event secret
    /// [`ACCESS_KEY_SECRET`].
    pub store_access_key: bool,
    /// The global decompressed-size cap.
    pub max_decompressed_bytes: usize,
    /// The global `log_schema.timestamp_key`: the field the request time
    /// goes in.
    pub timestamp_key: String,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            access_keys: Vec::new(),
            store_access_key: true,
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            timestamp_key: "timestamp".to_owned(),
        }
    }
}

/// One HTTP request as Firehose sends it (protocol version 1.0).
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// `X-Amz-Firehose-Request-Id`: Vector takes the id from this header,
    /// not from the body (Firehose sets both to the same value).
    pub request_id: &'a str,
    /// `X-Amz-Firehose-Source-Arn`.
    pub source_arn: &'a str,
    /// `X-Amz-Firehose-Access-Key`.
    pub access_key: Option<&'a str>,
    /// `Content-Encoding`: Firehose sends `gzip` when GZIP is enabled.
    pub content_encoding: Option<&'a str>,
    pub body: &'a [u8],
}

/// The fields one record's event has when it leaves the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceEvent {
    /// `.message`: the record's data, base64-decoded and inflated when gzip.
    pub message: Vec<u8>,
    /// `.request_id`.
    pub request_id: String,
    /// `.source_arn`.
    pub source_arn: String,
    /// The request's `timestamp` (epoch ms), as a timestamp in the field
    /// named by [`SourceConfig::timestamp_key`].
    pub timestamp_ms: i64,
    pub timestamp_key: String,
    /// The secret [`ACCESS_KEY_SECRET`], when stored.
    pub access_key: Option<String>,
}

/// A request the source refuses: Firehose retries it until its retry
/// duration ends, then writes it to its S3 backup bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub message: String,
    /// The events of the records before the one refused: the source decodes
    /// a request record by record and sends each record's events on (and,
    /// with acknowledgements, waits for them) before it decodes the next, so
    /// these are in the pipeline already and a retry of the request repeats
    /// them (`handlers::firehose`).
    pub forwarded: Vec<SourceEvent>,
}

fn reject(status: u16, message: impl Into<String>) -> Rejection {
    Rejection { status, message: message.into(), forwarded: Vec::new() }
}

/// `models::FirehoseRequest`: unknown fields are ignored, `timestamp` must be
/// an integer of milliseconds (chrono's `ts_milliseconds`).
struct Body {
    timestamp_ms: i64,
    records: Vec<String>,
}

fn parse_body(body: &[u8]) -> Result<Body, String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    let object = value.as_object().ok_or("invalid type: expected struct FirehoseRequest")?;
    object.get("requestId").and_then(serde_json::Value::as_str).ok_or("missing or invalid field `requestId`")?;
    let timestamp_ms = object
        .get("timestamp")
        .and_then(|timestamp| timestamp.as_i64().or_else(|| timestamp.as_u64().and_then(|ms| i64::try_from(ms).ok())))
        .ok_or("missing or invalid field `timestamp`")?;
    let records = object
        .get("records")
        .and_then(serde_json::Value::as_array)
        .ok_or("missing or invalid field `records`")?
        .iter()
        .map(|record| record.get("data").and_then(serde_json::Value::as_str).map(str::to_owned).ok_or("missing or invalid field `data`"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Body { timestamp_ms, records })
}

/// Inflates every gzip member of `data` as one stream (flate2's
/// `MultiGzDecoder`, as Vector's `CappedDecoder::gzip`), failing past `cap`.
pub fn inflate_capped(data: &[u8], cap: usize) -> Result<Vec<u8>, InflateFailure> {
    let mut out = Vec::new();
    let reader = flate2::read::MultiGzDecoder::new(data);
    match reader.take(cap as u64 + 1).read_to_end(&mut out) {
        Ok(_) if out.len() > cap => Err(InflateFailure::TooLarge),
        Ok(_) => Ok(out),
        Err(error) => Err(InflateFailure::Corrupt(error.to_string())),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InflateFailure {
    TooLarge,
    Corrupt(String),
}

/// The events the source sends on for one request, or the request's
/// rejection (which holds the events it had sent on before refusing).
pub fn receive(config: &SourceConfig, request: &Request<'_>) -> Result<Vec<SourceEvent>, Rejection> {
    // filters::authenticate
    if !config.access_keys.is_empty() {
        match request.access_key {
            None => return Err(reject(401, "AccessKey header missing")),
            Some(key) if !config.access_keys.iter().any(|allowed| allowed == key) => {
                return Err(reject(401, "invalid access key"));
            }
            Some(_) => {}
        }
    }
    // filters::parse_body: a gzip body is inflated, other encodings refused;
    // a body that does not parse is answered 401 (sic).
    let inflated;
    let body = match request.content_encoding {
        None => request.body,
        Some("gzip") => {
            inflated = inflate_capped(request.body, config.max_decompressed_bytes)
                .map_err(|error| reject(400, format!("could not decode request body: {error:?}")))?;
            &inflated[..]
        }
        Some(other) => return Err(reject(400, format!("unsupported encoding {other}"))),
    };
    let body = parse_body(body).map_err(|error| reject(401, format!("could not parse the request body: {error}")))?;

    // handlers::firehose and handlers::decode_record, per record in order.
    let mut events = Vec::with_capacity(body.records.len());
    for data in &body.records {
        let decoded = match base64::engine::general_purpose::STANDARD.decode(data.as_bytes()) {
            Ok(decoded) => decoded,
            Err(error) => {
                return Err(Rejection { forwarded: events, ..reject(400, format!("Could not base64 decode request data: {error}")) });
            }
        };
        let message = if decoded.starts_with(&[0x1f, 0x8b]) {
            match inflate_capped(&decoded, config.max_decompressed_bytes) {
                Ok(inflated) => inflated,
                // Over the cap: the magic bytes were right and the record is
                // too big, so the request is refused.
                Err(InflateFailure::TooLarge) => {
                    let rejection =
                        reject(400, "Could not decompress request data as gzip: decompressed size exceeds the configured limit");
                    return Err(Rejection { forwarded: events, ..rejection });
                }
                // Otherwise auto-detection "guessed wrong": the bytes go on
                // as they are.
                Err(InflateFailure::Corrupt(_)) => decoded,
            }
        } else {
            decoded
        };
        // The bytes framing emits one frame per record, an empty one too.
        events.push(SourceEvent {
            message,
            request_id: request.request_id.to_owned(),
            source_arn: request.source_arn.to_owned(),
            timestamp_ms: body.timestamp_ms,
            timestamp_key: config.timestamp_key.clone(),
            access_key: if config.store_access_key { request.access_key.map(str::to_owned) } else { None },
        });
    }
    Ok(events)
}
