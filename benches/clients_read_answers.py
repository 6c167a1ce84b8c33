"""Whether clients that send their whole body before reading (Python's http.client, curl, most
HTTP libraries) read every answer: a seeded random run of requests with bodies of up to 8 MB (more than loopback's socket
buffers hold) to
real paths, wrong paths, wrong methods and routes that take no body, each on a fresh connection.

    python3 benches/clients_read_answers.py BASE_URL [REQUESTS (500)] [SEED (1)]

Prints one line: how many requests were answered with JSON, and how many lost their answer to a
broken pipe or a reset connection (the server answered and closed before reading the body).
"""

import http.client
import json
import random
import sys
from collections import Counter
from urllib.parse import urlsplit

PATHS = [
    "/api/model", "/api/model/abc", "/api/config", "/api/viewers", "/health",
    "/api/viewer/a/status", "/api/viewer/a/clear", "/api/viewer/a", "/api/viewer/a/screenshot",
    "/api/viewer/a/animation", "/api/viewer/a/tool-requests?wait=0", "/api/viewer/../screenshot",
    "/api/nowhere", "/static/nothing.js", "/api/screenshot", "/api/viewer/a/thumbnail",
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
SIZES = [0, 1_000, 100_000, 610_000, 8_000_000]


def main():
    base = urlsplit(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    outcomes = Counter()
    for _ in range(count):
        method, path, size = rng.choice(METHODS), rng.choice(PATHS), rng.choice(SIZES)
        body = b"[" + b"0," * (size // 2) + b"0]" if size else None
        connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
        try:
            connection.request(method, path, body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
            json.loads(answer) if answer else None
            outcomes["answered"] += 1
        except (BrokenPipeError, ConnectionResetError) as error:
            outcomes[type(error).__name__] += 1
        except ValueError:
            outcomes["not JSON"] += 1
        finally:
            connection.close()
    lost = count - outcomes["answered"]
    print(f"{count} requests: {outcomes['answered']} answered with JSON, {lost} lost {dict(outcomes)}")


if __name__ == "__main__":
    main()
