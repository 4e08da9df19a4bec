"""``/load_balancers``: CRUD, targets (server, label selector, ip) with a health status per
service, services with health checks, and the actions add/remove_target,
add/update/delete_service, change_algorithm and change_type.

With a backend that forwards traffic (the podman backend has ``lb_create``, ``lb_set``,
``lb_health``, ``lb_delete``), each load balancer is a real TCP proxy: its address is the
public IPv4, its services and resolved target addresses are kept in step with the API state
(``sync``, after every change and before every request), and target health is the proxy's.
Otherwise health is derived: a running server is ``healthy``, any other ``unhealthy``, an ip
target ``healthy``.
Private networks are not simulated: ``use_private_ip`` targets are refused as they are on a
load balancer without a network.
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from ..core import JSON, ApiError, Request, Response, now_iso
from . import actions, base
from .catalog import Entry

# Load balancer addresses: documentation ranges, never routed.
_LB_IPV4 = ipaddress.ip_network("203.0.113.0/24")
_LB_IPV6 = ipaddress.ip_network("2001:db8:ffff::/48")

ALGORITHMS = ("round_robin", "least_connections")
HEALTH_KEYS = ("protocol", "port", "interval", "timeout", "retries")


@dataclass(eq=False)
class LoadBalancer:
    id: int
    name: str
    labels: dict[str, str]
    lb_type: Entry
    location: Entry
    algorithm: str
    ipv4: str
    ipv6: str
    services: list[JSON] = field(default_factory=list)
    targets: list[JSON] = field(default_factory=list)  # as requested, normalized
    created: str = field(default_factory=now_iso)
    proxied: tuple | None = None  # the configuration last given to the backend's proxy

    @property
    def key(self) -> str:
        return f"hetzner-lb-{self.id}"


def _target_key(target: JSON) -> tuple:
    kind = target["type"]
    if kind == "server":
        return (kind, target["server"]["id"])
    if kind == "label_selector":
        return (kind, target["label_selector"]["selector"])
    return (kind, target["ip"]["ip"])


def _health_check(raw: Any, protocol: str, destination_port: int, partial: JSON | None) -> JSON:
    """A service's health check, completed with Hetzner's defaults."""
    if raw is None and partial is not None:
        return partial
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise base.bad_field("health_check", "must be an object")
    current = partial or {
        "protocol": "http" if protocol in ("http", "https") else "tcp",
        "port": destination_port,
        "interval": 15,
        "timeout": 10,
        "retries": 3,
    }
    check = {key: current[key] for key in HEALTH_KEYS}
    if raw.get("protocol") is not None:
        if raw["protocol"] not in ("http", "tcp"):
            raise base.bad_field("health_check", "protocol must be 'http' or 'tcp'")
        check["protocol"] = raw["protocol"]
    for key, low, high in (("port", 1, 65535), ("interval", 3, 60), ("timeout", 1, 60),
                           ("retries", 0, 5)):  # fmt: skip
        if raw.get(key) is not None:
            check[key] = base.need_int(raw, key, low=low, high=high)
    if check["protocol"] == "http":
        defaults = {"domain": None, "path": "/", "response": "",
                    "status_codes": ["2??", "3??"], "tls": False}  # fmt: skip
        http = dict(current.get("http") or defaults)
        given = raw.get("http") or {}
        if not isinstance(given, dict):
            raise base.bad_field("health_check", "http must be an object")
        for key in ("domain", "path", "response", "status_codes", "tls"):
            if key in given:
                http[key] = given[key]
        if not isinstance(http["path"], str) or not http["path"].startswith("/"):
            raise base.bad_field("health_check", "http.path must start with '/'")
        check["http"] = http
    return check


def _service(raw: Any, current: JSON | None = None) -> JSON:
    if not isinstance(raw, dict):
        raise base.bad_field("services", "each service must be an object")
    service = dict(current) if current else {}
    protocol = raw.get("protocol", service.get("protocol"))
    if protocol not in ("http", "https", "tcp"):
        raise base.bad_field("protocol", "must be one of http, https, tcp")
    listen = base.need_int(raw, "listen_port", required=current is None)
    destination = base.need_int(raw, "destination_port", required=False)
    listen = (
        listen
        or service.get("listen_port")
        or (443 if protocol == "https" else 80 if protocol == "http" else None)
    )
    if listen is None:
        raise base.bad_field("listen_port", "Missing data for required field.")
    destination = destination or service.get("destination_port") or listen
    proxyprotocol = base.need_bool(raw, "proxyprotocol", service.get("proxyprotocol", False))
    service.update(
        protocol=protocol,
        listen_port=listen,
        destination_port=destination,
        proxyprotocol=proxyprotocol,
    )
    service["health_check"] = _health_check(
        raw.get("health_check"), protocol, destination, service.get("health_check")
    )
    if protocol == "tcp":
        service.pop("http", None)
    else:
        http = dict(service.get("http") or {"cookie_name": "HCLBSTICKY", "cookie_lifetime": 300,
                                            "certificates": [], "redirect_http": False,
                                            "sticky_sessions": False})  # fmt: skip
        given = raw.get("http") or {}
        if not isinstance(given, dict):
            raise base.bad_field("http", "must be an object")
        for key in ("cookie_name", "cookie_lifetime", "certificates", "redirect_http",
                    "sticky_sessions"):  # fmt: skip
            if key in given:
                http[key] = given[key]
        if protocol == "https" or http["certificates"]:
            raise base.unknown_ref("http.certificates", "certificate not found")
        service["http"] = http
    return service


class LoadBalancers:
    def __init__(self, vendor) -> None:
        self.vendor = vendor
        self.items: dict[int, LoadBalancer] = {}
        self._addresses = 0

    @property
    def engine(self) -> actions.HetznerActions:
        return self.vendor.actions

    @property
    def proxy(self):
        """The backend, when it runs real load balancers; else None."""
        backend = self.vendor.backend
        return backend if hasattr(backend, "lb_set") else None

    def reset(self) -> None:
        if self.proxy:
            for lb in self.items.values():
                with contextlib.suppress(Exception):
                    self.proxy.lb_delete(lb.key)
        self.items.clear()

    def sync(self) -> None:
        """Give the backend's proxies the services and target addresses the API shows."""
        proxy = self.proxy
        if proxy is None:
            return
        for lb in self.items.values():
            services = tuple((s["listen_port"], s["destination_port"]) for s in lb.services)
            addresses = sorted(
                {
                    address
                    for target in lb.targets
                    for address in self._addresses_of(target)
                    if address
                }
            )
            wanted = (services, tuple(addresses))
            if wanted != lb.proxied:
                with contextlib.suppress(Exception):  # shown as unhealthy targets instead
                    proxy.lb_set(lb.key, list(services), addresses)
                    lb.proxied = wanted

    def _addresses_of(self, target: JSON) -> list[str | None]:
        kind, value = _target_key(target)
        servers = self.vendor.servers
        if kind == "ip":
            return [value]
        if kind == "server":
            server = servers.find(value)
            return [server.machine.ipv4] if server else []
        match = base.selector(value)
        return [s.machine.ipv4 for s in servers.items.values() if match(s.labels)]

    def register(self, router) -> None:
        actions.register_for(
            router, self.engine, "load_balancers", "load_balancer", self.items.__contains__
        )
        router.add("GET", "/load_balancers", self.list)
        router.add("POST", "/load_balancers", self.create)
        router.add("GET", "/load_balancers/{id}", lambda req: self._one(self.get(req)))
        router.add("PUT", "/load_balancers/{id}", self.update)
        router.add("DELETE", "/load_balancers/{id}", self.delete)
        for name, handler in [
            ("add_target", self.add_target),
            ("remove_target", self.remove_target),
            ("add_service", self.add_service),
            ("update_service", self.update_service),
            ("delete_service", self.delete_service),
            ("change_algorithm", self.change_algorithm),
            ("change_type", self.change_type),
        ]:
            router.add("POST", f"/load_balancers/{{id}}/actions/{name}", handler)

    # --- what servers see -------------------------------------------------------------------

    def for_server(self, server) -> list[int]:
        """``load_balancers`` of a server: those that target it, directly or by selector."""
        result = []
        for lb in self.items.values():
            for target in lb.targets:
                kind, value = _target_key(target)
                if (kind == "server" and value == server.id) or (
                    kind == "label_selector" and base.selector(value)(server.labels)
                ):
                    result.append(lb.id)
                    break
        return result

    def forget_server(self, server_id: int) -> None:
        for lb in self.items.values():
            lb.targets = [t for t in lb.targets if _target_key(t) != ("server", server_id)]

    # --- rendering --------------------------------------------------------------------------

    def _health(self, lb: LoadBalancer, server, ip: str | None, seen: dict | None) -> list:
        """Per service: the proxy's view when there is a proxy, else the server's status."""
        if seen is not None:
            address = server.machine.ipv4 if server is not None else ip
            return [
                {
                    "listen_port": s["listen_port"],
                    "status": seen.get((address, s["destination_port"]), "unknown"),
                }
                for s in lb.services
            ]
        status = "healthy" if server is None or server.status == "running" else "unhealthy"
        return [{"listen_port": s["listen_port"], "status": status} for s in lb.services]

    def _render_target(self, lb: LoadBalancer, target: JSON, seen: dict | None) -> JSON:
        out = dict(target)
        kind, value = _target_key(target)
        servers = self.vendor.servers
        if kind == "server":
            out["health_status"] = self._health(lb, servers.find(value), None, seen)
        elif kind == "ip":
            out["health_status"] = self._health(lb, None, value, seen)
        else:
            match = base.selector(value)
            out["targets"] = [
                {
                    "type": "server",
                    "server": {"id": s.id},
                    "use_private_ip": target["use_private_ip"],
                    "health_status": self._health(lb, s, None, seen),
                }
                for s in servers.items.values()
                if match(s.labels)
            ]
        return out

    def render(self, lb: LoadBalancer) -> JSON:
        seen = None
        if self.proxy is not None:
            try:
                seen = self.proxy.lb_health(lb.key)
            except Exception:
                seen = {}
        included = next(
            p["included_traffic"]
            for p in lb.lb_type.json["prices"]
            if p["location"] == lb.location.name
        )
        return {
            "id": lb.id,
            "name": lb.name,
            "labels": lb.labels,
            "created": lb.created,
            "load_balancer_type": lb.lb_type.json,
            "location": lb.location.json,
            "algorithm": {"type": lb.algorithm},
            "public_net": {
                "enabled": True,
                "ipv4": {"ip": lb.ipv4, "dns_ptr": f"static.{lb.ipv4}.clients.your-server.de"},
                "ipv6": {"ip": lb.ipv6, "dns_ptr": None},
            },
            "private_net": [],
            "protection": {"delete": False},
            "services": lb.services,
            "targets": [self._render_target(lb, t, seen) for t in lb.targets],
            "included_traffic": included,
            "ingoing_traffic": 0,
            "outgoing_traffic": 0,
        }

    def _one(self, lb: LoadBalancer, status: int = 200, **extra) -> Response:
        return Response(status, {"load_balancer": self.render(lb), **extra})

    def get(self, req: Request) -> LoadBalancer:
        lb = self.items.get(base.path_id(req, "load balancer"))
        if lb is None:
            raise base.not_found("load balancer")
        return lb

    # --- parsing ----------------------------------------------------------------------------

    def _target(self, raw: Any, lb_targets: list[JSON], *, adding: bool = True) -> JSON:
        if not isinstance(raw, dict):
            raise base.bad_field("targets", "each target must be an object")
        kind = raw.get("type")
        use_private = base.need_bool(raw, "use_private_ip", False)
        if kind == "server":
            target = self._server_target(raw, use_private, adding)
        elif kind == "label_selector":
            text = (raw.get("label_selector") or {}).get("selector")
            if not isinstance(text, str) or not text.strip():
                raise base.bad_field("label_selector", "selector must be a string")
            base.selector(text, "label_selector")
            target = {
                "type": "label_selector",
                "label_selector": {"selector": text},
                "use_private_ip": use_private,
            }
        elif kind == "ip":
            target = self._ip_target(raw, adding)
        else:
            raise base.bad_field("type", "must be one of server, label_selector, ip")
        if adding and use_private:
            raise ApiError(
                422,
                "load_balancer_not_attached_to_network",
                "load balancer is not attached to a network",
            )
        if adding and any(_target_key(t) == _target_key(target) for t in lb_targets):
            raise ApiError(422, "target_already_defined", "target is already defined")
        return target

    def _server_target(self, raw: JSON, use_private: bool, adding: bool) -> JSON:
        server_id = (raw.get("server") or {}).get("id")
        if not isinstance(server_id, int) or isinstance(server_id, bool):
            raise base.bad_field("server", "id must be an integer")
        if adding:
            server = self.vendor.servers.find(server_id)
            if server is None:
                raise base.not_found("server")
            if not use_private and server.ipv4_id is None:
                raise ApiError(422, "missing_ipv4", "server has no public IPv4 address")
        return {"type": "server", "server": {"id": server_id}, "use_private_ip": use_private}

    def _ip_target(self, raw: JSON, adding: bool) -> JSON:
        ip = (raw.get("ip") or {}).get("ip")
        try:
            address = str(ipaddress.ip_address(ip))
        except (TypeError, ValueError) as exc:
            raise base.bad_field("ip", "must be an IP address") from exc
        if adding and any(s.machine.ipv4 == address for s in self.vendor.servers.items.values()):
            raise ApiError(
                422, "cloud_resource_ip_not_allowed", "the IP belongs to a Hetzner Cloud resource"
            )
        return {"type": "ip", "ip": {"ip": address}}

    @staticmethod
    def _add_service(lb_services: list[JSON], service: JSON) -> None:
        if any(s["listen_port"] == service["listen_port"] for s in lb_services):
            raise ApiError(
                422, "source_port_already_used", "listen port is already used by a service"
            )
        lb_services.append(service)

    def _next_addresses(self) -> tuple[str, str]:
        self._addresses += 1
        n = self._addresses % (_LB_IPV4.num_addresses - 2) + 1
        return str(_LB_IPV4.network_address + n), str(_LB_IPV6.network_address + n)

    # --- CRUD -------------------------------------------------------------------------------

    def _check_name(self, name: str, own_id: int | None = None) -> None:
        if any(lb.name == name and lb.id != own_id for lb in self.items.values()):
            raise base.name_taken("name", "load balancer name is already used")

    def list(self, req: Request) -> Response:
        items = base.filter_common(req, list(self.items.values()))
        items = base.sort_items(req, items, base.BY_ID_NAME_CREATED)
        return base.page(req, items, "load_balancers", self.render)

    def create(self, req: Request) -> Response:
        data = base.body(req)
        cat = self.vendor.catalog
        name = base.need_str(data, "name", max_len=128)
        if data.get("load_balancer_type") is None:
            raise base.bad_field("load_balancer_type", "Missing data for required field.")
        lb_type = cat.lb_type(data["load_balancer_type"])
        if lb_type is None:
            raise base.unknown_ref("load_balancer_type", "load balancer type not found")
        location = self._location(data)
        algorithm = (data.get("algorithm") or {}).get("type", "round_robin")
        if algorithm not in ALGORITHMS:
            raise base.bad_field("algorithm", "type must be round_robin or least_connections")
        labels = base.labels(data)
        if data.get("network") is not None:
            raise base.unknown_ref("network", "network not found")
        if data.get("public_interface") is False:
            raise base.bad_field("public_interface", "a private load balancer needs a network")
        services: list[JSON] = []
        for raw in data.get("services") or []:
            self._add_service(services, _service(raw))
        targets: list[JSON] = []
        for raw in data.get("targets") or []:
            targets.append(self._target(raw, targets))
        self._check_name(name)
        lb_id = self.vendor.ids.next("load_balancer")
        ipv4, ipv6 = self._next_addresses()
        if self.proxy is not None:
            try:
                ipv4 = self.proxy.lb_create(f"hetzner-lb-{lb_id}")
            except Exception as exc:
                raise ApiError(500, "server_error", f"load balancer not created: {exc}") from exc
        lb = LoadBalancer(
            lb_id, name, labels, lb_type, location, algorithm,
            ipv4, ipv6, services, targets,
        )  # fmt: skip
        self.items[lb.id] = lb
        action = self.engine.start("create_load_balancer", [{"id": lb.id, "type": "load_balancer"}])
        return self._one(lb, 201, action=actions.render(action))

    def _location(self, data: JSON) -> Entry:
        cat = self.vendor.catalog
        if data.get("location") is not None:
            location = cat.location(data["location"])
            if location is None:
                raise base.unknown_ref("location", "location not found")
            return location
        zone = data.get("network_zone")
        if zone is None:
            raise base.bad_field("location", "location or network_zone is required")
        for location in cat.locations.values():
            if location.json["network_zone"] == zone:
                return location
        raise base.unknown_ref("network_zone", "network zone not found")

    def update(self, req: Request) -> Response:
        lb = self.get(req)
        data = base.body(req)
        name = base.need_str(data, "name", required=False, max_len=128)
        new_labels = base.labels(data, current=lb.labels)
        if name is not None:
            self._check_name(name, lb.id)
            lb.name = name
        lb.labels = new_labels
        return self._one(lb)

    def delete(self, req: Request) -> Response:
        lb = self.get(req)
        del self.items[lb.id]
        if self.proxy is not None:
            with contextlib.suppress(Exception):
                self.proxy.lb_delete(lb.key)
        return Response(204)

    # --- actions ----------------------------------------------------------------------------

    def _act(self, lb: LoadBalancer, command: str, effect) -> Response:
        def done() -> None:
            if self.items.get(lb.id) is lb:
                effect()

        resources = [{"id": lb.id, "type": "load_balancer"}]
        return actions.one(self.engine.start(command, resources, done))

    def add_target(self, req: Request) -> Response:
        lb = self.get(req)
        target = self._target(base.body(req), lb.targets)
        return self._act(lb, "add_target", lambda: lb.targets.append(target))

    def remove_target(self, req: Request) -> Response:
        lb = self.get(req)
        key = _target_key(self._target(base.body(req), lb.targets, adding=False))
        if not any(_target_key(t) == key for t in lb.targets):
            raise base.not_found("load balancer target")

        def removed() -> None:
            lb.targets = [t for t in lb.targets if _target_key(t) != key]

        return self._act(lb, "remove_target", removed)

    def add_service(self, req: Request) -> Response:
        lb = self.get(req)
        service = _service(base.body(req))
        self._add_service(list(lb.services), service)
        if len(lb.services) >= lb.lb_type.json["max_services"]:
            raise ApiError(403, "resource_limit_exceeded", "too many services")

        def added() -> None:
            if all(s["listen_port"] != service["listen_port"] for s in lb.services):
                lb.services.append(service)

        return self._act(lb, "add_service", added)

    def update_service(self, req: Request) -> Response:
        lb = self.get(req)
        data = base.body(req)
        listen = base.need_int(data, "listen_port")
        current = next((s for s in lb.services if s["listen_port"] == listen), None)
        if current is None:
            raise base.not_found("load balancer service")
        service = _service(data, current)

        def updated() -> None:
            lb.services = [service if s["listen_port"] == listen else s for s in lb.services]

        return self._act(lb, "update_service", updated)

    def delete_service(self, req: Request) -> Response:
        lb = self.get(req)
        listen = base.need_int(base.body(req), "listen_port")
        if not any(s["listen_port"] == listen for s in lb.services):
            raise base.not_found("load balancer service")

        def deleted() -> None:
            lb.services = [s for s in lb.services if s["listen_port"] != listen]

        return self._act(lb, "delete_service", deleted)

    def change_algorithm(self, req: Request) -> Response:
        lb = self.get(req)
        algorithm = base.body(req).get("type")
        if algorithm not in ALGORITHMS:
            raise base.bad_field("type", "must be round_robin or least_connections")
        return self._act(lb, "change_algorithm", lambda: setattr(lb, "algorithm", algorithm))

    def change_type(self, req: Request) -> Response:
        lb = self.get(req)
        data = base.body(req)
        if data.get("load_balancer_type") is None:
            raise base.bad_field("load_balancer_type", "Missing data for required field.")
        new_type = self.vendor.catalog.lb_type(data["load_balancer_type"])
        if new_type is None:
            raise base.unknown_ref("load_balancer_type", "load balancer type not found")
        if (
            len(lb.services) > new_type.json["max_services"]
            or len(lb.targets) > (new_type.json["max_targets"])
        ):
            raise ApiError(422, "invalid_load_balancer_type", "the load balancer type is too small")
        return self._act(lb, "change_load_balancer_type", lambda: setattr(lb, "lb_type", new_type))
