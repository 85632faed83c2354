"""Talks WebSocket through URL: many small messages and one large one, each echoed back."""
import sys

from websockets.sync.client import connect

with connect(sys.argv[1], max_size=None, open_timeout=10, close_timeout=5) as websocket:
    for i in range(200):
        websocket.send(f"message {i}")
        assert websocket.recv(timeout=10) == f"message {i}"
    large = "x" * 3_000_000
    websocket.send(large)
    assert websocket.recv(timeout=10) == large
print("ok")
