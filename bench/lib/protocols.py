"""What a case's protocol decides: the backend, the load client and the readiness check.
This is the one place that tells HTTP from bolt; a case names its protocol (cases.py).
"""
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
    parse: Callable[[str], dict]     # the load client's output -> requests, seconds, rps,
                                     # p50_us, p99_us, ..., errors
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
                        self.parse, duration, cpu, on_tick)

    def check(self, port, case, tries=50):
        """Send one request through port until it gets the right answer (bounded)."""
        target = self.target(port, case)
        for _ in range(tries):
            last = self.probe(target, case)
            if last is None:
                return
            time.sleep(0.1)
        raise load.LoadError(f"{target} did not return the expected answer: {last}")


PROTOCOLS = {
    "http": Protocol("wrk", lambda c: f"wrk -t1 -c{c}",
                     backend.start_nginx, backend.nginx_version,
                     lambda port, case: f"http://127.0.0.1:{port}{case.path}",
                     load.wrk_argv, load.parse_wrk, load.probe_http),
    # TLS from the load client to the proxy, plaintext from the proxy to nginx.
    "https": Protocol("wrk", lambda c: f"wrk -t1 -c{c} (https)",
                      backend.start_nginx, backend.nginx_version,
                      lambda port, case: f"https://127.0.0.1:{port}{case.path}",
                      load.wrk_argv, load.parse_wrk, load.probe_http, proxy_only=True),
    "bolt": Protocol("bolt_load.js", lambda c: f"bolt_load.js --connections {c}",
                     backend.start_bolt, backend.bolt_version,
                     lambda port, case: f"127.0.0.1:{port}",
                     load.bolt_argv, load.parse_bolt, load.probe_bolt),
}
