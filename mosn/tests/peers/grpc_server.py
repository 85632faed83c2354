"""A gRPC server (grpcio) for the proxy's tests, with raw-bytes messages (no generated code).

Service test.Echo: Unary echoes its request (with a trailer), Stream sends the request back
N times (N = its first byte), Sleep answers after 3 s (and prints "sleeping" when it starts),
Missing fails with NOT_FOUND.
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
    print("sleeping", flush=True)
    time.sleep(3)
    return b"late"


def missing(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")


def main():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
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
