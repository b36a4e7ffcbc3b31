//! The collector against hostile requests, sent as raw bytes so nothing in
//! between tidies them: oversized, deeply nested and compressed bodies,
//! odd headers, paths and request lines, and credentials in odd places.
//! Each gets a 4xx (or a closed connection), the server stays up, and
//! nothing is stored.

use crate::common::TestContext;
use crate::serve::{Server, event};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends `request` as is; the status of the answer, or 0 if the server
/// closed the connection without one.
fn raw(server: &Server, request: &[u8]) -> (u16, String) {
    let address = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // The server may answer and close before reading all of a refused body.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn post(path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

fn get(path: &str, headers: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n").into_bytes()
}

fn assert_alive_and_empty(server: &Server) {
    assert_eq!(server.get("/healthz").0, 200, "the server went down");
    assert_eq!(
        server.report("")["totals"]["events"],
        0,
        "something was stored"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn oversized_nested_and_compressed_bodies_are_refused_cheaply() {
    let ctx = TestContext::new();
    ctx.write_config("[server]\nbody_limit_bytes = 65536\n");
    let server = Server::start(&ctx);
    let json = "Content-Type: application/json\r\n";

    // Announced too large: refused from the header, before the body is read.
    let head =
        format!("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n{json}\r\n");
    assert_eq!(raw(&server, head.as_bytes()).0, 413);
    // Streamed too large without a length.
    let mut chunked = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n{json}\r\n"
    )
    .into_bytes();
    for _ in 0..20 {
        chunked.extend_from_slice(format!("{:x}\r\n{}\r\n", 8192, " ".repeat(8192)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(raw(&server, &chunked).0, 413);
    // A gzip bomb: 20 KiB on the wire, 50 MiB inflated.
    let bomb = gzip(&vec![b' '; 50 << 20]);
    assert!(bomb.len() < 65536);
    let headers = format!("{json}Content-Encoding: gzip\r\n");
    assert_eq!(raw(&server, &post("/v1/events", &headers, &bomb)).0, 413);

    // Nesting far past what any parser recurses into.
    let deep = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    // A batch is an array of entries: the nested one is one rejected entry.
    let (status, text) = raw(&server, &post("/v1/events", json, deep.as_bytes()));
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("\"accepted\":0") && text.contains("recursion"),
        "{text}"
    );
    for path in ["/v1/metrics", "/v1/logs"] {
        let (status, text) = raw(&server, &post(path, json, deep.as_bytes()));
        assert_eq!(status, 400, "{path}: {text}");
        assert!(
            text.contains("recursion") || text.contains("invalid"),
            "{text}"
        );
    }
    let ndjson = "Content-Type: application/x-ndjson\r\n";
    let (status, text) = raw(&server, &post("/v1/events", ndjson, deep.as_bytes()));
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"accepted\":0"), "{text}");
    // Protobuf nesting: an AnyValue holding an array holding an array...
    // (field 1 of the request, resource_metrics, wrapping the rest).
    let mut nested: Vec<u8> = Vec::new();
    for _ in 0..2_000 {
        let mut outer = vec![0x2a]; // AnyValue.array_value (field 5, bytes)
        push_varint(&mut outer, nested.len() as u64 + 2);
        outer.push(0x0a); // ArrayValue.values (field 1)
        push_varint(&mut outer, nested.len() as u64);
        outer.extend_from_slice(&nested);
        nested = outer;
    }
    let protobuf = "Content-Type: application/x-protobuf\r\n";
    let (status, _) = raw(&server, &post("/v1/logs", protobuf, &nested));
    assert_eq!(status, 400);
    assert_alive_and_empty(&server);
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[test]
fn odd_request_lines_headers_and_paths_get_an_answer_not_a_crash() {
    let ctx = TestContext::new();
    let server = Server::start(&ctx);
    let body = json!([event("k1", "s1", "a", 10, 1)]).to_string();
    // Past hyper's 400 KiB header buffer: what a client may make the server hold.
    let long = "x".repeat(1 << 20);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage request line", b"HELLO\r\n\r\n".to_vec()),
        (
            "binary request line",
            b"\x00\xff\xfe GET / \r\n\r\n".to_vec(),
        ),
        (
            "HTTP/2 preface over HTTP/1",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        ),
        ("dot segments", get("/v1/../../etc/passwd", "")),
        (
            "encoded dot segments",
            get("/v1/%2e%2e/%2e%2e/etc/passwd", ""),
        ),
        ("NUL in the path", get("/v1/report%00.json", "")),
        ("huge query", get(&format!("/v1/report?agent={long}"), "")),
        (
            "huge header",
            get("/v1/report", &format!("X-Pad: {long}\r\n")),
        ),
        (
            "a thousand headers",
            get("/v1/report", &"X-A: b\r\n".repeat(1_000)),
        ),
        (
            "unknown method",
            b"BREW /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        (
            "length and chunked at once",
            post(
                "/v1/events",
                "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n",
                body.as_bytes(),
            ),
        ),
        (
            "length shorter than the body",
            format!(
                "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\
                 Content-Type: application/json\r\n\r\n{body}"
            )
            .into_bytes(),
        ),
        (
            "content type with odd parameters",
            post(
                "/v1/events",
                "Content-Type: application/json;;;charset=\"é\"\r\n",
                b"[{",
            ),
        ),
        (
            "non-ASCII header value",
            post(
                "/v1/events",
                "Content-Type: application/éjson\r\n",
                body.as_bytes(),
            ),
        ),
        (
            "unknown content encoding",
            post(
                "/v1/events",
                "Content-Type: application/json\r\nContent-Encoding: br\r\n",
                body.as_bytes(),
            ),
        ),
    ];
    // Undecodable query bytes become U+FFFD and match nothing.
    let (status, text) = raw(&server, &get("/v1/report?agent=%ff%fe", ""));
    let events = |text: &str| {
        let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        serde_json::from_str::<serde_json::Value>(body).unwrap()["totals"]["events"].clone()
    };
    assert!(status == 400 || events(&text) == 0, "{status} {text}");
    for (what, request) in cases {
        let (status, text) = raw(&server, &request);
        assert!(
            status == 0 || (400..500).contains(&status),
            "{what}: {status} {}",
            text.lines().next().unwrap_or("")
        );
        assert_eq!(server.get("/healthz").0, 200, "down after: {what}");
    }
    assert_alive_and_empty(&server);
}

#[test]
fn credentials_in_odd_places_grant_nothing() {
    let ctx = TestContext::new();
    let hash = |token: &str| {
        let out = std::process::Command::new(crate::common::bin())
            .args(["serve", "hash-token", token])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    ctx.write_config(&format!(
        "[server]\n[[server.token]]\nname = \"team-a\"\nsha256 = \"{}\"\nprefix = \"team-a/\"\n\
         [[server.token]]\nname = \"admin\"\nsha256 = \"{}\"\n",
        hash("a-secret"),
        hash("admin-secret"),
    ));
    let server = Server::start(&ctx);
    let body = json!([event("k1", "s1", "team-b/eve", 10, 1)]).to_string();
    let json = "Content-Type: application/json\r\n";
    let denied = [
        ("no scheme", "Authorization: admin-secret\r\n"),
        ("basic scheme", "Authorization: Basic YWRtaW4tc2VjcmV0\r\n"),
        ("empty bearer", "Authorization: Bearer \r\n"),
        (
            "token with a suffix",
            "Authorization: Bearer admin-secretX\r\n",
        ),
        ("token prefix only", "Authorization: Bearer admin\r\n"),
        (
            "token in another header",
            "X-Authorization: Bearer admin-secret\r\n",
        ),
        (
            "NUL after the token",
            "Authorization: Bearer admin-secret\x00\r\n",
        ),
        (
            "a scoped and the admin token together",
            "Authorization: Bearer a-secret\r\nAuthorization: Bearer admin-secret\r\n",
        ),
    ];
    for (what, header) in denied {
        let (status, text) = raw(
            &server,
            &post("/v1/events", &format!("{json}{header}"), body.as_bytes()),
        );
        let stored_outside_scope = status == 200 && text.contains("\"accepted\":1");
        assert!(!stored_outside_scope, "{what}: {text}");
        assert!(
            status == 0 || (400..500).contains(&status) || status == 200,
            "{what}: {status}"
        );
    }
    // The token in the query string is not a credential either.
    let (status, _) = raw(&server, &get("/v1/report?access_token=admin-secret", ""));
    assert_eq!(status, 401);
    assert_eq!(
        server
            .request(
                "GET",
                "/v1/report",
                &[("Authorization", "Bearer admin-secret")],
                None
            )
            .0,
        200
    );
    let (_, text) = server.request(
        "GET",
        "/v1/report",
        &[("Authorization", "Bearer admin-secret")],
        None,
    );
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["totals"]["events"], 0, "{report}");
}
