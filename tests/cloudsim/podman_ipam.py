"""Keep podman's own address allocator away from the simulated servers' static addresses.

With the CNI network backend, podman's allocator (the ``host-local`` plugin) gives a container
without a static address the one after the last address it reserved, and a static address
counts as reserved too. A server started on an address near the top of the subnet would so
send the next test host (molecule's, hostctl's) to the addresses above it, where the servers
that are powered off wait to get theirs back: they would come back on a new one. Putting the
allocator's position back where it was after a static start keeps it counting from the bottom.

Best effort: without that state (the netavark backend keeps its own), nothing is done; a taken
address is still handled by moving the server.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

CNI_STATE = Path("/var/lib/cni/networks")


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """The lock host-local takes on its state directory while it allocates."""
    with open(directory / "lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def allocator_kept(network: str, address: str, state: Path = CNI_STATE) -> Iterator[None]:
    """Around a ``podman run``/``start`` with the static ``address``: afterwards, if the
    allocator's last address is ours (nobody allocated since), put back the one before."""
    directory = state / network
    last = directory / "last_reserved_ip.0"
    try:
        before: str | None = last.read_text()
    except FileNotFoundError:
        before = None
    except OSError:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            if directory.is_dir():
                with _locked(directory):
                    if last.read_text().strip() == address:
                        if before is None:
                            last.unlink()
                        else:
                            last.write_text(before)
