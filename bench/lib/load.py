"""The load clients: wrk (HTTP) and bench/bolt_load.js (bolt). Run one, parse its report;
send one request and check its answer (the readiness probe)."""
import os
import re
import ssl
import subprocess
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


def run(client, argv, parse, duration, cpu, on_tick=None):
    """Run the load client `argv` pinned to `cpu`; call on_tick() about every 0.5 s while it
    runs. Returns parse(its output) plus the raw text."""
    argv = procs.pinned(cpu, argv)
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
    if p.returncode != 0:
        raise LoadError(f"{client} exited {p.returncode}: {out.strip()}")
    result = parse(out)
    result["raw"] = out
    return result


def _us(value, unit):
    return float(value) * _UNITS_US[unit]


def parse_wrk(text):
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


def parse_bolt(text):
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
