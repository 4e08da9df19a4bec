"""Load balancers: forwarding rules, health check, targets by droplet id or by tag.

A load balancer is ``new`` (no IP yet) until the fault setting ``action_delay`` has passed,
then ``active`` with an address. Targets must be droplets in the load balancer's region; a
tag-based load balancer lists the droplets carrying its tag in ``droplet_ids`` and refuses
droplets by id, as on DigitalOcean.

With a backend that forwards traffic (the podman backend has ``lb_create``, ``lb_set``,
``lb_delete``), each load balancer is a real TCP proxy: its address is the one the backend
gives, each forwarding rule is a service ``entry_port -> target_port``, and its targets are the
public IPv4 addresses of its droplets, kept in step before every request.
"""

from __future__ import annotations

import contextlib
import ipaddress
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core import ApiError, Request, Response, Router
from .catalog import REGIONS, default_vpc, region_json
from .common import JSON, NAME_RE, UUID_RE, body_of, int_in, int_list, iso, missing, paginate
from .common import unprocessable as bad

if TYPE_CHECKING:
    from .vendor import DigitalOcean

ENTRY_PROTOCOLS = ("http", "https", "http2", "http3", "tcp", "udp")
TARGET_PROTOCOLS = ("http", "https", "http2", "tcp", "udp")
TLS_ENTRY = ("https", "http2", "http3")
HEALTH_DEFAULTS: JSON = {
    "protocol": "http",
    "port": 80,
    "path": "/",
    "check_interval_seconds": 10,
    "response_timeout_seconds": 5,
    "healthy_threshold": 3,
    "unhealthy_threshold": 5,
}
# Addresses for load balancers: TEST-NET-3 and the IPv6 documentation prefix.
_IPV4_POOL = ipaddress.ip_network("203.0.113.0/24")
_IPV6_BASE = ipaddress.ip_address("2001:db8:ffff::")
ENUMS: dict[str, tuple[tuple[str, ...], str]] = {
    # field: (allowed values, default)
    "size": (("lb-small", "lb-medium", "lb-large"), "lb-small"),
    "algorithm": (("round_robin", "least_connections"), "round_robin"),
    "network": (("EXTERNAL", "INTERNAL"), "EXTERNAL"),
    "network_stack": (("IPV4", "DUALSTACK"), "IPV4"),
    "type": (("REGIONAL", "REGIONAL_NETWORK", "GLOBAL"), "REGIONAL"),
    "tls_cipher_policy": (("DEFAULT", "STRONG"), "DEFAULT"),
}
FLAGS = (
    "redirect_http_to_https",
    "enable_proxy_protocol",
    "enable_backend_keepalive",
    "disable_lets_encrypt_dns_records",
)


@dataclass
class LoadBalancer:
    id: str
    number: int
    created_at: str
    region: str = ""
    config: JSON = field(default_factory=dict)
    droplet_ids: list[int] = field(default_factory=list)
    tag: str | None = None
    active_at: float = 0.0
    address: str | None = None  # from a backend that runs real load balancers
    proxied: tuple = ()  # what the backend's proxy was last told

    @property
    def key(self) -> str:
        return f"digitalocean-lb-{self.number}"


def _port(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise bad(where, f"{where} must be a port number (1-65535)")
    return value


def forwarding_rule(raw: Any) -> JSON:
    if not isinstance(raw, dict):
        raise bad("forwarding_rules", "each forwarding rule must be an object")
    entry = raw.get("entry_protocol")
    target = raw.get("target_protocol")
    if entry not in ENTRY_PROTOCOLS:
        raise bad(
            "forwarding_rules.entry_protocol",
            f"entry_protocol must be one of {', '.join(ENTRY_PROTOCOLS)}",
        )
    if target not in TARGET_PROTOCOLS:
        raise bad(
            "forwarding_rules.target_protocol",
            f"target_protocol must be one of {', '.join(TARGET_PROTOCOLS)}",
        )
    rule: JSON = {
        "entry_protocol": entry,
        "entry_port": _port(raw.get("entry_port"), "forwarding_rules.entry_port"),
        "target_protocol": target,
        "target_port": _port(raw.get("target_port"), "forwarding_rules.target_port"),
        "certificate_id": raw.get("certificate_id") or "",
        "tls_passthrough": bool(raw.get("tls_passthrough", False)),
    }
    if not isinstance(rule["certificate_id"], str):
        raise bad("forwarding_rules.certificate_id", "certificate_id must be a string")
    if entry in TLS_ENTRY and not rule["certificate_id"] and not rule["tls_passthrough"]:
        raise bad(
            "forwarding_rules.certificate_id",
            f"a {entry} forwarding rule needs certificate_id or tls_passthrough",
        )
    return rule


def forwarding_rules(body: JSON) -> list[JSON]:
    raw = body.get("forwarding_rules")
    if not isinstance(raw, list) or not raw:
        raise bad("forwarding_rules", "forwarding_rules must contain at least one rule")
    return [forwarding_rule(r) for r in raw]


def health_check(body: JSON) -> JSON:
    raw = body.get("health_check") or {}
    if not isinstance(raw, dict):
        raise bad("health_check", "health_check must be an object")
    check = {**HEALTH_DEFAULTS, **{k: v for k, v in raw.items() if k in HEALTH_DEFAULTS}}
    if check["protocol"] not in ("http", "https", "tcp"):
        raise bad("health_check.protocol", "health_check.protocol must be http, https or tcp")
    _port(check["port"], "health_check.port")
    if not isinstance(check["path"], str):
        raise bad("health_check.path", "health_check.path must be a string")
    for key in HEALTH_DEFAULTS:
        if key in ("protocol", "path", "port"):
            continue
        value = check[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad(f"health_check.{key}", f"health_check.{key} must be a positive integer")
    return check


def sticky_sessions(body: JSON) -> JSON:
    raw = body.get("sticky_sessions") or {"type": "none"}
    if not isinstance(raw, dict) or raw.get("type", "none") not in ("cookies", "none"):
        raise bad("sticky_sessions.type", "sticky_sessions.type must be cookies or none")
    if raw.get("type") == "cookies":
        return {
            "type": "cookies",
            "cookie_name": str(raw.get("cookie_name") or "DO-LB"),
            "cookie_ttl_seconds": int(raw.get("cookie_ttl_seconds") or 300),
        }
    return {"type": "none"}


class LoadBalancers:
    def __init__(self, do: DigitalOcean) -> None:
        self.do = do
        self.items: dict[str, LoadBalancer] = {}
        self._numbers = 0

    @property
    def proxy(self) -> Any:
        """The backend, when it runs real load balancers; else None."""
        backend = self.do.backend
        return backend if hasattr(backend, "lb_set") else None

    def reset(self) -> None:
        if self.proxy is not None:
            for lb in self.items.values():
                with contextlib.suppress(Exception):
                    self.proxy.lb_delete(lb.key)
        self.items.clear()

    def sync(self) -> None:
        """Give the backend's proxies the services and target addresses the API shows."""
        proxy = self.proxy
        if proxy is None:
            return
        droplets = self.do.droplets.items
        for lb in self.items.values():
            services = tuple(
                dict.fromkeys(
                    (r["entry_port"], r["target_port"]) for r in lb.config["forwarding_rules"]
                )
            )
            addresses = sorted(
                {
                    droplets[i].machine.ipv4
                    for i in self.targets(lb)
                    if i in droplets and droplets[i].status != "new" and droplets[i].machine.ipv4
                }
            )
            wanted = (services, tuple(addresses))
            if wanted != lb.proxied:
                with contextlib.suppress(Exception):  # the proxy then reports no healthy target
                    proxy.lb_set(lb.key, list(services), addresses)
                    lb.proxied = wanted

    def routes(self, router: Router) -> None:
        router.add("GET", "/load_balancers", self.list)
        router.add("POST", "/load_balancers", self.create)
        router.add("GET", "/load_balancers/{lb_id}", self.get)
        router.add("PUT", "/load_balancers/{lb_id}", self.update)
        router.add("DELETE", "/load_balancers/{lb_id}", self.delete)
        router.add("POST", "/load_balancers/{lb_id}/droplets", self.add_droplets)
        router.add("DELETE", "/load_balancers/{lb_id}/droplets", self.remove_droplets)
        router.add("POST", "/load_balancers/{lb_id}/forwarding_rules", self.add_rules)
        router.add("DELETE", "/load_balancers/{lb_id}/forwarding_rules", self.remove_rules)

    def forget_droplet(self, droplet_id: int) -> None:
        for lb in self.items.values():
            if droplet_id in lb.droplet_ids:
                lb.droplet_ids.remove(droplet_id)

    # -- helpers ------------------------------------------------------------------------------
    def targets(self, lb: LoadBalancer) -> list[int]:
        """The droplets behind the load balancer (by id, or carrying its tag)."""
        if lb.tag is not None:
            members = self.do.tags.members.get(lb.tag.lower(), {})
            droplets = self.do.droplets.items
            return sorted(i for i in members if droplets[i].region == lb.region)
        return list(lb.droplet_ids)

    def render(self, lb: LoadBalancer, fresh: bool = False) -> JSON:
        """``fresh``: the create response, which is always ``new`` without an address."""
        active = not fresh and time.monotonic() >= lb.active_at
        c = lb.config
        body: JSON = {
            "id": lb.id,
            "name": c["name"],
            "project_id": c["project_id"],
            "ip": (lb.address or str(_IPV4_POOL.network_address + 1 + (lb.number - 1) % 254))
            if active
            else "",
            "size_unit": c["size_unit"],
            "size": c["size"],
            "algorithm": c["algorithm"],
            "status": "active" if active else "new",
            "created_at": lb.created_at,
            "forwarding_rules": [dict(r) for r in c["forwarding_rules"]],
            "health_check": dict(c["health_check"]),
            "sticky_sessions": dict(c["sticky_sessions"]),
            "region": region_json(lb.region),
            "droplet_ids": self.targets(lb),
            "redirect_http_to_https": c["redirect_http_to_https"],
            "enable_proxy_protocol": c["enable_proxy_protocol"],
            "enable_backend_keepalive": c["enable_backend_keepalive"],
            "http_idle_timeout_seconds": c["http_idle_timeout_seconds"],
            "vpc_uuid": c["vpc_uuid"],
            "disable_lets_encrypt_dns_records": c["disable_lets_encrypt_dns_records"],
            "firewall": {k: list(v) for k, v in c["firewall"].items()},
            "network": c["network"],
            "network_stack": c["network_stack"],
            "type": c["type"],
            "tls_cipher_policy": c["tls_cipher_policy"],
        }
        if lb.tag is not None:
            body["tag"] = lb.tag
        if c["network_stack"] == "DUALSTACK" and active:
            body["ipv6"] = str(_IPV6_BASE + lb.number)
        return body

    def lookup(self, request: Request) -> LoadBalancer:
        lb = self.items.get(request.params["lb_id"])
        if lb is None:
            raise missing("load_balancer")
        return lb

    def _droplets(self, ids: list[int], region: str) -> list[int]:
        for droplet_id in ids:
            droplet = self.do.droplets.items.get(droplet_id)
            if droplet is None:
                raise bad("droplet_ids", f"droplet_ids: droplet {droplet_id} not found")
            if droplet.region != region:
                raise bad(
                    "droplet_ids",
                    f"droplet_ids: droplet {droplet_id} is in {droplet.region}, "
                    f"not in the load balancer's region {region}",
                )
        return list(dict.fromkeys(ids))

    def _targets(self, body: JSON, region: str) -> tuple[str | None, list[int]]:
        has_ids = body.get("droplet_ids") is not None
        has_tag = body.get("tag") is not None
        if has_ids and has_tag:
            raise bad("tag", "specify droplet_ids or tag, not both")
        tag = None
        if has_tag:
            if not isinstance(body["tag"], str):
                raise bad("tag", "tag must be a string")
            tag = self.do.tags.ensure(body["tag"], "tag")
        return tag, self._droplets(int_list(body, "droplet_ids"), region)

    def _options(self, body: JSON, region: str) -> JSON:
        config: JSON = {}
        for key, (allowed, default) in ENUMS.items():
            value = body.get(key, default)
            if value not in allowed:
                raise bad(key, f"{key} must be one of {', '.join(allowed)}")
            config[key] = value
        for key in FLAGS:
            value = body.get(key, False)
            if not isinstance(value, bool):
                raise bad(key, f"{key} must be a boolean")
            config[key] = value
        vpc_uuid = body.get("vpc_uuid") or default_vpc(region)
        if not isinstance(vpc_uuid, str) or not UUID_RE.match(vpc_uuid):
            raise bad("vpc_uuid", "vpc_uuid must be the UUID of a VPC")
        firewall = body.get("firewall") or {}
        if not isinstance(firewall, dict):
            raise bad("firewall", "firewall must be an object with allow and deny lists")
        config.update(
            size_unit=int_in(body, "size_unit", 1, 1, 100),
            http_idle_timeout_seconds=int_in(body, "http_idle_timeout_seconds", 60, 30, 600),
            vpc_uuid=vpc_uuid,
            project_id=str(body.get("project_id") or self.do.project_id),
            firewall={
                "deny": [str(x) for x in firewall.get("deny") or []],
                "allow": [str(x) for x in firewall.get("allow") or []],
            },
        )
        return config

    def _configure(self, lb: LoadBalancer, body: JSON) -> None:
        """Validate a whole create/update body, then apply it."""
        region = body.get("region")
        if not isinstance(region, str) or region not in REGIONS:
            raise bad("region", "region must be the slug of a region, e.g. fra1")
        if lb.region and region != lb.region:
            raise bad("region", "the region of a load balancer cannot change")
        tag, droplet_ids = self._targets(body, region)
        name = body.get("name")
        if name is None:
            name = lb.config.get("name") or f"{region}-load-balancer-{lb.number:02d}"
        if not isinstance(name, str) or len(name) > 255 or not NAME_RE.match(name):
            raise bad("name", "name may contain only a-z, A-Z, 0-9, . and -")
        config: JSON = {
            "name": name,
            "forwarding_rules": forwarding_rules(body),
            "health_check": health_check(body),
            "sticky_sessions": sticky_sessions(body),
            **self._options(body, region),
        }
        lb.region, lb.config, lb.tag, lb.droplet_ids = region, config, tag, droplet_ids

    # -- API ----------------------------------------------------------------------------------
    def list(self, request: Request) -> Response:
        items = list(self.items.values())
        return Response(200, paginate(request, "load_balancers", items, self.render))

    def create(self, request: Request) -> Response:
        body = body_of(request)
        self._numbers += 1
        lb = LoadBalancer(id=str(uuid.uuid4()), number=self._numbers, created_at=iso())
        self._configure(lb, body)
        lb.active_at = time.monotonic() + self.do.faults.action_delay
        if self.proxy is not None:
            try:
                lb.address = self.proxy.lb_create(lb.key)
            except Exception as exc:
                raise ApiError(500, "server_error", f"backend lb_create failed: {exc}") from exc
        self.items[lb.id] = lb
        self.sync()
        return Response(202, {"load_balancer": self.render(lb, fresh=True)})

    def get(self, request: Request) -> Response:
        return Response(200, {"load_balancer": self.render(self.lookup(request))})

    def update(self, request: Request) -> Response:
        lb = self.lookup(request)
        self._configure(lb, body_of(request))  # validates everything before changing anything
        self.sync()
        return Response(200, {"load_balancer": self.render(lb)})

    def delete(self, request: Request) -> Response:
        lb = self.lookup(request)
        del self.items[lb.id]
        if self.proxy is not None:
            with contextlib.suppress(Exception):
                self.proxy.lb_delete(lb.key)
        return Response(204)

    def _by_id_only(self, lb: LoadBalancer) -> None:
        if lb.tag is not None:
            raise bad(
                "droplet_ids",
                "droplet_ids: this load balancer selects droplets by tag; change the tag's "
                "droplets instead",
            )

    def add_droplets(self, request: Request) -> Response:
        lb = self.lookup(request)
        self._by_id_only(lb)
        body = body_of(request)
        ids = self._droplets(int_list(body, "droplet_ids"), lb.region)
        lb.droplet_ids += [i for i in ids if i not in lb.droplet_ids]
        self.sync()
        return Response(204)

    def remove_droplets(self, request: Request) -> Response:
        lb = self.lookup(request)
        self._by_id_only(lb)
        ids = set(int_list(body_of(request), "droplet_ids"))
        lb.droplet_ids = [i for i in lb.droplet_ids if i not in ids]
        self.sync()
        return Response(204)

    def add_rules(self, request: Request) -> Response:
        lb = self.lookup(request)
        rules = forwarding_rules(body_of(request))
        current = lb.config["forwarding_rules"]
        for rule in rules:
            if any(r["entry_port"] == rule["entry_port"] for r in current if r != rule):
                raise bad(
                    "forwarding_rules.entry_port",
                    f"entry_port {rule['entry_port']} is already used by another rule",
                )
            if rule not in current:
                current.append(rule)
        self.sync()
        return Response(204)

    def remove_rules(self, request: Request) -> Response:
        lb = self.lookup(request)
        rules = forwarding_rules(body_of(request))
        remaining = [r for r in lb.config["forwarding_rules"] if r not in rules]
        if not remaining:
            raise bad("forwarding_rules", "a load balancer needs at least one forwarding rule")
        lb.config["forwarding_rules"] = remaining
        self.sync()
        return Response(204)
