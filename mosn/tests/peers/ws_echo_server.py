"""A WebSocket echo server on 127.0.0.1:PORT, on the `websockets` library."""
import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(websocket):
    async for message in websocket:
        await websocket.send(message)


async def main(port):
    async with serve(echo, "127.0.0.1", port, max_size=None) as server:
        await server.serve_forever()


asyncio.run(main(int(sys.argv[1])))
