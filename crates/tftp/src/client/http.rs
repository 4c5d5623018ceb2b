//! `GET /NAME` on the HTTP configuration port, as a phone asks first.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{CONTENT_LENGTH, HOST};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use opencapf_model::printable;
use tokio::net::TcpStream;

use super::FetchError;
use crate::source::MAX_FILE;

/// Fetches `name` from `server` (`HOST:PORT`), the whole exchange within `timeout`.
pub async fn http_get(server: &str, name: &str, timeout: Duration) -> Result<Vec<u8>, FetchError> {
    tokio::time::timeout(timeout, get(server, name)).await.map_err(|_| FetchError::Timeout)?
}

async fn get(server: &str, name: &str) -> Result<Vec<u8>, FetchError> {
    let stream = TcpStream::connect(server).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(other)?;
    let driver = tokio::spawn(connection);
    let request = Request::get(format!("/{}", name.trim_start_matches('/')))
        .header(HOST, server)
        .body(Empty::<Bytes>::new())
        .map_err(|e| FetchError::Refused(format!("bad request: {}", printable(&e.to_string()))))?;
    let result = async {
        let response = sender.send_request(request).await.map_err(other)?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Err(FetchError::NotFound),
            StatusCode::SERVICE_UNAVAILABLE => return Err(FetchError::Unavailable),
            status => return Err(FetchError::Refused(format!("HTTP {}", status.as_u16()))),
        }
        let announced = response.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if announced.is_some_and(|n| n > MAX_FILE as u64) {
            return Err(FetchError::TooLarge);
        }
        let body = Limited::new(response.into_body(), MAX_FILE).collect().await.map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                FetchError::TooLarge
            } else {
                FetchError::Io(std::io::Error::other(e))
            }
        })?;
        Ok(body.to_bytes().to_vec())
    }
    .await;
    driver.abort();
    result
}

fn other(e: hyper::Error) -> FetchError {
    FetchError::Io(std::io::Error::other(e))
}
