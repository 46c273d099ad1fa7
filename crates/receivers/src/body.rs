//! Reading a request body up to a size limit, shared by every push endpoint.

use axum::body::Body;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::Error;

/// The whole body, or [`Error::BodyTooLarge`] past `limit` bytes, or
/// [`Error::ReadBody`] when the connection failed mid-body.
pub(crate) async fn read_limited(body: Body, limit: usize) -> Result<Bytes, Error> {
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
