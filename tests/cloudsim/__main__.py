"""``python -m tests.cloudsim`` (``make cloudsim``): serve the simulators in the foreground.

Settings come from the environment: CLOUDSIM_PORT (8765), CLOUDSIM_TOKEN (sim-token),
CLOUDSIM_TLS=1 with CLOUDSIM_CA (where the CA's PEM is written), CLOUDSIM_BACKEND
(memory | podman), CLOUDSIM_ACTION_DELAY (seconds), CLOUDSIM_FAULTS (JSON, see core.Faults),
CLOUDSIM_RECORD (a file that receives every exchange as a JSON line), CLOUDSIM_AWS_PORT
(where the AWS APIs answer; CLOUDSIM_PORT + 1).
"""

import signal
import sys
import threading

from .app import Settings, start


def main() -> int:
    settings = Settings.from_env()
    try:
        server, sim, url = start(settings)
    except (OSError, ValueError) as exc:
        print(f"cloudsim: cannot start: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for vendor in sim.vendors:
        where = getattr(vendor, "url", None) or f"{url}{vendor.prefix}"
        print(f"cloudsim: {vendor.name} at {where}", flush=True)
    if settings.tls:
        print(f"cloudsim: CA certificate in {settings.ca_path}", flush=True)
    stop.wait()
    server.shutdown()
    sim.close()
    cleanup = getattr(sim.backend, "cleanup", None)
    if cleanup is not None:
        cleanup()  # the podman backend removes the servers it started
    return 0


if __name__ == "__main__":
    sys.exit(main())
