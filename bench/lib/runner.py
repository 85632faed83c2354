"""One benchmark run: start backend and proxies, warm up, interleave measured rounds."""
import fcntl
import os
import shutil
import string
import subprocess
import sys
import tempfile
import time

from . import certs, load, measure, procs
from .cases import CASES
from .peers import DEFAULT, PEERS, version
from .protocols import PROTOCOLS


class BenchError(RuntimeError):
    pass


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def wait_until_quiet(max_wait):
    """Block while cargo/rustc runs (bounded by max_wait seconds)."""
    deadline = time.monotonic() + max_wait
    while busy := measure.busy_builders():
        if time.monotonic() > deadline:
            raise BenchError(f"cargo/rustc still running after {max_wait}s: {busy}")
        log(f"waiting for build processes to finish: {' '.join(busy)}")
        time.sleep(10)


LOCK = os.path.join(tempfile.gettempdir(), "mosn-bench.lock")


def take_machine(max_wait):
    """Lock out other benchmarks (bench/run, bench/idle_rss) for this run: two at once
    would share the CPUs. Waits (bounded) while another one holds the lock. Keep the
    returned file open for the whole run; the lock goes with the process."""
    f = open(LOCK, "a+")
    deadline = time.monotonic() + max_wait
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                f.close()
                raise BenchError(f"another benchmark still holds {LOCK} after {max_wait}s")
            f.seek(0)
            log(f"waiting for another benchmark to finish (pid {f.read().strip() or '?'})")
            time.sleep(10)
    f.truncate(0)
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f


def built(binary):
    """Path and mtime of a binary (mosn may be rebuilt between runs)."""
    mtime = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(os.stat(binary).st_mtime))
    return {"path": binary, "mtime": mtime}


def select_peers(names, explicit, binaries, case):
    """[(peer, binary, template)] for the requested proxies; skip or fail on missing ones."""
    chosen = []
    for name in names:
        if name not in PEERS:
            raise BenchError(f"unknown proxy {name!r}; known: {', '.join(PEERS)}")
        peer = PEERS[name]
        binary = binaries.get(name) or peer.find()
        template = case.template(peer)
        problem = None
        if not binary or not os.access(binary, os.X_OK):
            problem = f"no {name} binary ({binary or 'not found'})"
            problem += {"mosn": "; build it (cargo build --release), the harness never does",
                        "mosn-base": "; name the build to compare with: --bin mosn-base=PATH",
                        }.get(name, "; run bench/install")
        elif template is None:
            problem = f"case {case.name} has no {peer.config} template for {name}"
        if problem:
            if explicit:
                raise BenchError(problem)
            log(f"skipping {name}: {problem}")
            continue
        chosen.append((peer, os.path.abspath(binary), template))
    return chosen


def failed(name, err, workdir):
    """A BenchError about proxy `name`, with the tail of its output."""
    out = procs.tail(os.path.join(workdir, name, "output.log"))
    return BenchError(f"{name}: {err}" + (f"\n{name} output:\n{out}" if out else ""))


def start_proxy(pr, peer, binary, template, workdir, backend_port, cpu, tls):
    """Render the config, start the proxy pinned to cpu; return (pid, port, argv). `tls` is
    the (certificate, key) paths the TLS cases serve."""
    d = os.path.join(workdir, peer.name)
    os.makedirs(d)
    port, admin_port = procs.free_ports(2)
    with open(template) as f:
        text = string.Template(f.read()).substitute(
            PORT=port, BACKEND_PORT=backend_port, ADMIN_PORT=admin_port, DIR=d,
            CERT=tls[0], KEY=tls[1])
    cfg = os.path.join(d, os.path.basename(template))
    with open(cfg, "w") as f:
        f.write(text)
    if peer.check:  # surface config warnings (e.g. a filter this build skips)
        r = subprocess.run(peer.check(binary, cfg), capture_output=True, text=True, timeout=30)
        said = (r.stdout + r.stderr).strip()
        if r.returncode or "0 errors, 0 warnings" not in said:
            log(f"{peer.name} config check (exit {r.returncode}):\n{said}")
    argv = procs.pinned(cpu, peer.argv(binary, cfg, d))
    pid = pr.start(peer.name, argv, os.path.join(d, "output.log"), port)
    allowed = procs.cpus_allowed(pid)
    if allowed != str(cpu):
        raise BenchError(f"{peer.name} pid {pid} runs on CPUs {allowed}, expected {cpu}")
    return pid, port, argv, text


def measure_once(name, pid, port, args, case, alive):
    """One measured load window; retried (bounded) if a build started meanwhile."""
    for attempt in range(3):
        wait_until_quiet(args.max_wait)
        rss = []
        sample = (lambda: rss.append(measure.memory_kb(pid)[0])) if pid else None
        cpu0 = measure.cpu_seconds(pid) if pid else None
        res = PROTOCOLS[case.protocol].run(port, case, args.duration, args.connections,
                                           args.load_cpu, on_tick=sample)
        wall = res["wall_s"]  # while the load client ran
        if not res["requests"]:
            raise BenchError(f"no request completed through {name}:\n{res['raw']}")
        if pid:
            if not alive(pid):
                raise BenchError(f"{name} died during the load")
            user, system = (now - before for now, before in zip(measure.cpu_seconds(pid), cpu0))
            res["cpu_s"] = user + system
            res["cpu_us_per_req"] = res["cpu_s"] * 1e6 / res["requests"]
            res["user_us_per_req"] = user * 1e6 / res["requests"]
            res["sys_us_per_req"] = system * 1e6 / res["requests"]
            res["cpu_pct"] = 100.0 * res["cpu_s"] / wall
            now_rss, res["hwm_kb"] = measure.memory_kb(pid)
            res["rss_kb"] = rss[-1] if rss else now_rss
        if not measure.busy_builders():
            return res
        log(f"a build ran during the {name} run; measuring it again")
    raise BenchError("builds kept running during measurements")


def run(args):
    case = CASES[args.case]
    protocol = PROTOCOLS[case.protocol]
    procs.exit_on_signals()
    procs.raise_nofile()
    os.sched_setaffinity(0, {args.load_cpu})  # the harness itself stays off the proxy CPU
    explicit = args.proxies is not None
    names = args.proxies.split(",") if explicit else DEFAULT
    chosen = select_peers(names, explicit, args.binaries, case)
    if not chosen and args.no_direct:
        raise BenchError("nothing to measure")
    lock = take_machine(args.max_wait)  # noqa: F841 (held until the run ends)
    wait_until_quiet(args.max_wait)

    workdir = tempfile.mkdtemp(prefix="mosn-bench-")
    pr = procs.Procs()
    targets, commands, versions, configs, binaries = [], {}, {}, {}, {}
    runs = []
    try:
        backend_port = procs.free_ports(1)[0]
        _, argv = protocol.start_backend(pr, workdir, backend_port, args.load_cpu)
        commands["backend"] = " ".join(procs.pinned(args.load_cpu, argv))
        versions["backend"] = protocol.backend_version(argv)
        if not args.no_direct and not protocol.proxy_only:
            targets.append(("direct", None, backend_port))
        tls = certs.make(workdir)
        for peer, binary, template in chosen:
            pid, port, argv, config = start_proxy(pr, peer, binary, template, workdir,
                                                  backend_port, args.proxy_cpu, tls)
            configs[peer.name] = config
            log(f"started {peer.name} pid {pid} on 127.0.0.1:{port}: {' '.join(argv)}")
            commands[peer.name] = " ".join(argv)
            versions[peer.name] = version(peer, binary)
            binaries[peer.name] = built(binary)
            targets.append((peer.name, pid, port))
        for name, _, port in targets:
            try:
                protocol.check(port, case)
            except load.LoadError as e:
                raise failed(name, e, workdir) from None
        commands["load"] = " ".join(procs.pinned(args.load_cpu, protocol.load_command(
            "PORT", case, args.duration, args.connections)))
        for name, pid, port in targets:
            log(f"warm-up {name} {args.warmup}s")
            protocol.run(port, case, args.warmup, args.connections, args.load_cpu)
        for rnd in range(1, args.rounds + 1):
            k = (rnd - 1) % len(targets)
            for name, pid, port in targets[k:] + targets[:k]:
                res = measure_once(name, pid, port, args, case, pr.alive)
                res.update(proxy=name, round=rnd)
                runs.append(res)
                log(f"round {rnd}/{args.rounds} {name}: {res['rps']:.0f} req/s"
                    + (f", {res['cpu_us_per_req']:.2f} CPU µs/req" if pid else "")
                    + (f", ERRORS {res['errors']}" if res["errors"] else ""))
    except (procs.StartError, load.LoadError) as e:
        raise BenchError(str(e)) from None
    finally:
        pr.stop_all()
        if args.keep_tmp:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    meta = {"case": case.name, "description": case.description, "rounds": args.rounds,
            "duration": args.duration, "warmup": args.warmup,
            "connections": args.connections, "proxy_cpu": args.proxy_cpu,
            "client": protocol.client, "load": protocol.title(args.connections),
            "load_cpu": args.load_cpu, "subject": args.subject,
            "commands": commands, "versions": versions, "binaries": binaries,
            "configs": configs,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "nproc": os.cpu_count(),
            "loadavg_end": open("/proc/loadavg").read().split()[:3]}
    return meta, runs, [t[0] for t in targets]
