"""A gRPC server (grpcio) for the proxy's tests, with raw-bytes messages (no generated code).

Service test.Echo: Unary echoes its request (with a trailer), Stream sends the request back
N times (N = its first byte), Sleep answers after 3 s (and prints "sleeping PEER" when it
starts, PEER being the client's address), Missing fails with NOT_FOUND.
With --max-streams=N, the server takes at most N streams at once on a connection.
With --permit-pings, the server takes a PING as often as it comes (grpc's default policy
answers pings more often than every 5 minutes without data with GOAWAY "too_many_pings").
Prints the port it listens on, then serves until killed.
"""
import sys
import time
from concurrent import futures

import grpc


def unary(request, context):
    context.set_trailing_metadata((("x-trailer", "kept"),))
    return b"echo:" + request


def stream(request, context):
    for i in range(request[0] if request else 0):
        yield b"part-%d:" % i + request[1:]


def sleep(request, context):
    print("sleeping", context.peer(), flush=True)
    time.sleep(3)
    return b"late"


def missing(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")


def main():
    options = []
    if "--permit-pings" in sys.argv[1:]:
        options = [
            ("grpc.http2.min_ping_interval_without_data_ms", 100),
            ("grpc.http2.max_ping_strikes", 0),
            ("grpc.keepalive_permit_without_calls", 1),
        ]
    for arg in sys.argv[1:]:
        if arg.startswith("--max-streams="):
            options.append(("grpc.max_concurrent_streams", int(arg.split("=", 1)[1])))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=options)
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "Stream": grpc.unary_stream_rpc_method_handler(stream),
        "Sleep": grpc.unary_unary_rpc_method_handler(sleep),
        "Missing": grpc.unary_unary_rpc_method_handler(missing),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Echo", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    sys.exit(main())
