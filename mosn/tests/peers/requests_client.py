"""Python `requests` through the proxy: a keep-alive session, query strings, a JSON upload, a
streamed download, and a redirect followed."""
import sys

import requests

base = sys.argv[1]
with requests.Session() as session:
    for _ in range(20):
        response = session.get(f"{base}/", params={"q": "a b"}, timeout=10)
        assert response.status_code == 200 and response.text == "hello from nginx\n", response.text
    response = session.put(f"{base}/upload/from-requests.json", json={"answer": 42}, timeout=10)
    assert response.status_code in (201, 204), response.status_code
    with session.get(f"{base}/big", stream=True, timeout=10) as response:
        size = sum(len(chunk) for chunk in response.iter_content(65536))
    assert size == 8 * 1024 * 1024, size
    response = session.get(f"{base}/moved", timeout=10)
    assert response.history[0].status_code == 302 and response.status_code == 200
print("ok")
