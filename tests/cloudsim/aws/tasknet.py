"""The local AWS as ECS tasks see it: the same APIs on the tasks' own network.

Real tasks are podman containers on the test network (``SIGMA_NETWORK``, subnet
``SIGMA_SUBNET``); they cannot reach the simulator on the host's loopback. So the gateway is
also served, over plain HTTP, on the network's gateway address (the subnet's first address),
and each task's environment gets ``AWS_ENDPOINT_URL`` for it, the region, and test credentials
in place of the task role's (:meth:`AwsVendor.task_env`): the app's boto3 (the SQS job queue)
then reaches the local AWS unchanged. The socket binds with ``IP_FREEBIND``: the network's
bridge appears only with its first container. Only that address listens: nothing on other
interfaces.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

IP_FREEBIND = 15  # linux/in.h


def network_gateway(subnet: str) -> str:
    """The gateway address podman gives a network: the subnet's first address."""
    return str(ipaddress.ip_network(subnet)[1])


class TaskEndpoint:
    """A plain-HTTP server of ``app`` on ``address`` (a free port), on its own thread."""

    def __init__(self, app: Any, address: str) -> None:
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, 0))
        sock.listen(64)
        self._socket = sock
        self._server = make_server(
            address, sock.getsockname()[1], app, threaded=True,
            request_handler=MotoRequestHandler, fd=sock.fileno(),
        )  # fmt: skip
        self.url = f"http://{address}:{sock.getsockname()[1]}"
        threading.Thread(target=self._server.serve_forever, name="aws-tasks", daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._socket.close()
