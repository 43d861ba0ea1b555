"""The HTTP front of the emulator: routing, request parsing, JSON answers.

It is a stdlib ``ThreadingHTTPServer`` with daemon threads: the app calls back
into the Web API while the emulator is still waiting for the app's answer to an
interaction, and benchmarks fire dozens of concurrent calls, so every request
gets its own thread and the listen backlog is raised well above the default 5.
A Socket Mode connection (``GET /link/`` with a WebSocket upgrade) keeps its
request thread for as long as it is open (see ``socketmode.py``).
"""

from __future__ import annotations

import email.parser
import email.policy
import inspect
import json
import logging
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .interactions import ControlError, Controller
from .scopes import DOWNLOAD_SCOPE
from .socketmode import SocketModeHub
from .viewer import Viewer
from .webapi import WebApi

log = logging.getLogger("slackapp.emulator")

ControlOp = Callable[..., dict[str, Any]]


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    viewer: Viewer | None = None  # the workspace viewer at ``/``, set by SlackEmulator

    def __init__(
        self,
        address: tuple[str, int],
        webapi: WebApi,
        controller: Controller,
        control_ops: dict[str, ControlOp],
        socket_mode: SocketModeHub | None = None,
    ) -> None:
        self.webapi = webapi
        self.controller = controller
        self.control_ops = control_ops
        self.socket_mode = socket_mode
        super().__init__(address, EmulatorRequestHandler)


def call_control(op: ControlOp, body: dict[str, Any]) -> dict[str, Any]:
    """Call a control operation with a JSON body's fields as keyword arguments."""
    try:
        bound = inspect.signature(op).bind(**body)
    except TypeError as err:
        raise ControlError(400, "invalid_arguments", str(err)) from None
    return op(*bound.args, **bound.kwargs)


def _parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    parser = email.parser.BytesParser(policy=email.policy.HTTP)
    message = parser.parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    values: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True) or b""
            values[name] = payload if part.get_filename() else payload.decode("utf-8", "replace")
    return values


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    server: EmulatorHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "SlackEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    # -- plumbing ----------------------------------------------------------------------

    def _raw_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, bytes | str):
            data = body.encode() if isinstance(body, str) else body
            content_type = "text/plain; charset=utf-8"
        else:
            data = json.dumps(body).encode()
            content_type = "application/json; charset=utf-8"
        headers = {"Content-Type": content_type, **(headers or {})}
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json_body(self, raw: bytes) -> dict[str, Any]:
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise ControlError(400, "invalid_json", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise ControlError(400, "invalid_json", "the body must be a JSON object")
        return body

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, verb: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        raw = self._raw_body() if verb == "POST" else b""
        try:
            if parts[:1] == ["api"] and len(parts) == 2:
                self._web_api(parts[1], url.query, raw)
            elif parts[:1] == ["files-pri"] and len(parts) >= 3 and verb == "GET":
                self._download("/".join(parts[1:]))
            elif parts[:2] == ["upload", "v1"] and len(parts) == 3 and verb == "POST":
                self._upload(parts[2], raw)
            elif parts[:1] == ["actions"] and len(parts) == 4 and verb == "POST":
                status, body = self.server.controller.respond(parts[3], self._json_body(raw))
                self._send(status, body)
            elif parts == ["link"] and verb == "GET" and self.server.socket_mode is not None:
                self._socket_mode(url.query)
            elif parts[:1] == ["_emulator"] and len(parts) == 2:
                self._control(verb, parts[1], raw)
            elif self.server.viewer is not None and self.server.viewer.serves(verb, parts):
                reply = self.server.viewer.handle(verb, parts, url.query, raw)
                self._send(
                    reply.status, reply.body, {"Content-Type": reply.content_type, **reply.headers}
                )
            else:
                self._send(404, {"ok": False, "error": "not_found"})
        except ControlError as err:
            self._send(err.status, err.body())
        except Exception as err:  # a bug must not kill the server thread silently
            log.exception("emulator error on %s %s", verb, self.path)
            self._send(500, {"ok": False, "error": "emulator_error", "detail": repr(err)})

    # -- endpoints ---------------------------------------------------------------------

    def _web_api(self, method: str, query: str, raw: bytes) -> None:
        values: dict[str, Any] = {
            k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()
        }
        content_type = self.headers.get("Content-Type", "")
        is_json = content_type.startswith("application/json")
        if is_json:
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._send(200, {"ok": False, "error": "invalid_json"})
                return
            if not isinstance(body, dict):
                self._send(200, {"ok": False, "error": "invalid_json"})
                return
            values.update(body)
        elif content_type.startswith("multipart/form-data"):
            values.update(_parse_multipart(content_type, raw))
        elif raw:
            parsed = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
            values.update({k: v[-1] for k, v in parsed.items()})
        auth = self.headers.get("Authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        answer = self.server.webapi.call(method, values, bearer, is_json)
        self._send(answer.status, answer.body, answer.headers)

    def _socket_mode(self, query: str) -> None:
        """Hand the connection to Socket Mode; it is a WebSocket from here on."""
        assert self.server.socket_mode is not None
        head = "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
        raw_request = self.raw_requestline + head.encode("latin-1") + b"\r\n"
        self.close_connection = True
        self.server.socket_mode.accept(self.connection, raw_request, query)

    def _upload(self, key: str, raw: bytes) -> None:
        if self.server.webapi.receive_upload(key, raw):
            self._send(200, f"OK - {len(raw)}")
        else:
            self._send(404, "Not Found")

    def _download(self, path: str) -> None:
        """``url_private`` and ``url_private_download``: bytes for the bot token only."""
        auth = self.headers.get("Authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        webapi = self.server.webapi
        if bearer == webapi.ws.bot["token"] and not webapi.grants(DOWNLOAD_SCOPE):
            status, data, content_type = 403, b"missing_scope", "text/plain"
        else:
            status, data, content_type = webapi.ws.download(path, bearer)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _control(self, verb: str, name: str, raw: bytes) -> None:
        op = self.server.control_ops.get(name)
        if op is None:
            raise ControlError(404, "unknown_control", f"no control endpoint {name!r}")
        if name == "state":
            if verb != "GET":
                raise ControlError(405, "method_not_allowed", "use GET /_emulator/state")
            self._send(200, op())
            return
        if verb != "POST":
            raise ControlError(405, "method_not_allowed", f"use POST /_emulator/{name}")
        self._send(200, call_control(op, self._json_body(raw)))
