"""A scripted stand-in for a Kinora node's /internal/v1, for client unit tests (port 0)."""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeNode:
    """Answers from per-route queues of (status, body); records every request.

    Routes are keyed by (method, kind) where kind is register/lease/heartbeat/inputs/artifacts/
    complete/fail. An empty queue falls back to the route's default answer.
    """

    def __init__(self, token: str):
        self.token = token
        self.requests: list[dict] = []
        self.script: dict[str, deque] = defaultdict(deque)
        self.inputs: dict[str, bytes] = {}
        self.artifacts: dict[str, bytes] = {}
        self.lock = threading.Lock()
        node = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _answer(self, status, body=None):
                data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
                self.send_response(status)
                if status != 204:
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if status != 204:
                    self.wfile.write(data)

            def _handle(self, method):
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = url.path.split("/")  # ['', 'internal', 'v1', ...]
                kind = parts[3] if parts[3] in ("lease", "workers") else parts[5]
                if kind == "workers":
                    kind = "register"
                rec = {"method": method, "kind": kind, "path": url.path, "query": parse_qs(url.query),
                       "auth": self.headers.get("Authorization")}
                if method == "POST":
                    rec["json"] = json.loads(raw or b"{}")
                with node.lock:
                    node.requests.append(rec)
                    queued = node.script[kind].popleft() if node.script[kind] else None
                if self.headers.get("Authorization") != f"Bearer {node.token}":
                    return self._answer(401, {"error": {"message": "bad token", "type": "invalid_request_error",
                                                        "param": None, "code": "unauthorized"}})
                if queued is not None:
                    return self._answer(*queued)
                if kind == "inputs":
                    name = "/".join(parts[6:])
                    if name not in node.inputs:
                        return self._answer(404, {"error": {"message": "no such input", "code": None}})
                    return self._answer(200, node.inputs[name])
                if kind == "artifacts":
                    name = parts[6]
                    node.artifacts[name] = raw
                    return self._answer(200, {"name": name, "bytes": len(raw)})
                return self._answer(*node.default(kind))

            def do_POST(self):
                self._handle("POST")

            def do_GET(self):
                self._handle("GET")

            def do_PUT(self):
                self._handle("PUT")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def default(self, kind):
        return {
            "register": (200, {"worker_id": "wkr_1", "models": ["wan-tiny"], "lease_seconds": 30,
                               "heartbeat_interval_ms": 10000, "max_wait_seconds": 30}),
            "lease": (204, None),
            "heartbeat": (200, {"cancel": False}),
            "complete": (200, {"outcome": "completed"}),
            "fail": (200, {"outcome": "failed"}),
        }[kind]

    def push(self, kind, status, body=None):
        self.script[kind].append((status, body))

    def of(self, kind):
        return [r for r in self.requests if r["kind"] == kind]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


LEASE_ERROR = {"error": {"message": "the lease is no longer current", "type": "invalid_request_error",
                         "param": None, "code": "lease_lost"}}


def job(**over):
    j = {"video_id": "video_1", "lease_id": "lease_1", "attempt": 1, "lease_seconds": 30, "model": "wan-tiny",
         "mode": "create", "prompt": "a red robot dances", "width": 48, "height": 32, "seconds": 1, "seed": 42,
         "audio_codec": "opus", "inputs": [], "characters": []}
    j.update(over)
    return j
