//! The HTTP layer every push target shares: bounded retries of what is worth retrying (5xx,
//! broken connections, rate limits as GitHub and Vercel document them), and none of what is
//! not (a permission 403, a 404, a 422). A request that is not idempotent (a redeploy, a
//! Deploy Hook, an issue) is never retried blindly after an answer that may mean it took
//! effect: the caller finds out first.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};

use crate::check::backoff_delay;

/// The most of an API answer that is read: a 100-issue page or a large deployment object fits,
/// an endless body does not.
pub(crate) const API_BODY_CAP: usize = 8 * 1024 * 1024;

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all (the first included).
    pub attempts: u32,
    /// First backoff for 5xx and transport errors; doubled each time.
    pub backoff: Duration,
    /// The longest a single rate-limit wait may be; a longer one fails with the reset time.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            backoff: Duration::from_millis(500),
            max_rate_limit_wait: Duration::from_secs(90),
        }
    }
}

/// Whether sending a request twice does the same as sending it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotent {
    /// PUT, GET, an upsert: retried after transport errors and 5xx.
    Yes,
    /// A redeploy, a Deploy Hook call, a new issue: after a transport error or a 5xx the
    /// first attempt may have taken effect, so it is returned to the caller to find out.
    No,
}

/// Why a call did not produce an answer to interpret.
#[derive(Debug)]
pub(crate) enum CallError {
    /// No answer (connection, timeout) after the allowed attempts. For a request that is
    /// not idempotent, it may have been received.
    Transport(String),
    /// Still rate limited after the allowed attempts, or the wait would be too long.
    RateLimited(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(s) | Self::RateLimited(s) => f.write_str(s),
        }
    }
}

/// Sends the request built by `build` (rebuilt for each attempt) and returns the first answer
/// that is not worth retrying. 5xx answers are retried (idempotent requests only) and, when
/// attempts run out, returned.
pub(crate) async fn send(
    policy: RetryPolicy,
    idempotent: Idempotent,
    build: impl Fn() -> RequestBuilder,
) -> Result<Response, CallError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let last = attempt >= policy.attempts || idempotent == Idempotent::No;
        match build().send().await {
            Err(e) => {
                if last {
                    return Err(CallError::Transport(format!(
                        "no answer after {attempt} attempt(s): {}",
                        e.without_url()
                    )));
                }
                tokio::time::sleep(backoff_delay(policy.backoff, attempt)).await;
            }
            Ok(response) => {
                // A rate-limited request was not carried out: waiting and sending it again is
                // safe whatever the request.
                if let Some(wait) = rate_limit_wait(&response) {
                    if wait > policy.max_rate_limit_wait {
                        return Err(CallError::RateLimited(format!(
                            "rate limited for {} more seconds (over the {} s this tool waits); try again later",
                            wait.as_secs(),
                            policy.max_rate_limit_wait.as_secs()
                        )));
                    }
                    if attempt >= policy.attempts {
                        return Err(CallError::RateLimited(format!(
                            "still rate limited after {attempt} attempt(s); try again later"
                        )));
                    }
                    tracing::info!(
                        wait_secs = wait.as_secs_f32(),
                        "rate limited; waiting as told"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                if response.status().is_server_error() && !last {
                    tokio::time::sleep(backoff_delay(policy.backoff, attempt)).await;
                    continue;
                }
                return Ok(response);
            }
        }
    }
}

/// How long to wait before retrying, if this answer is a rate limit:
/// * 429, or 403 with rate-limit headers or "rate limit" in the message;
/// * `retry-after` seconds when given, else until `x-ratelimit-reset` when nothing remains,
///   else one minute (GitHub's rule for secondary limits).
///
/// A 403 without any of that is a permission problem and is never retried.
fn rate_limit_wait(response: &Response) -> Option<Duration> {
    let status = response.status();
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::FORBIDDEN {
        return None;
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
    let exhausted = header("x-ratelimit-remaining") == Some("0");
    let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok());
    if let Some(secs) = retry_after {
        return Some(Duration::from_secs(secs));
    }
    if exhausted {
        let now = chrono::Utc::now().timestamp();
        let secs = reset.map_or(60, |r| (r - now).max(1));
        return Some(Duration::from_secs(u64::try_from(secs).unwrap_or(60)));
    }
    (status == StatusCode::TOO_MANY_REQUESTS).then_some(Duration::from_secs(60))
}

/// Reads a body chunk by chunk, up to `cap` bytes: never more is held in memory. `Err` says
/// it was larger, or broke off.
pub(crate) async fn body_bytes(mut response: Response, cap: usize) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > cap {
                    return Err(format!("the answer is larger than {} KiB", cap / 1024));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(e) => return Err(format!("the answer broke off: {}", e.without_url())),
        }
    }
}

/// Reads a JSON body (capped at [`API_BODY_CAP`]), or says what came instead.
pub(crate) async fn body_json(response: Response) -> Result<serde_json::Value, String> {
    let status = response.status().as_u16();
    let bytes = body_bytes(response, API_BODY_CAP)
        .await
        .map_err(|e| format!("HTTP {status}: {e}"))?;
    // The body is not shown: an answer that is not the API's could echo anything.
    serde_json::from_slice(&bytes).map_err(|_| {
        format!(
            "HTTP {status} with a body that is not JSON ({} bytes)",
            bytes.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// A server on 127.0.0.1 that answers one request with `chunks` chunks of `body`
    /// (chunked encoding); `None`: chunks until the client goes away.
    async fn serve(body: &'static [u8], chunks: Option<usize>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut sent = 0;
            while chunks.is_none_or(|n| sent < n) {
                let frame = [format!("{:x}\r\n", body.len()).as_bytes(), body, b"\r\n"].concat();
                if socket.write_all(&frame).await.is_err() {
                    return; // the client stopped reading
                }
                sent += 1;
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        });
        format!("http://{addr}/")
    }

    /// Finding: unbounded reads. An endless answer was buffered whole before its size check;
    /// now reading stops at the cap.
    #[tokio::test]
    async fn finding_unbounded_reads_an_endless_answer_is_cut_off_at_the_cap() {
        let url = serve(&[b'x'; 16 * 1024], None).await;
        let response = reqwest::get(&url).await.expect("answers");
        let read = body_bytes(response, 256 * 1024).await;
        assert_eq!(read, Err("the answer is larger than 256 KiB".to_owned()));
    }

    /// Finding: lost JSON. A 64 KiB cap cut legitimate large answers (a Vercel deployment
    /// object, a page of 100 issues), which then read as "not JSON"; an API answer of a few
    /// MiB is read whole.
    #[tokio::test]
    async fn finding_lost_json_a_large_api_answer_is_read_whole() {
        // ["aaaa…", "aaaa…", …]: 3 MiB of JSON in 48 chunks.
        static ITEM: &[u8] = &[b'a'; 64 * 1024];
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            let items: Vec<String> = (0..48)
                .map(|_| format!("\"{}\"", String::from_utf8_lossy(ITEM)))
                .collect();
            let body = format!("[{}]", items.join(","));
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
        });
        let response = reqwest::get(format!("http://{addr}/"))
            .await
            .expect("answers");
        let json = body_json(response).await.expect("read whole");
        assert_eq!(json.as_array().map(Vec::len), Some(48));
        const { assert!(API_BODY_CAP >= 8 * 1024 * 1024) };
        // Finite, small answers are read as they are.
        let url = serve(b"{}", Some(1)).await;
        let small = body_json(reqwest::get(&url).await.expect("answers")).await;
        assert_eq!(small, Ok(serde_json::json!({})));
    }
}
