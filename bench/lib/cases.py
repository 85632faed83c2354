"""Benchmark cases. A case = the protocol it speaks (which decides the backend, the
load client and the readiness check: see protocols.py) + what it requests + one config
template per proxy (cases/<name>/<peer>.<ext>) + the load command's arguments.

Templates use string.Template placeholders:
  ${PORT} listen port, ${BACKEND_PORT} backend port, ${ADMIN_PORT} admin port,
  ${DIR} a private working dir for the proxy (logs, pid files),
  ${CERT}, ${KEY} the PEM files of the TLS cases' certificate (certs.py).
To add a case: add a Case below and a directory of templates beside tcp_proxy/.
Cases that differ only in path and load arguments share one template directory
(`templates`): the four HTTP/1.1 cases all use cases/http1/.
"""
import os
from dataclasses import dataclass

from . import backend

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    protocol: str = "http"     # a key of protocols.PROTOCOLS: http, https (nginx, wrk),
                               # h2c-h1, h2-h1 (TLS), h2c, grpc (nginx, h2load) or bolt
    path: str = "/"            # HTTP request path; the backend serves BODIES[path]
    load_args: tuple = ()      # extra load client arguments (wrk: -s script.lua, -H header;
                               # h2load: -H header; bolt_load.js: --size BYTES)
    connections: int = 32      # default connections of the load client (wrk -c, h2load -c)
    templates: str = ""        # template dir under cases/ (default: the case's name)

    @property
    def dir(self):
        return os.path.join(HERE, "cases", self.templates or self.name)

    def template(self, peer):
        """Path of the peer's config template, or None if the case has none."""
        path = os.path.join(self.dir, peer.config)
        return path if os.path.exists(path) else None


CASES = {c.name: c for c in [
    Case("tcp_proxy", "L4 TCP forwarding; HTTP/1.1 keep-alive GET of a 127-byte body"),
    Case("http1", "HTTP/1.1 proxy; keep-alive GET of a 127-byte body"),
    Case("http1_4k", "HTTP/1.1 proxy; keep-alive GET of a 4 KiB body",
         path="/4k", templates="http1"),
    Case("http1_64k", "HTTP/1.1 proxy; keep-alive GET of a 64 KiB body",
         path="/64k", templates="http1"),
    # wrk reconnects after every response that is not keep-alive, so each request
    # opens a new client connection (the proxies still pool upstream connections).
    Case("http1_newconn", "HTTP/1.1 proxy; a new client connection per request "
         "(Connection: close), 127-byte body",
         load_args=("-H", "Connection: close"), templates="http1"),
    # The proxy answers every request itself (mosn `direct_response`, nginx `return`,
    # haproxy `http-request return`, Envoy `direct_response`): its client side alone, with
    # no upstream.
    Case("http1_local", "HTTP/1.1, answered by the proxy itself; keep-alive GET of the "
         "127-byte body"),
    # TLS terminated at the proxy (TLS 1.3, ECDSA P-256, x25519), plaintext to the backend.
    Case("https", "HTTPS terminated at the proxy; keep-alive GET of a 127-byte body",
         protocol="https"),
    # wrk never resumes a TLS session: every request is a full handshake.
    Case("https_handshake", "HTTPS terminated at the proxy; a new connection and a full "
         "TLS handshake per request (Connection: close), 127-byte body",
         protocol="https", load_args=("-H", "Connection: close"), templates="https"),
    # h2load, prior-knowledge h2c: 32 connections as wrk, 10 streams in flight on each
    # (load.H2_STREAMS). The proxy speaks HTTP/1.1 or h2c to nginx.
    Case("h2c_to_h1", "h2c to the proxy, HTTP/1.1 to the backend; GET of a 127-byte body",
         protocol="h2c-h1"),
    # Bodies of 256 bytes or more are DATA frames h2 does not copy into its write buffer.
    Case("h2c_to_h1_4k", "h2c to the proxy, HTTP/1.1 to the backend; GET of a 4 KiB body",
         protocol="h2c-h1", path="/4k", templates="h2c_to_h1"),
    # h2c answered by the proxy itself, as http1_local: the HTTP/2 client side alone.
    Case("h2c_local", "h2c, answered by the proxy itself; GET of the 127-byte body",
         protocol="h2c-h1"),
    # The same over TLS (TLS 1.3, ECDSA P-256, ALPN h2), as browsers and most clients speak
    # HTTP/2.
    Case("h2_to_h1", "HTTP/2 over TLS to the proxy, HTTP/1.1 to the backend; GET of a "
         "127-byte body", protocol="h2-h1"),
    Case("h2_to_h1_4k", "HTTP/2 over TLS to the proxy, HTTP/1.1 to the backend; GET of a "
         "4 KiB body", protocol="h2-h1", path="/4k", templates="h2_to_h1"),
    Case("h2c_to_h2", "h2c to the proxy and to the backend; GET of a 127-byte body",
         protocol="h2c"),
    # The same proxy configs as h2c_to_h2: a gRPC call is an HTTP/2 POST with trailers.
    Case("grpc_unary", "gRPC unary over h2c both sides; a 102-byte message each way",
         protocol="grpc", path=backend.GRPC_PATH, templates="h2c_to_h2"),
    Case("grpc_unary_4k", "gRPC unary over h2c both sides; a 4 KiB message each way",
         protocol="grpc", path=backend.GRPC_PATH_4K, templates="h2c_to_h2"),
    # bolt_load.js: one echo call in flight per connection, like wrk; mosn proxies it at L7,
    # haproxy and envoy forward it at L4 (the floor).
    Case("bolt", "SOFA bolt v1 RPC (hessian2); echo of a 100-byte string",
         protocol="bolt"),
]}
