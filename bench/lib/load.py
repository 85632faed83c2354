"""Run wrk against a URL and parse its --latency report."""
import re
import subprocess

from . import procs

_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


class LoadError(RuntimeError):
    pass


def wrk_argv(url, duration, connections, threads=1, extra=()):
    return ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s",
            "--latency", *extra, url]


def run_wrk(url, duration, connections, cpu, extra=(), on_tick=None):
    """Run wrk pinned to `cpu`; call on_tick() about every 0.5 s while it runs.

    Returns the parsed report (see parse) plus the raw text.
    """
    argv = procs.pinned(cpu, wrk_argv(url, duration, connections, extra=extra))
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
            raise LoadError(f"wrk did not finish within {duration + 30}s")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if p.returncode != 0:
        raise LoadError(f"wrk exited {p.returncode}: {out.strip()}")
    result = parse(out)
    result["raw"] = out
    return result


def _us(value, unit):
    return float(value) * _UNITS_US[unit]


def parse(text):
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
    return out
