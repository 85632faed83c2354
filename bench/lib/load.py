"""The load clients: wrk (HTTP/1.1), h2load (h2c, gRPC) and bench/bolt_load.js (bolt). Run
one, parse its report; send one request and check its answer (the readiness probe)."""
import atexit
import functools
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

from . import backend, procs

_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}
BOLT_LOAD = os.path.join(backend.HERE, "bolt_load.js")  # backend.HERE: bench/


class LoadError(RuntimeError):
    pass


def wrk_argv(url, duration, connections, threads=1, extra=()):
    return ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s",
            "--latency", *extra, url]


def bolt_argv(target, duration, connections, extra=()):
    return [backend.node_binary(), BOLT_LOAD, target, "--connections", str(connections),
            "--duration", str(duration), *extra]


# h2load keeps this many streams in flight on each connection: 32 connections as wrk's,
# 320 requests in flight. Multiplexing is what HTTP/2 is for; with one stream per
# connection it would be HTTP/1.1 in other frames.
H2_STREAMS = 10


@functools.cache
def _scratch():
    """A private dir for h2load's files (its request body, its per-request log), removed
    when the harness exits."""
    d = tempfile.mkdtemp(prefix="mosn-bench-h2load-")
    atexit.register(shutil.rmtree, d, True)
    return d


def _latency_log():
    return os.path.join(_scratch(), "requests.log")


def h2load_argv(target, duration, connections, extra=()):
    """h2load over h2c (prior knowledge for http:// URLs), one thread. h2load reports no
    percentiles: it writes each request's latency to --log-file, which parse_h2load reads
    (not stdout: its report and the log are buffered apart and would interleave)."""
    return ["h2load", "-t1", f"-c{connections}", f"-m{H2_STREAMS}", f"-D{duration}",
            "--log-file", _latency_log(), *extra, target]


def grpc_argv(target, duration, connections, extra=()):
    """h2load posting the gRPC request of the target's path (backend.GRPC_MESSAGES) on every
    stream."""
    path = "/" + target.split("://", 1)[1].split("/", 1)[1]
    request = os.path.join(_scratch(), "grpc-request.bin")
    with open(request, "wb") as f:
        f.write(backend.grpc_frame(backend.GRPC_MESSAGES[path]))
    return h2load_argv(target, duration, connections,
                       ("-d", request, "-H", "content-type: application/grpc",
                        "-H", "te: trailers", *extra))


def run(client, argv, parse, duration, cpu, on_tick=None):
    """Run the load client `argv` pinned to `cpu`; call on_tick() about every 0.5 s while it
    runs. Returns parse(its output) plus the raw text and `wall_s`, how long the client ran
    (parsing, which for h2load takes a while, is not part of it)."""
    argv = procs.pinned(cpu, argv)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, text=True,
                         preexec_fn=procs._die_with_parent)
    try:
        for _ in range(int((duration + 30) / 0.5)):  # bounded: duration + 30 s
            try:
                out, _ = p.communicate(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if on_tick:
                    on_tick()
        else:
            raise LoadError(f"{client} did not finish within {duration + 30}s")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise LoadError(f"{client} exited {p.returncode}: {out.strip()}")
    result = parse(out)
    result["raw"] = out
    result["wall_s"] = wall
    return result


def _us(value, unit):
    return float(value) * _UNITS_US[unit]


def parse_wrk(text, case=None):
    """requests, rps, latency percentiles (µs) and error counts from wrk output."""
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", text, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if not m or not rps:
        raise LoadError(f"cannot parse wrk output:\n{text}")
    out = {"requests": int(m.group(1)), "seconds": _us(m.group(2), m.group(3)) / 1e6,
           "rps": float(rps.group(1))}
    for pct, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M):
        out[f"p{pct}_us"] = _us(value, unit)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = sum(int(x) for x in errors.groups()) if errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    out["errors"] = out["socket_errors"] + out["non_2xx"]
    return out


def parse_bolt(text, case=None):
    """The figures bolt_load.js prints, one `name value` line each (see its header)."""
    lines = dict(line.split(" ", 1) for line in text.splitlines() if " " in line)
    try:
        out = {k: int(lines[k]) for k in ("requests", "errors")}
        out.update({k: float(lines[k]) for k in ("seconds", "rps", "p50_us", "p90_us", "p99_us")})
    except (KeyError, ValueError):
        raise LoadError(f"cannot parse bolt_load.js output:\n{text}") from None
    if "first_error" in lines:
        out["first_error"] = lines["first_error"]
    return out


def parse_h2load(text, case):
    """requests, rps, latency percentiles (µs) and errors from h2load's report and its
    per-request log. h2load counts any 2xx as a success, and a gRPC error a proxy answers
    itself comes as 200 with no body: so every answer must also carry the backend's body,
    and `errors` counts the bodies missing from the data received."""
    m = re.search(r"^finished in ([\d.]+)(us|ms|s|m|h), ([\d.]+) req/s", text, re.M)
    req = re.search(r"^requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, "
                    r"(\d+) failed, (\d+) errored, (\d+) timeout", text, re.M)
    data = re.search(r"^traffic: .*, [\d.]+\w*B \((\d+)\) data", text, re.M)
    if not m or not req or not data:
        raise LoadError(f"cannot parse h2load output:\n{text}")
    done, succeeded, failed, errored, timeout = (int(x) for x in req.groups())
    body = len(backend.BODIES[case.path])
    out = {"requests": done, "seconds": _us(m.group(1), m.group(2)) / 1e6,
           "rps": float(m.group(3)), "succeeded": succeeded, "failed": failed,
           "errored": errored, "timeout": timeout, "data_bytes": int(data.group(1)),
           "bodies_missing": max(0, succeeded - int(data.group(1)) // body)}
    out["errors"] = failed + out["bodies_missing"]  # failed includes errored and timeout
    out.update(_percentiles(_latency_log()))
    return out


def _percentiles(log):
    """p50/p90/p99 (µs, nearest rank) of h2load's log: one `start<TAB>status<TAB>µs` line
    per finished request."""
    with open(log, "rb") as f:
        fields = f.read().split()
    os.unlink(log)
    latencies = sorted(map(int, fields[2::3]))
    if not latencies:
        return {}
    return {f"p{p}_us": float(latencies[min(len(latencies) - 1, len(latencies) * p // 100)])
            for p in (50, 90, 99)}


# The TLS cases serve a self-signed certificate made for the run: not verified here.
_OPENER = urllib.request.build_opener(
    urllib.request.ProxyHandler({}),
    urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))


def probe_http(url, case):
    """One GET of url: None if it returned the backend's body for case.path, else the problem."""
    try:
        with _OPENER.open(url, timeout=2) as r:
            body = r.read()
    except OSError as e:
        return e
    return None if body == backend.BODIES[case.path] else f"unexpected body ({len(body)} bytes)"


def probe_h2c(url, case):
    """One GET of url over h2c with prior knowledge (nghttp prints the body): None if it
    returned the backend's body for case.path, else the problem."""
    try:
        r = subprocess.run(["nghttp", url], capture_output=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired) as e:
        return e
    if r.stdout == backend.BODIES[case.path]:
        return None
    said = (r.stderr or r.stdout).decode(errors="replace").strip()[-300:]
    return f"unexpected body ({len(r.stdout)} bytes); nghttp said: {said}"


# One unary call with grpcio, raw bytes in and out (no generated code). In a child process:
# grpcio's threads must not stay in the harness, which shares the load CPU.
_GRPC_CALL = """import grpc, sys
with grpc.insecure_channel(sys.argv[1]) as channel:
    try:
        print(channel.unary_unary(sys.argv[2])(bytes.fromhex(sys.argv[3]), timeout=2).hex())
    except grpc.RpcError as e:
        print(e.code().name, e.details())
"""


def probe_grpc(url, case):
    """One gRPC unary call through url (grpcio): None if it succeeded (grpc-status 0 in the
    trailers) with the backend's answer, else the problem."""
    target = url.split("://", 1)[1].split("/", 1)[0]
    try:
        message = backend.GRPC_MESSAGES[case.path]
        r = subprocess.run([sys.executable, "-c", _GRPC_CALL, target, case.path,
                            message.hex()],
                           capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as e:
        return e
    said = r.stdout.strip()
    if r.returncode == 0 and said == message.hex():
        return None
    return f"grpc call: {said or r.stderr.strip()[-300:]}"


def probe_bolt(target, case):
    """One echo call to target (bolt_load.js checks the answer): None if right, else the problem."""
    argv = bolt_argv(target, 2, 1, (*case.load_args, "--count", "1"))
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=15)
        res = parse_bolt(r.stdout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return e
    except LoadError:
        return f"bolt_load.js exited {r.returncode}: {(r.stdout + r.stderr).strip()}"
    if res["requests"] == 1 and not res["errors"]:
        return None
    return res.get("first_error", "no answer within 2 s")
