"""Start, pin, wait for and stop the processes of a benchmark run.

Everything started goes through Procs, which stops it by PID on exit.
"""
import ctypes
import os
import resource
import signal
import socket
import subprocess
import time


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def pinned(cpu, argv):
    """argv run on one CPU; taskset execs, so the PID is the program's own."""
    return ["taskset", "-c", str(cpu)] + [str(a) for a in argv]


def raise_nofile(want=8192):
    """Raise our soft RLIMIT_NOFILE to `want` (capped by the hard limit), so that the
    proxies we start, which inherit it, can hold thousands of connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def cpus_allowed(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split()[1]
    return "?"


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def _die_with_parent():
    """In the child: get SIGKILL if the harness dies without cleaning up (e.g. kill -9)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class StartError(RuntimeError):
    pass


class Procs:
    """The long-running processes (backend, proxies) of one run."""

    def __init__(self):
        self.procs = []  # (name, Popen, log path)

    def start(self, name, argv, log_path, port, timeout=15.0):
        """Start argv, wait until it accepts on 127.0.0.1:port, return its PID."""
        log = open(log_path, "wb")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True,
                                 preexec_fn=_die_with_parent)
        finally:
            log.close()
        self.procs.append((name, p, log_path))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise StartError(f"{name} exited with code {p.returncode}; "
                                 f"command: {' '.join(argv)}\n{tail(log_path)}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return p.pid
            except OSError:
                time.sleep(0.1)
        raise StartError(f"{name} did not listen on 127.0.0.1:{port} within {timeout}s; "
                         f"command: {' '.join(argv)}\n{tail(log_path)}")

    def alive(self, pid):
        return any(p.pid == pid and p.poll() is None for _, p, _ in self.procs)

    def stop_all(self, grace=5.0):
        """SIGTERM each process group we started (group id = its PID), then SIGKILL."""
        for _, p, _ in reversed(self.procs):
            if p.poll() is None:
                _signal_group(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for _, p, _ in self.procs:
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(p.pid, signal.SIGKILL)
                p.wait(timeout=grace)
        self.procs.clear()


def _signal_group(pid, sig):
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def exit_on_signals():
    """Turn SIGTERM/SIGHUP into SystemExit so `finally` blocks stop everything."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
