"""A Dubbo consumer over TLS (PyPI `dubbo-ssl-python`, dubbo protocol + hessian2) for the
proxy's tests: `dubbo_tls_client.py HOST PORT CA_FILE NAME [COUNT]`.

Connects straight to HOST:PORT (no registry), with TLS verifying the server's certificate
chain against CA_FILE (the library does not check the host name), and calls
org.apache.dubbo.demo.DemoService:1.0.0 sayHello(NAME) COUNT times (default 1) on that one
connection. Prints one line per call: `ok <reply>` or `error <description>` (5 s timeout each).
"""
import sys

from dubbo_ssl.client import DubboClient


def main():
    host, port, ca_file, name = sys.argv[1:5]
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    client = DubboClient(
        interface="org.apache.dubbo.demo.DemoService",
        group="",
        version="1.0.0",
        # Before 2.0.2, so the provider answers with flags 0-2: the library cannot decode the
        # response-with-attachments flags (3-5) that 2.0.2 gets.
        dubbo_version="2.0.0",
        host="{}:{}".format(host, port),
        verify=ca_file,  # a CA file path: TLS, chain verified, host name not checked
    )
    for _ in range(count):
        try:
            print("ok", client.call(method="sayHello", args=[name], timeout=5), flush=True)
        except Exception as err:  # connect, handshake, timeout or remote errors alike
            print("error", type(err).__name__, " ".join(str(err).split()), flush=True)


if __name__ == "__main__":
    sys.exit(main())
