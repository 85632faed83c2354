//! The admin HTTP server (HTTP/1.1, on hyper).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::AdminContext;
use crate::routes::{error_body, handle};

/// Request bodies over this are refused: the API takes small JSON documents.
const MAX_BODY: usize = 64 * 1024;

/// Serves the admin API until the task is dropped.
pub async fn serve(listener: TcpListener, context: Arc<AdminContext>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!("admin: accept failed: {err}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let context = Arc::clone(&context);
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(Arc::clone(&context), request));
            if let Err(err) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("admin: connection ended: {err}");
            }
        });
    }
}

async fn answer(
    context: Arc<AdminContext>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = request.into_parts();
    let (status, text) = match Limited::new(body, MAX_BODY).collect().await {
        Ok(body) => handle(
            &context,
            &parts.method,
            parts.uri.path(),
            parts.uri.query(),
            &body.to_bytes(),
        ),
        Err(_) => (StatusCode::BAD_REQUEST, error_body("read body error")),
    };
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}
