"""One TLS connection held open: `tls_held_client.py PORT CA_FILE NAME`.

For each line read on stdin it sends `GET /` on the same connection and prints
`<subject CN of the server certificate> <response body>`.
"""
import socket
import ssl
import sys


def main():
    port, ca_file, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    context = ssl.create_default_context(cafile=ca_file)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            subject = dict(pair[0] for pair in tls.getpeercert()["subject"])
            for _ in sys.stdin:
                tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                response = b""
                while b"\r\n\r\n" not in response:
                    response += tls.recv(4096)
                head, body = response.split(b"\r\n\r\n", 1)
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                while len(body) < length:
                    body += tls.recv(4096)
                print(subject["commonName"], body.decode(), flush=True)


if __name__ == "__main__":
    sys.exit(main())
