"""What a case's protocol decides: the backend, the load client and the readiness check.
This is the one place that tells HTTP from h2c, gRPC and bolt; a case names its protocol
(cases.py).
"""
import functools
import time
from dataclasses import dataclass
from typing import Callable

from . import backend, load


@dataclass(frozen=True)
class Protocol:
    client: str                      # the load client, as messages and the report name it
    title: Callable[[int], str]      # connections -> the load client as the report's title says
    start_backend: Callable          # (procs, workdir, port, cpu) -> (pid, argv)
    backend_version: Callable[[list], str]  # the backend's argv -> its version
    target: Callable                 # (port, case) -> what the load client is pointed at
    load_argv: Callable              # (target, duration, connections, extra args) -> argv
    parse: Callable[[str, object], dict]  # (the load client's output, case) -> requests,
                                     # seconds, rps, p50_us, p99_us, ..., errors
    probe: Callable                  # (target, case) -> None if one request got the right
                                     # answer, else what went wrong
    proxy_only: bool = False         # the backend does not speak it (no `direct` row)

    def load_command(self, port, case, duration, connections):
        """The load client's argv (unpinned) for `case` through 127.0.0.1:port."""
        return self.load_argv(self.target(port, case), duration, connections,
                              extra=case.load_args)

    def run(self, port, case, duration, connections, cpu, on_tick=None):
        """One load run; the parsed report plus the raw text (see load.run)."""
        return load.run(self.client, self.load_command(port, case, duration, connections),
                        functools.partial(self.parse, case=case), duration, cpu, on_tick)

    def check(self, port, case, tries=50):
        """Send one request through port until it gets the right answer (bounded)."""
        target = self.target(port, case)
        for _ in range(tries):
            last = self.probe(target, case)
            if last is None:
                return
            time.sleep(0.1)
        raise load.LoadError(f"{target} did not return the expected answer: {last}")


def _url(port, case):
    return f"http://127.0.0.1:{port}{case.path}"


def _https_url(port, case):
    return f"https://127.0.0.1:{port}{case.path}"


def _h2load_title(connections):
    return f"h2load -t1 -c{connections} -m{load.H2_STREAMS}"


_start_nginx_h2c = functools.partial(backend.start_nginx, http2=True)

PROTOCOLS = {
    "http": Protocol("wrk", lambda c: f"wrk -t1 -c{c}",
                     backend.start_nginx, backend.nginx_version, _url,
                     load.wrk_argv, load.parse_wrk, load.probe_http),
    # TLS from the load client to the proxy, plaintext from the proxy to nginx.
    "https": Protocol("wrk", lambda c: f"wrk -t1 -c{c} (https)",
                      backend.start_nginx, backend.nginx_version,
                      _https_url, load.wrk_argv, load.parse_wrk, load.probe_http,
                      proxy_only=True),
    # h2load with prior-knowledge h2c to the proxy. Behind it: nginx over HTTP/1.1, which
    # h2load cannot reach with h2c (no `direct` row); or nginx over h2c.
    "h2c-h1": Protocol("h2load", _h2load_title,
                       backend.start_nginx, backend.nginx_version, _url,
                       load.h2load_argv, load.parse_h2load, load.probe_h2c, proxy_only=True),
    # The same with TLS from h2load to the proxy (ALPN h2); nghttp probes over TLS too.
    "h2-h1": Protocol("h2load", lambda c: f"{_h2load_title(c)} (TLS)",
                      backend.start_nginx, backend.nginx_version,
                      _https_url, load.h2load_argv, load.parse_h2load, load.probe_h2c,
                      proxy_only=True),
    "h2c": Protocol("h2load", _h2load_title,
                    _start_nginx_h2c, backend.nginx_version, _url,
                    load.h2load_argv, load.parse_h2load, load.probe_h2c),
    # gRPC unary calls (h2load posting one request message per stream) over h2c both sides.
    "grpc": Protocol("h2load", lambda c: f"{_h2load_title(c)} (gRPC)",
                     _start_nginx_h2c, backend.nginx_version, _url,
                     load.grpc_argv, load.parse_h2load, load.probe_grpc),
    "bolt": Protocol("bolt_load.js", lambda c: f"bolt_load.js --connections {c}",
                     backend.start_bolt, backend.bolt_version,
                     lambda port, case: f"127.0.0.1:{port}",
                     load.bolt_argv, load.parse_bolt, load.probe_bolt),
}
