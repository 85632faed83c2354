"""The origin server: nginx with one process on a private prefix dir."""
import os
import shutil
import string

from . import procs

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Bodies served by the backend: GET / (small), /4k, /64k.
SMALL_BODY = b"mosn-bench: hello\n" * 7 + b"\n"  # 127 bytes
BODIES = {"/": SMALL_BODY, "/small": SMALL_BODY,
          "/4k": bytes(range(256)) * 16, "/64k": bytes(range(256)) * 256}


def nginx_binary():
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def start(procs_, workdir, port, cpu):
    """Start the backend pinned to `cpu`; return (pid, argv)."""
    d = os.path.join(workdir, "backend")
    for sub in ("www", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    for path, body in BODIES.items():
        if path != "/":
            with open(os.path.join(d, "www", path.lstrip("/")), "wb") as f:
                f.write(body)
    with open(os.path.join(HERE, "backend", "nginx.conf")) as f:
        conf = string.Template(f.read()).substitute(DIR=d, PORT=port)
    conf_path = os.path.join(d, "nginx.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    argv = [nginx_binary(), "-p", d + "/", "-e", os.path.join(d, "error.log"), "-c", conf_path]
    pid = procs_.start("backend nginx", procs.pinned(cpu, argv),
                       os.path.join(d, "stdout.log"), port)
    return pid, argv
