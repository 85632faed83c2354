"""A gRPC client (grpcio) for the proxy's tests: `grpc_client.py TARGET CALL [TIMEOUT [K=V]]`
(K=V: metadata sent with the call).

Prints one line: `ok <message> <trailer>` for Unary, `ok <n> <last part>` for Stream, or
`error <STATUS_CODE> <details>` when the call fails. CancelSleep starts Sleep without a
deadline and cancels it after 1.5 s (`cancelled`). `CALL*N` makes N calls at once on the
one channel and prints `ok <n> <seconds>`: how long the slowest took, from when all began.
Plaintext (h2c) unless GRPC_CA_FILE names a PEM CA file: then TLS, verifying the server's
certificate against that CA and for the name GRPC_SERVER_NAME (default: TARGET's host).
"""
import os
import sys
import time

import grpc


def main():
    target, call = sys.argv[1], sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 10
    metadata = [tuple(pair.split("=", 1)) for pair in sys.argv[4:]]
    ca_file = os.environ.get("GRPC_CA_FILE")
    if ca_file:
        with open(ca_file, "rb") as f:
            credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
        name = os.environ.get("GRPC_SERVER_NAME")
        options = [("grpc.ssl_target_name_override", name)] if name else []
        channel = grpc.secure_channel(target, credentials, options)
    else:
        channel = grpc.insecure_channel(target)
    with channel:
        try:
            if call == "CancelSleep":
                # No deadline (so no grpc-timeout header): only the client's reset ends it.
                pending = channel.unary_unary("/test.Echo/Sleep").future(b"hi")
                time.sleep(1.5)
                print("cancelled" if pending.cancel() else "not cancelled")
            elif "*" in call:
                name, count = call.split("*")
                began = time.monotonic()
                pending = [
                    channel.unary_unary("/test.Echo/" + name).future(b"hi", timeout=timeout)
                    for _ in range(int(count))
                ]
                replies = [p.result() for p in pending]
                print("ok", len(replies), round(time.monotonic() - began, 2))
            elif call == "Stream":
                parts = list(channel.unary_stream("/test.Echo/Stream")(b"\x05hello", timeout=timeout, metadata=metadata))
                print("ok", len(parts), parts[-1].decode())
            else:
                reply, outcome = channel.unary_unary("/test.Echo/" + call).with_call(
                    b"hi", timeout=timeout, metadata=metadata
                )
                trailer = dict(outcome.trailing_metadata()).get("x-trailer", "-")
                print("ok", reply.decode(), trailer)
        except grpc.RpcError as err:
            print("error", err.code().name, err.details())


if __name__ == "__main__":
    sys.exit(main())
