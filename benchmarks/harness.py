"""What the benchmarks share: the environment (set when this module is imported, so import it before storesync:
Powertools reads it at import time), counting DynamoDB writes, and the simulator as a child process.

Not a benchmark itself (`make bench` runs benchmarks/bench_*.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from typing import Any

import requests
from pynamodb.connection.base import Connection

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "storesync")
os.environ.pop("SP_API_DEFAULT_MARKETPLACE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)  # AWS is moto: in-process, or at the URL a benchmark passes itself

WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem"}


class WriteCounter:
    """Counts items written through pynamodb (batch writes count their items)."""

    def __init__(self) -> None:
        self.items = 0
        self.calls = 0
        original = Connection._make_api_call
        counter = self

        def counting(conn: Connection, operation: str, kwargs: dict[str, Any]) -> Any:
            if operation in WRITE_OPERATIONS:
                counter.items += 1
                counter.calls += 1
            elif operation == "BatchWriteItem":
                counter.items += sum(len(v) for v in kwargs.get("RequestItems", {}).values())
                counter.calls += 1
            elif operation == "TransactWriteItems":
                counter.items += len(kwargs.get("TransactItems", []))
                counter.calls += 1
            return original(conn, operation, kwargs)

        Connection._make_api_call = counting  # type: ignore[method-assign,assignment]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(command: list[str], url: str) -> subprocess.Popen[bytes]:
    """Starts `command` (a server) and waits until `url` answers."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            requests.get(url, timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{command[0]} did not start")
