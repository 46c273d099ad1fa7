//! Reading a request body up to a size limit, shared by every push endpoint.

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http_body::Body as _;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::Error;

/// The whole body, or [`Error::BodyTooLarge`] past `limit` bytes (at once
/// when its `Content-Length` says so), or
/// [`Error::ReadBody`] when the connection failed mid-body.
///
/// The frames are copied into one buffer as they arrive, sized from
/// `Content-Length` (at most `limit`), so a body costs its length once
/// rather than twice (the frames, then their concatenation).
pub(crate) async fn read_limited(body: Body, limit: usize) -> Result<Bytes, Error> {
    // A `Content-Length` past the limit is refused before waiting for the body.
    if http_body::Body::size_hint(&body).lower() > limit as u64 {
        return Err(Error::BodyTooLarge { limit });
    }
    let mut body = Limited::new(body, limit);
    let expected = usize::try_from(body.size_hint().lower()).unwrap_or(usize::MAX).min(limit);
    let mut buf = BytesMut::with_capacity(expected);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| {
            if error.is::<LengthLimitError>() {
                return Error::BodyTooLarge { limit };
            }
            let source = match error.downcast::<axum::Error>() {
                Ok(error) => *error,
                Err(error) => axum::Error::new(error),
            };
            Error::ReadBody { source }
        })?;
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}
