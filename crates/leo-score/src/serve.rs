//! `GET /metrics` over HTTP (feature `serve`, on by default), with `tiny_http`: a small
//! synchronous server, one request at a time, which suits a scrape every few seconds.
//!
//! The exposition is rendered per request by the caller's closure (typically: read the
//! audit trail, tally, encode), so every scrape sees the trail as it is.

use std::net::SocketAddr;

use tiny_http::{Header, Method, Response, Server};

use crate::error::{Error, Result};
use crate::metrics::CONTENT_TYPE;

/// A bound metrics endpoint.
pub struct MetricsServer {
    server: Server,
    listen: String,
}

impl std::fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MetricsServer({})", self.listen)
    }
}

impl MetricsServer {
    /// Binds `listen` (`HOST:PORT`; port 0 picks a free one).
    pub fn bind(listen: &str) -> Result<Self> {
        let server = Server::http(listen).map_err(|e| Error::Serve {
            listen: listen.to_owned(),
            message: e.to_string(),
        })?;
        Ok(MetricsServer {
            server,
            listen: listen.to_owned(),
        })
    }

    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.server_addr().to_ip()
    }

    /// Answers requests until `max_requests` have been served (forever with `None`):
    /// `GET /metrics` → 200 with `render()`, a render error → 500, other paths → 404,
    /// other methods → 405.
    pub fn run(
        &self,
        mut render: impl FnMut() -> Result<String>,
        max_requests: Option<u64>,
    ) -> Result<()> {
        let mut served = 0u64;
        while max_requests.is_none_or(|max| served < max) {
            let request = self.server.recv().map_err(|e| Error::Serve {
                listen: self.listen.clone(),
                message: e.to_string(),
            })?;
            served += 1;
            let path = request.url().split('?').next().unwrap_or_default();
            let (status, body, content_type) = match (request.method(), path) {
                (Method::Get, "/metrics") => match render() {
                    Ok(text) => (200, text, CONTENT_TYPE),
                    Err(e) => (500, format!("{e}\n"), "text/plain; charset=utf-8"),
                },
                (Method::Get, _) => (
                    404,
                    "not found: metrics are at /metrics\n".to_owned(),
                    "text/plain; charset=utf-8",
                ),
                _ => (
                    405,
                    "only GET is allowed\n".to_owned(),
                    "text/plain; charset=utf-8",
                ),
            };
            let mut response = Response::from_string(body).with_status_code(status);
            if let Ok(h) = Header::from_bytes("Content-Type", content_type) {
                response = response.with_header(h);
            }
            // A client that hung up is its own problem; keep serving the others.
            let _ = request.respond(response);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;

    fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn serves_metrics_404_405_and_500_over_loopback() {
        let server = MetricsServer::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let handle = std::thread::spawn(move || {
            let mut calls = 0;
            server.run(
                || {
                    calls += 1;
                    if calls == 1 {
                        Ok("ehg_security_score 91\n".to_owned())
                    } else {
                        Err(Error::InvalidMonth { input: "x".into() })
                    }
                },
                Some(4),
            )
        });
        let ok = get(addr, "GET /metrics HTTP/1.0\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.0 200"), "{ok}");
        assert!(ok.contains("text/plain; version=0.0.4"), "{ok}");
        assert!(ok.ends_with("ehg_security_score 91\n"), "{ok}");
        let failed = get(addr, "GET /metrics HTTP/1.0\r\n\r\n");
        assert!(failed.starts_with("HTTP/1.0 500"), "{failed}");
        assert!(get(addr, "GET / HTTP/1.0\r\n\r\n").starts_with("HTTP/1.0 404"));
        assert!(
            get(addr, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
                .starts_with("HTTP/1.0 405")
        );
        handle.join().unwrap().unwrap();
    }

    #[test]
    fn a_busy_port_is_a_typed_error() {
        let first = MetricsServer::bind("127.0.0.1:0").unwrap();
        let addr = first.local_addr().unwrap().to_string();
        assert!(matches!(
            MetricsServer::bind(&addr),
            Err(Error::Serve { listen, .. }) if listen == addr
        ));
    }
}
