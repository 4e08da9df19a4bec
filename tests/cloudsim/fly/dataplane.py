"""Traffic for the apps whose machines really run: the proxy stand-in (``flyproxy.py``).

With the podman runtime, every app with machines that declare services gets a proxy on a
loopback address of its own, listening on those services' ports; the vendor's routing hook
keeps it on the routable machines. ``GET /_admin/fly/proxies`` answers ``{app: url}`` (where
a user would open ``https://<app>.fly.dev``). With the memory runtime nothing listens: its
machines have no address.
"""

from __future__ import annotations

from ..flyproxy import FlyProxies


def service_ports(fly, app: str) -> set[int]:
    """The external ports of the services of an app's machines (not destroyed)."""
    with fly.cond:
        configs = [
            m.config for m in fly.machines.values() if m.app == app and m.state != "destroyed"
        ]
    return {
        int(port["port"])
        for config in configs
        for service in config.get("services") or []
        for port in service.get("ports") or []
        if port.get("port")
    }


def attach_proxies(fly) -> FlyProxies | None:
    """Give ``fly`` its proxies when its runtime gives machines addresses (podman)."""
    if type(fly.runtime).__name__ != "PodmanRuntime":
        return None
    proxies = FlyProxies(fly.routable, fly.stats)

    def on_change(app: str) -> None:
        ports = service_ports(fly, app)
        if ports:
            proxies.ensure(app, ports)
        else:
            proxies.update(app)

    fly.on_routing_change.append(on_change)
    fly.proxies = proxies
    return proxies
