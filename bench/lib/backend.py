"""The origin servers: nginx with one process on a private prefix dir (HTTP cases; HTTP/1.1
or h2c, which also answers the gRPC case), and sofa-rpc-node's RpcServer,
mosn/tests/peers/bolt/server.js (bolt cases)."""
import json
import os
import shutil
import string
import struct
import subprocess

from . import procs
from .peers import PEERS, REPO, version

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOLT_PEERS = os.path.join(REPO, "mosn", "tests", "peers", "bolt")  # npm ci by bench/install


def grpc_frame(message):
    """A gRPC length-prefixed message: not compressed, 4-byte big-endian length."""
    return struct.pack(">BI", 0, len(message)) + message


# The gRPC case's call: the load posts GRPC_MESSAGE to GRPC_PATH and the backend answers
# every call with the same message (a fixed echo). Protobuf, field 1 a 100-byte string, as
# the bolt case echoes a 100-byte string; nobody decodes it.
GRPC_PATH = "/bench.Echo/Echo"
GRPC_MESSAGE = b"\x0a\x64" + b"mosn-bench grpc. " * 5 + b"mosn-bench grpc"  # 102 bytes
# The same with a 4 KiB string (field 1, length 4096 as the varint 80 20): 4099 bytes.
GRPC_PATH_4K = "/bench.Echo/Echo4k"
GRPC_MESSAGE_4K = b"\x0a\x80\x20" + bytes(range(256)) * 16
# The message each gRPC case posts, and is answered with, by path.
GRPC_MESSAGES = {GRPC_PATH: GRPC_MESSAGE, GRPC_PATH_4K: GRPC_MESSAGE_4K}

# Bodies served by the backend: GET / (small), /4k, /64k, and the gRPC answers.
SMALL_BODY = b"mosn-bench: hello\n" * 7 + b"\n"  # 127 bytes
BODIES = {"/": SMALL_BODY, "/small": SMALL_BODY,
          "/4k": bytes(range(256)) * 16, "/64k": bytes(range(256)) * 256,
          **{path: grpc_frame(message) for path, message in GRPC_MESSAGES.items()}}


def nginx_binary():
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def start_nginx(procs_, workdir, port, cpu, http2=False):
    """Start the backend pinned to `cpu`, speaking HTTP/1.1 or (http2) h2c with prior
    knowledge; return (pid, argv)."""
    d = os.path.join(workdir, "backend")
    for sub in ("www", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    for path, body in BODIES.items():
        if path != "/":
            file = os.path.join(d, "www", path.lstrip("/"))
            os.makedirs(os.path.dirname(file), exist_ok=True)
            with open(file, "wb") as f:
                f.write(body)
    with open(os.path.join(HERE, "backend", "nginx.conf")) as f:
        conf = string.Template(f.read()).substitute(DIR=d, PORT=port,
                                                    HTTP2=" http2" if http2 else "")
    conf_path = os.path.join(d, "nginx.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    argv = [nginx_binary(), "-p", d + "/", "-e", os.path.join(d, "error.log"), "-c", conf_path]
    pid = procs_.start("backend nginx", procs.pinned(cpu, argv),
                       os.path.join(d, "stdout.log"), port)
    return pid, argv


def nginx_version(argv):
    return version(PEERS["nginx"], argv[0])


def node_binary():
    """node, once the bolt peers are installed (bench/install); else StartError."""
    node = shutil.which("node")
    if not node or not os.path.isdir(os.path.join(BOLT_PEERS, "node_modules")):
        raise procs.StartError(f"bolt cases need node and {BOLT_PEERS}/node_modules; "
                               "run bench/install")
    return node


def start_bolt(procs_, workdir, port, cpu):
    """Start the bolt backend pinned to `cpu`, without its per-call lines; return (pid, argv)."""
    d = os.path.join(workdir, "backend")
    os.makedirs(d, exist_ok=True)
    argv = [node_binary(), os.path.join(BOLT_PEERS, "server.js"), str(port), "--quiet"]
    pid = procs_.start("backend bolt server.js", procs.pinned(cpu, argv),
                       os.path.join(d, "stdout.log"), port)
    return pid, argv


def bolt_version(argv):
    def package(name):
        with open(os.path.join(BOLT_PEERS, "node_modules", name, "package.json")) as f:
            return f"{name} {json.load(f)['version']}"
    node = subprocess.run([argv[0], "--version"], capture_output=True, text=True, timeout=10)
    return (f"{package('sofa-rpc-node')} (load: {package('sofa-bolt-node')}), "
            f"node {node.stdout.strip()}")
