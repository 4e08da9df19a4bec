"""What Hetzner sells: locations, data centers, server types, system images, load balancer types.

The catalogues are built once and never change (``reset()`` keeps them); every response that
embeds one (a server's ``server_type``, ``location``, ``image``...) references these same
dicts, so rendering thousands of servers copies nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..core import JSON, Request, Response
from . import base

CATALOG_CREATED = "2024-01-01T00:00:00+00:00"
TB = 1024**4

# name, id, city, country, description, latitude, longitude, network zone, data center (id, name)
_LOCATIONS = [
    ("fsn1", 1, "Falkenstein", "DE", "Falkenstein DC Park 1", 50.47612, 12.370071,
     "eu-central", (4, "fsn1-dc14", "Falkenstein 1 virtual DC 14")),
    ("nbg1", 2, "Nuremberg", "DE", "Nuremberg DC Park 1", 49.452102, 11.076665,
     "eu-central", (2, "nbg1-dc3", "Nuremberg 1 virtual DC 3")),
    ("hel1", 3, "Helsinki", "FI", "Helsinki DC Park 1", 60.169855, 24.938379,
     "eu-central", (3, "hel1-dc2", "Helsinki 1 virtual DC 2")),
    ("ash", 4, "Ashburn, VA", "US", "Ashburn, VA", 39.045821, -77.487073,
     "us-east", (5, "ash-dc1", "Ashburn virtual DC 1")),
    ("hil", 5, "Hillsboro, OR", "US", "Hillsboro, OR", 45.54222, -122.951924,
     "us-west", (6, "hil-dc1", "Hillsboro virtual DC 1")),
    ("sin", 6, "Singapore", "SG", "Singapore", 1.283333, 103.833333,
     "ap-southeast", (7, "sin-dc1", "Singapore virtual DC 1")),
]  # fmt: skip
EU = ("fsn1", "nbg1", "hel1")
ALL = ("fsn1", "nbg1", "hel1", "ash", "hil", "sin")

# name, id, cores, memory GB, disk GB, cpu type, architecture, category, monthly net EUR, where
_SERVER_TYPES = [
    ("cx22", 104, 2, 4.0, 40, "shared", "x86", "Shared vCPU", "3.79", EU),
    ("cx32", 105, 4, 8.0, 80, "shared", "x86", "Shared vCPU", "6.80", EU),
    ("cx42", 106, 8, 16.0, 160, "shared", "x86", "Shared vCPU", "16.40", EU),
    ("cx23", 114, 2, 4.0, 40, "shared", "x86", "Shared vCPU", "2.99", EU),
    ("cx33", 115, 4, 8.0, 80, "shared", "x86", "Shared vCPU", "5.49", EU),
    ("cpx11", 22, 2, 2.0, 40, "shared", "x86", "Shared vCPU", "4.35", ALL),
    ("cpx21", 23, 3, 4.0, 80, "shared", "x86", "Shared vCPU", "7.55", ALL),
    ("cpx22", 116, 2, 4.0, 80, "shared", "x86", "Shared vCPU", "5.99", ALL),
    ("cpx32", 117, 4, 8.0, 160, "shared", "x86", "Shared vCPU", "10.49", ALL),
    ("cax11", 45, 2, 4.0, 40, "shared", "arm", "Shared vCPU", "3.79", EU),
    ("cax21", 93, 4, 8.0, 80, "shared", "arm", "Shared vCPU", "6.49", EU),
    ("ccx13", 96, 2, 8.0, 80, "dedicated", "x86", "Dedicated vCPU", "12.49", ALL),
]

# name, description, os flavor, os version, {architecture: id}, created
_IMAGES = [
    ("debian-11", "Debian 11", "debian", "11", {"x86": 45557056, "arm": 45557057},
     "2021-08-16T11:12:01+00:00", "2024-07-01T00:00:00+00:00"),
    ("debian-12", "Debian 12", "debian", "12", {"x86": 114690387, "arm": 114690389},
     "2023-06-13T06:00:02+00:00", None),
    ("debian-13", "Debian 13", "debian", "13", {"x86": 310557660, "arm": 310557661},
     "2025-08-12T06:00:02+00:00", None),
    ("ubuntu-22.04", "Ubuntu 22.04", "ubuntu", "22.04", {"x86": 67794396, "arm": 103908070},
     "2022-04-21T13:32:38+00:00", None),
    ("ubuntu-24.04", "Ubuntu 24.04", "ubuntu", "24.04", {"x86": 161547269, "arm": 161547270},
     "2024-04-25T13:26:27+00:00", None),
]  # fmt: skip

# name, id, max connections, services, targets, certificates, monthly net EUR
_LB_TYPES = [
    ("lb11", 1, 10000, 5, 25, 10, "5.39"),
    ("lb21", 2, 20000, 15, 75, 25, "16.40"),
    ("lb31", 3, 40000, 30, 150, 50, "32.90"),
]


def _money(net: Decimal) -> JSON:
    return {"net": f"{net:.10f}", "gross": f"{net * Decimal('1.19'):.10f}"}


def _prices(monthly: str, locations: tuple[str, ...]) -> list[JSON]:
    net = Decimal(monthly)
    return [
        {
            "location": loc,
            "price_hourly": _money((net / 720).quantize(Decimal("0.0001"))),
            "price_monthly": _money(net),
            "included_traffic": (20 if loc in EU else 1) * TB,
            "price_per_tb_traffic": _money(Decimal("1.00") if loc in EU else Decimal("7.20")),
        }
        for loc in locations
    ]


@dataclass
class Entry:
    """One catalogue item: what list filters look at, and the JSON that is answered."""

    id: int
    name: str
    json: JSON
    labels: Any = None
    created: str = CATALOG_CREATED


class Catalog:
    def __init__(self) -> None:
        self.locations: dict[str, Entry] = {}
        self.datacenters: dict[str, Entry] = {}
        self.datacenter_of: dict[str, Entry] = {}  # location name -> its data center
        for name, lid, city, country, desc, lat, lon, zone, (dc_id, dc_name, dc_desc) in _LOCATIONS:
            loc = {
                "id": lid, "name": name, "description": desc, "country": country,
                "city": city, "latitude": lat, "longitude": lon, "network_zone": zone,
            }  # fmt: skip
            self.locations[name] = Entry(lid, name, loc, {})
            dc = {"id": dc_id, "name": dc_name, "description": dc_desc, "location": loc}
            self.datacenters[dc_name] = self.datacenter_of[name] = Entry(dc_id, dc_name, dc, {})

        self.server_types: dict[str, Entry] = {}
        for name, tid, cores, memory, disk, cpu, arch, category, price, where in _SERVER_TYPES:
            st = {
                "id": tid, "name": name, "description": name.upper(), "cores": cores,
                "memory": memory, "disk": disk, "cpu_type": cpu, "architecture": arch,
                "storage_type": "local", "category": category, "deprecated": False,
                "deprecation": None, "prices": _prices(price, where),
                # available / recommended: newer than the spec file, read by hcloud >= 2.26
                "locations": [
                    {"id": self.locations[loc].id, "name": loc, "deprecation": None,
                     "available": True, "recommended": True}
                    for loc in where
                ],
            }  # fmt: skip
            self.server_types[name] = Entry(tid, name, st, {})
        for loc_name, dc in self.datacenter_of.items():
            ids = [
                st.id
                for st in self.server_types.values()
                if any(x["name"] == loc_name for x in st.json["locations"])
            ]
            dc.json["server_types"] = {
                "supported": ids,
                "available": ids,
                "available_for_migration": ids,
            }

        self.images: list[Entry] = []
        for name, desc, flavor, version, ids, created, deprecated in _IMAGES:
            for arch, iid in ids.items():
                image = {
                    "id": iid, "name": name, "description": desc, "type": "system",
                    "status": "available", "image_size": None, "disk_size": 5,
                    "created": created, "created_from": None, "bound_to": None,
                    "os_flavor": flavor, "os_version": version, "rapid_deploy": True,
                    "protection": {"delete": False}, "deprecated": deprecated,
                    "deleted": None, "labels": {}, "architecture": arch,
                }  # fmt: skip
                self.images.append(Entry(iid, name, image, image["labels"], created))
        self.images.sort(key=lambda e: e.id)

        self.lb_types: dict[str, Entry] = {}
        for name, lid, conns, services, targets, certs, price in _LB_TYPES:
            lbt = {
                "id": lid, "name": name, "description": name.upper(),
                "max_connections": conns, "max_services": services, "max_targets": targets,
                "max_assigned_certificates": certs, "deprecated": None,
                "prices": _prices(price, ALL),
            }  # fmt: skip
            self.lb_types[name] = Entry(lid, name, lbt, {})

    # --- look-ups by "ID or name" -----------------------------------------------------------

    @staticmethod
    def _find(entries, value: Any) -> Entry | None:
        key = base.ref(value)
        for entry in entries:
            if key in (entry.id, entry.name):
                return entry
        return None

    def location(self, value: Any) -> Entry | None:
        return self._find(self.locations.values(), value)

    def datacenter(self, value: Any) -> Entry | None:
        return self._find(self.datacenters.values(), value)

    def server_type(self, value: Any) -> Entry | None:
        return self._find(self.server_types.values(), value)

    def lb_type(self, value: Any) -> Entry | None:
        return self._find(self.lb_types.values(), value)

    def image(self, value: Any, architecture: str | None = None) -> Entry | None:
        key = base.ref(value)
        for entry in self.images:
            if entry.id == key:
                return entry
        for entry in self.images:
            if entry.name == key and architecture in (None, entry.json["architecture"]):
                return entry
        return None

    @staticmethod
    def sold_in(server_type: Entry, location: str) -> bool:
        return any(x["name"] == location for x in server_type.json["locations"])

    # --- routes -----------------------------------------------------------------------------

    def register(self, router) -> None:
        simple = [
            ("locations", "location", self.locations, base.BY_ID_NAME),
            ("datacenters", "datacenter", self.datacenters, base.BY_ID_NAME),
            ("server_types", "server_type", self.server_types, base.BY_ID),
            ("load_balancer_types", "load_balancer_type", self.lb_types, base.BY_ID),
        ]
        for collection, single, entries, sorts in simple:
            router.add("GET", f"/{collection}", self._lister(collection, entries, sorts))
            router.add("GET", f"/{collection}/{{id}}", self._getter(single, entries))
        router.add("GET", "/images", self.list_images)
        router.add("GET", "/images/{id}", self.get_image)

    def _lister(self, collection: str, entries: dict[str, Entry], sorts):
        def handler(req: Request) -> Response:
            items = base.sort_items(req, base.filter_common(req, list(entries.values())), sorts)
            extra = {}
            if collection == "datacenters":
                extra["recommendation"] = self.datacenter_of["fsn1"].id
            return base.page(req, items, collection, lambda e: e.json, **extra)

        return handler

    @staticmethod
    def _getter(single: str, entries: dict[str, Entry]):
        def handler(req: Request) -> Response:
            wanted = base.path_id(req, single.replace("_", " "))
            for entry in entries.values():
                if entry.id == wanted:
                    return Response(200, {single: entry.json})
            raise base.not_found(single.replace("_", " "))

        return handler

    def list_images(self, req: Request) -> Response:
        items = base.filter_common(req, self.images)
        types = req.query.get("type")
        if types:
            items = [e for e in items if e.json["type"] in types]
        statuses = req.query.get("status")
        if statuses:
            items = [e for e in items if e.json["status"] in statuses]
        arch = req.arg("architecture")
        if arch:
            items = [e for e in items if e.json["architecture"] == arch]
        if req.query.get("bound_to"):
            items = []  # system images are bound to no server
        if req.arg("include_deprecated", "false") != "true":
            items = [e for e in items if e.json["deprecated"] is None]
        items = base.sort_items(req, items, base.BY_ID_NAME_CREATED)
        return base.page(req, items, "images", lambda e: e.json)

    def get_image(self, req: Request) -> Response:
        wanted = base.path_id(req, "image")
        for entry in self.images:
            if entry.id == wanted:
                return Response(200, {"image": entry.json})
        raise base.not_found("image")
