#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""flaky-proxy: an HTTP reverse proxy on loopback that fails once, for tests
of the ppml client's retries (tests/cli/test_attest_sim.sh, test_keys.sh).

    flaky-proxy.py MODE UPSTREAM PORT_FILE LOG_FILE

Forwards every request to UPSTREAM (http://HOST:PORT) and answers with what
came back, except the first POST to /v1/attest or /v1/keys/NAME/release:
  503      answers it 503 {"error": ...} without forwarding it (a replica
           that went away behind a balancer);
  resend   forwards it twice and answers with the second answer (a request
           re-sent by the transport after the first one was processed: its
           nonce is then already consumed).
Each request is one line in LOG_FILE: "METHOD PATH STATUS".  Writes its port
to PORT_FILE once listening; runs until killed.
"""
import http.server
import os
import re
import sys
import threading
import urllib.error
import urllib.request

MODE, UPSTREAM, PORT_FILE, LOG_FILE = sys.argv[1:5]
FLAKY = re.compile(r"^/v1/(attest|keys/[^/]+/release)$")
lock = threading.Lock()
done = False


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self, body):
        req = urllib.request.Request(UPSTREAM + self.path, data=body, method=self.command)
        for k in ("Content-Type", "Authorization"):
            if self.headers.get(k):
                req.add_header(k, self.headers[k])
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read(), r.headers.get("Content-Type", "application/json")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.get("Content-Type", "application/json")

    def answer(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with lock, open(LOG_FILE, "a") as f:
            f.write(f"{self.command} {self.path} {status}\n")

    def handle_any(self):
        global done
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        first = False
        if self.command == "POST" and FLAKY.match(self.path):
            with lock:
                first, done = not done, True
        if first and MODE == "503":
            self.answer(503, b'{"error":{"code":"unavailable","message":"replica gone"}}',
                        "application/json")
            return
        if first and MODE == "resend":
            self.forward(body)
        self.answer(*self.forward(body))

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(f"{server.server_address[1]}\n")
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
