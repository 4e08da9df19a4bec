"""The fixed catalogues: regions, sizes, images (distribution and application images).

Values follow DigitalOcean's published ones (slugs, memory, disks, prices); every size and
image is offered in every simulated region. ``reset()`` never touches these.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..core import Request, Response, Router
from .common import JSON, missing, paginate, path_param

REGION_FEATURES = ["backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"]

REGIONS: dict[str, str] = {
    "nyc3": "New York 3",
    "ams3": "Amsterdam 3",
    "sfo3": "San Francisco 3",
    "sgp1": "Singapore 1",
    "lon1": "London 1",
    "fra1": "Frankfurt 1",
}
DEFAULT_REGION = "nyc3"


@dataclass(frozen=True)
class Size:
    slug: str
    memory: int  # MiB
    vcpus: int
    disk: int  # GiB
    transfer: float  # TiB
    price_monthly: float
    price_hourly: float
    description: str


SIZES: dict[str, Size] = {
    s.slug: s
    for s in (
        Size("s-1vcpu-512mb-10gb", 512, 1, 10, 0.5, 4.0, 0.00595, "Basic"),
        Size("s-1vcpu-1gb", 1024, 1, 25, 1.0, 6.0, 0.00893, "Basic"),
        Size("s-1vcpu-2gb", 2048, 1, 50, 2.0, 12.0, 0.01786, "Basic"),
        Size("s-2vcpu-2gb", 2048, 2, 60, 3.0, 18.0, 0.02679, "Basic"),
        Size("s-2vcpu-4gb", 4096, 2, 80, 4.0, 24.0, 0.03571, "Basic"),
        Size("s-4vcpu-8gb", 8192, 4, 160, 5.0, 48.0, 0.07143, "Basic"),
        Size("s-8vcpu-16gb", 16384, 8, 320, 6.0, 96.0, 0.14286, "Basic"),
        Size("c-2", 4096, 2, 25, 4.0, 42.0, 0.0625, "CPU-Optimized"),
        Size("g-2vcpu-8gb", 8192, 2, 25, 4.0, 63.0, 0.09375, "General Purpose"),
    )
}


@dataclass(frozen=True)
class Image:
    id: int
    slug: str
    name: str
    distribution: str
    min_disk_size: int
    size_gigabytes: float
    description: str
    application: bool = False
    created_at: str = "2024-06-10T16:41:52Z"


IMAGES: dict[int, Image] = {
    i.id: i
    for i in (
        Image(160_000_101, "debian-12-x64", "12 x64", "Debian", 15, 0.97, "Debian 12 x64"),
        Image(160_000_102, "debian-11-x64", "11 x64", "Debian", 15, 0.87, "Debian 11 x64"),
        Image(
            160_000_103,
            "ubuntu-24-04-x64",
            "24.04 (LTS) x64",
            "Ubuntu",
            15,
            2.34,
            "Ubuntu 24.04 (LTS) x64",
        ),
        Image(
            160_000_104,
            "ubuntu-22-04-x64",
            "22.04 (LTS) x64",
            "Ubuntu",
            15,
            2.05,
            "Ubuntu 22.04 (LTS) x64",
        ),
        Image(160_000_105, "rockylinux-9-x64", "9 x64", "Rocky Linux", 15, 1.12, "Rocky 9 x64"),
        Image(160_000_106, "fedora-40-x64", "40 x64", "Fedora", 15, 1.45, "Fedora 40 x64"),
        Image(
            160_000_201,
            "docker-20-04",
            "Docker 25.0.3 on Ubuntu 22.04",
            "Ubuntu",
            25,
            4.31,
            "Docker on Ubuntu 22.04",
            application=True,
        ),
    )
}
IMAGES_BY_SLUG: dict[str, Image] = {i.slug: i for i in IMAGES.values()}


def region_json(slug: str) -> JSON:
    return {
        "name": REGIONS[slug],
        "slug": slug,
        "features": list(REGION_FEATURES),
        "available": True,
        "sizes": list(SIZES),
    }


def size_json(size: Size) -> JSON:
    return {
        "slug": size.slug,
        "memory": size.memory,
        "vcpus": size.vcpus,
        "disk": size.disk,
        "transfer": size.transfer,
        "price_monthly": size.price_monthly,
        "price_hourly": size.price_hourly,
        "regions": list(REGIONS),
        "available": True,
        "description": size.description,
        "disk_info": [{"type": "local", "size": {"amount": size.disk, "unit": "gib"}}],
    }


def image_json(image: Image) -> JSON:
    return {
        "id": image.id,
        "name": image.name,
        "distribution": image.distribution,
        "slug": image.slug,
        "public": True,
        "regions": list(REGIONS),
        "created_at": image.created_at,
        "type": "base",
        "min_disk_size": image.min_disk_size,
        "size_gigabytes": image.size_gigabytes,
        "description": image.description,
        "tags": [],
        "status": "available",
        "error_message": "",
    }


def find_image(ref: object) -> Image | None:
    """An image by id (int or digits) or slug."""
    if isinstance(ref, bool):
        return None
    if isinstance(ref, int):
        return IMAGES.get(ref)
    if isinstance(ref, str):
        if ref.isdigit():
            return IMAGES.get(int(ref))
        return IMAGES_BY_SLUG.get(ref)
    return None


def default_vpc(region: str) -> str:
    """Each region's default VPC, a stable UUID."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cloudsim:digitalocean:vpc:{region}"))


class Catalog:
    """Routes for /regions, /sizes, /images."""

    def __init__(self) -> None:
        self._regions = [region_json(slug) for slug in REGIONS]
        self._sizes = [size_json(s) for s in SIZES.values()]

    def routes(self, router: Router) -> None:
        router.add("GET", "/regions", self.list_regions)
        router.add("GET", "/sizes", self.list_sizes)
        router.add("GET", "/images", self.list_images)
        router.add("GET", "/images/{image_id}", self.get_image)

    def list_regions(self, request: Request) -> Response:
        return Response(200, paginate(request, "regions", self._regions))

    def list_sizes(self, request: Request) -> Response:
        return Response(200, paginate(request, "sizes", self._sizes))

    def list_images(self, request: Request) -> Response:
        kind = request.arg("type")
        private = (request.arg("private") or "").lower() == "true"
        tag = request.arg("tag_name")
        images = list(IMAGES.values())
        if private or tag:
            images = []  # no user images (snapshots, custom images) in the simulator
        if kind == "distribution":
            images = [i for i in images if not i.application]
        elif kind == "application":
            images = [i for i in images if i.application]
        return Response(200, paginate(request, "images", images, image_json))

    def get_image(self, request: Request) -> Response:
        image = find_image(path_param(request, "image_id"))
        if image is None:
            raise missing("image")
        return Response(200, {"image": image_json(image)})
