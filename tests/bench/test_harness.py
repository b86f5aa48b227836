"""bench.harness's load generator: the warm-up seconds are sent but not measured."""

import http.server
import threading

from bench.harness import get, run_load


class Counting(http.server.BaseHTTPRequestHandler):
    seen = 0
    lock = threading.Lock()

    def do_GET(self):  # noqa: N802 (http.server's name)
        with Counting.lock:
            Counting.seen += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def test_warm_up_requests_are_sent_and_not_measured():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run_load(
            "counting", server.server_address[1], [get("/")], rate=50, duration_s=0.4,
            warmup=0, warmup_s=0.2,
        )  # fmt: skip
    finally:
        server.shutdown()
    assert result.requests == 20 and len(result.latencies_ms) == 20 and result.errors == 0
    assert Counting.seen == 30  # 10 of warm-up, at the same rate, first
