//! `log`, `sync` and `report` with `--remote`: a collector outage loses
//! nothing (events wait in the home's spool) and counts nothing twice.

use crate::common::TestContext;
use crate::serve::Server;

fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

fn spooled(ctx: &TestContext) -> usize {
    std::fs::read_dir(ctx.home.join("spool"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".ndjson"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn an_outage_loses_nothing_and_doubles_nothing() {
    let agent = TestContext::new();
    let collector = TestContext::new();
    let address = free_address();
    let url = format!("http://{address}");
    let log = |session: &str, input: &str| {
        agent
            .run(&[
                "log",
                "--remote",
                &url,
                "--session",
                session,
                "--agent",
                "ci",
                "--model",
                "claude-sonnet-4-5",
                "--input",
                input,
                "--output",
                "10",
            ])
            .success()
    };
    // Collector down: both entries wait in the spool, nothing is lost.
    log("s1", "100").stdout(predicates::str::contains("spooled"));
    log("s2", "200");
    assert_eq!(spooled(&agent), 2);
    assert!(
        !agent.register_path().exists(),
        "a remote log never writes the local register"
    );

    let server = Server::start_on(&collector, &address, &[]);
    // The next call delivers the spool first, then its own entry.
    log("s3", "300").stdout(predicates::str::contains("Logged session s3"));
    assert_eq!(spooled(&agent), 0);
    // Delivering again (a retry) is harmless: the same session counts once.
    log("s3", "300").stdout(predicates::str::contains("already logged"));

    let out = agent
        .cmd()
        .args([
            "report", "--remote", &url, "--format", "json", "--by", "agent",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["totals"]["input_tokens"], 600);
    assert_eq!(report["totals"]["sessions"], 3);
    assert_eq!(report["rows"][0]["agent"], "ci");
    remote_formats(&agent, &server, &url);
    drop(server);
    agent
        .run(&["report", "--remote", &url, "--format", "json"])
        .code(1)
        .stderr(predicates::str::contains("unreachable"));
    agent
        .run(&["report", "daily", "--remote", &url])
        .code(2)
        .stderr(predicates::str::contains("cannot be used with"));
}

/// Every format comes back rendered by the collector (with the CLI's
/// renderers) and printed as it came.
fn remote_formats(agent: &TestContext, server: &Server, url: &str) {
    let stdout = |ctx: &TestContext, args: &[&str]| {
        let out = ctx.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    for format in ["csv", "markdown"] {
        let remote = stdout(
            agent,
            &[
                "report", "--remote", url, "--format", format, "--by", "agent",
            ],
        );
        let (status, served) = server.get(&format!("/v1/report?by=agent&format={format}"));
        assert_eq!(status, 200, "{served}");
        assert_eq!(String::from_utf8_lossy(&remote), served, "{format}");
    }
    let csv = server.get("/v1/report?by=agent&format=csv").1;
    assert!(csv.contains("\nci,600,30,"), "{csv}");
    let (status, reason) = server.get("/v1/report?format=pdf");
    assert!(
        status == 400 && reason.contains("use json, text"),
        "{reason}"
    );
    let text = stdout(agent, &["report", "--remote", url, "--by", "agent"]);
    let text = String::from_utf8_lossy(&text);
    assert!(text.contains("ci") && !text.contains('\x1b'), "{text}");
    let html = stdout(agent, &["report", "--remote", url, "--format", "html"]);
    assert!(
        String::from_utf8_lossy(&html).contains("<svg"),
        "the charts are drawn"
    );
    let png = agent.dir.path().join("chart.png");
    let png_arg = png.to_str().unwrap();
    stdout(
        agent,
        &[
            "report", "--remote", url, "--format", "png", "--output", png_arg,
        ],
    );
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
}
