"""What the benchmarks share: the environment (set when this module is imported, so import it before storesync:
Powertools reads it at import time), counting DynamoDB writes, and the simulator as a child process.

Not a benchmark itself (`make bench` runs benchmarks/bench_*.py).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from typing import Any

import requests
from pynamodb.connection.base import Connection
from spapi_simulator.sellers import CLIENT_ID, CLIENT_SECRET
from storesync_local.template import Provisioned, provision

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


def provision_in_moto(
    sim_url: str, stack_name: str, template: dict[str, Any] | None = None, **parameters: str
) -> Provisioned:
    """The template's resources in moto in-process (boto3's default endpoints are intercepted), its SP-API
    parameters and LWA credentials those of the simulator at `sim_url`."""
    return provision(
        None,  # type: ignore[arg-type]
        stack_name=stack_name,
        template=template,
        parameters={"SpApiEndpoint": sim_url, "SpApiLwaUrl": sim_url + "/auth/o2/token", "SpApiConsentUrl": sim_url,
                    **parameters},
        secrets={"LwaCredentialsSecret": json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})},
    )  # fmt: skip


def enter_function_env(stack: Provisioned, logical_id: str, quota_scale: float) -> None:
    """This process becomes the function: its environment from the template, quotas scaled like the simulator's."""
    os.environ.update({k: v for k, v in stack.function_env[logical_id].items() if v != ""})
    os.environ["SPAPI_QUOTA_SCALE"] = str(quota_scale)
