"""Memory of a proxy holding many idle HTTP/1.1 keep-alive connections.

A small asyncio client opens N connections to the proxy (at most `concurrency`
being set up at a time, like wrk's -c), sends one GET on each, checks the answer
is the backend's exact body with keep-alive, and leaves every connection open.
"""
import asyncio


class IdleError(RuntimeError):
    pass


async def _one(port, path, body, timeout):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip()
                   for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if lines[0].split()[1:2] != ["200"]:
            raise IdleError(f"status line {lines[0]!r}")
        if "content-length" not in headers:
            raise IdleError(f"no Content-Length in the answer: {headers}")
        got = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), timeout)
        if got != body:
            raise IdleError(f"unexpected body ({len(got)} bytes)")
        if headers.get("connection", "").lower() == "close":
            raise IdleError("the proxy answered with Connection: close")
    except BaseException:
        writer.close()
        raise
    return reader, writer


async def _open_all(port, path, body, n, concurrency, timeout):
    gate = asyncio.Semaphore(concurrency)

    async def bounded():
        async with gate:
            return await _one(port, path, body, timeout)

    results = await asyncio.gather(*(bounded() for _ in range(n)), return_exceptions=True)
    conns = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    return conns, errors


def hold(port, path, body, n, concurrency, settle, on_idle, timeout=10.0):
    """Open n keep-alive connections with one request each, idle `settle` seconds,
    call on_idle() while they are all open, then close them. Returns on_idle()'s value.
    Raises IdleError if a request failed or the proxy closed an idle connection."""
    async def main():
        conns, errors = await _open_all(port, path, body, n, concurrency, timeout)
        try:
            if errors:
                kinds = sorted({f"{type(e).__name__}: {e}" for e in errors})[:5]
                raise IdleError(f"{len(errors)} of {n} connections failed: {kinds}")
            await asyncio.sleep(settle)  # the loop runs: a close by the proxy is seen here
            closed = sum(reader.at_eof() for reader, _ in conns)
            if closed:
                raise IdleError(f"the proxy closed {closed} of {n} idle connections")
            return on_idle()
        finally:
            for _, writer in conns:
                writer.close()
    return asyncio.run(main())
