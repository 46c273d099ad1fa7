//! Reading a request body up to a size limit, shared by every push endpoint.

use axum::body::Body;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::Error;

/// The whole body, or [`Error::BodyTooLarge`] past `limit` bytes (at once
/// when its `Content-Length` says so), or
/// [`Error::ReadBody`] when the connection failed mid-body.
pub(crate) async fn read_limited(body: Body, limit: usize) -> Result<Bytes, Error> {
    // A `Content-Length` past the limit is refused before waiting for the body.
    if http_body::Body::size_hint(&body).lower() > limit as u64 {
        return Err(Error::BodyTooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(Error::BodyTooLarge { limit }),
        Err(error) => {
            let source = match error.downcast::<axum::Error>() {
                Ok(error) => *error,
                Err(error) => axum::Error::new(error),
            };
            Err(Error::ReadBody { source })
        }
    }
}
