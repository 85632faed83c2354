"""A gRPC server (grpcio) for the proxy's tests, with raw-bytes messages (no generated code).

Service test.Echo: Unary echoes its request (with a trailer), Stream sends the request back
N times (N = its first byte), Sleep answers after 3 s (and prints "sleeping PEER" when it
starts, PEER being the client's address), Missing fails with NOT_FOUND. Say takes and gives
a protobuf `test.Text` (echo.proto), for clients that need a schema (grpcurl): it answers
"said: " and the text.
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


def text_field(message):
    """The `text` field (1, length-delimited) of a protobuf `test.Text`, as bytes."""
    i = 0
    while i < len(message):
        key, i = varint(message, i)
        length, i = varint(message, i) if key & 7 == 2 else (0, i)
        if key == (1 << 3) | 2:
            return message[i:i + length]
        i += length
    return b""


def varint(data, i):
    value, shift = 0, 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if byte < 0x80:
            return value, i


def text_message(text):
    """A protobuf `test.Text` holding `text` (shorter than 128 bytes)."""
    return bytes([(1 << 3) | 2, len(text)]) + text


def say(request, context):
    return text_message(b"said: " + text_field(request))


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
        "Say": grpc.unary_unary_rpc_method_handler(say),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Echo", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    sys.exit(main())
