"""A bare Python reader of the benchmark REST API: http.client (keep-alive) and json.loads, every
page in turn, records counted and nothing written. The floor for any Python tap on the same API.

Usage: python http_bare.py BASE_URL   (prints "pages records seconds")
"""

import http.client
import json
import sys
import time
from urllib.parse import urlsplit


def main() -> None:
    base = urlsplit(sys.argv[1])
    conn = http.client.HTTPConnection(base.hostname, base.port)
    started = time.perf_counter()
    pages = records = 0
    page = 1
    while page is not None:
        conn.request("GET", f"/events?page={page}")
        body = json.loads(conn.getresponse().read())
        pages += 1
        for record in body["data"]:
            records += 1
        page = body["next_page"]
    print(pages, records, f"{time.perf_counter() - started:.6f}")


if __name__ == "__main__":
    main()
