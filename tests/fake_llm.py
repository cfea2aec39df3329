"""A real HTTP fake of an OpenAI-compatible chat endpoint on 127.0.0.1, for generation tests.

``POST /v1/chat/completions`` answers with the reply scripted for the request's ``model``: JSON
when ``stream`` is false, else server-sent events (``data: {chunk}`` lines whose
``choices[0].delta.content`` carry the text, then ``data: [DONE]``). A script can also sleep
before answering (longer than the client's timeout) or fail with an HTTP status::

    with FakeLLM() as llm:
        llm.script("faithful", Reply("据报道，…[1]", pieces=6, gap=0.3))
        llm.script("slow", Reply("…", delay=5.0))
        llm.script("broken", Reply(status=500))
        config = LLMConfig(base_url=llm.base_url, model="faithful", timeout=1.0)
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """What the server does for one model: wait ``delay`` s, then answer ``status`` with ``text``
    (streamed in ``pieces`` chunks, ``gap`` s apart)."""

    text: str = ""
    status: int = 200
    delay: float = 0.0
    pieces: int = 4
    gap: float = 0.0


def split(text: str, pieces: int) -> list[str]:
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class FakeLLM:
    """The server (one thread per request); ``requests`` holds every request body received."""

    def __init__(self) -> None:
        self.scripts: dict[str, Reply] = {}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                    return
                reply = fake.scripts.get(body.get("model", ""))
                if reply is None:
                    self._json(404, {"error": {"message": "model not found", "type": "invalid_request_error"}})
                    return
                if reply.delay and fake._closing.wait(reply.delay):
                    return
                if reply.status != 200:
                    self._json(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
                elif body.get("stream"):
                    self._stream(body["model"], reply)
                else:
                    self._json(200, completion(body["model"], reply.text))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model: str, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    for n, piece in enumerate(split(reply.text, reply.pieces)):
                        if n and reply.gap and fake._closing.wait(reply.gap):
                            return
                        self._event(chunk(model, piece))
                    self._event(chunk(model, None, finish="stop"))
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up: fine
                    pass

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n")
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-llm", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, model: str, reply: Reply) -> None:
        self.scripts[model] = reply

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()  # wakes sleeping handlers so shutdown does not wait out their delay
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def completion(model: str, text: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def chunk(model: str, text: str | None, finish: str | None = None) -> dict[str, Any]:
    delta = {"content": text} if text is not None else {}
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
