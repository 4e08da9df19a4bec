"""Tags: created explicitly or on first use, applied to droplets, counted per resource type.

Tag names are "case stable" as on DigitalOcean: the spelling used first is canonical and
later spellings that differ only in case refer to the same tag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core import ApiError, Request, Response, Router
from .common import (
    JSON,
    TAG_RE,
    base_url,
    body_of,
    missing,
    paginate,
    path_param,
    unprocessable,
)

if TYPE_CHECKING:
    from .droplets import Droplet
    from .vendor import DigitalOcean

TAG_RULE = "tag names may contain letters, numbers, colons, dashes and underscores (max 255)"


def bad_tag(field_name: str, name: object) -> ApiError:
    """An invalid tag name. POST /tags documents a 400 with ``error``/``root_causes``."""
    message = f"{field_name}: invalid tag name {name!r}: {TAG_RULE}"
    return ApiError(400, "bad_request", message, {"root_causes": [message]})


def valid_tag(name: object) -> bool:
    return isinstance(name, str) and len(name) <= 255 and bool(TAG_RE.match(name))


class Tags:
    def __init__(self, do: DigitalOcean) -> None:
        self.do = do
        self.names: dict[str, str] = {}  # lower-case key -> canonical name
        self.members: dict[str, dict[int, None]] = {}  # key -> droplet ids (ordered set)
        self.last_tagged: dict[str, int] = {}

    def reset(self) -> None:
        self.names.clear()
        self.members.clear()
        self.last_tagged.clear()

    def routes(self, router: Router) -> None:
        router.add("GET", "/tags", self.list)
        router.add("POST", "/tags", self.create)
        router.add("GET", "/tags/{tag}", self.get)
        router.add("DELETE", "/tags/{tag}", self.delete)
        router.add("POST", "/tags/{tag}/resources", self.tag_resources)
        router.add("DELETE", "/tags/{tag}/resources", self.untag_resources)

    # -- used by the other resources ----------------------------------------------------
    def canonical(self, name: str) -> str | None:
        return self.names.get(name.lower())

    def ensure(self, name: str, field_name: str = "tags") -> str:
        """The canonical spelling of a tag, creating it on first use; 422 when invalid."""
        if not valid_tag(name):
            raise unprocessable(field_name, f"{field_name}: invalid tag name {name!r}: {TAG_RULE}")
        key = name.lower()
        if key not in self.names:
            self.names[key] = name
            self.members[key] = {}
        return self.names[key]

    def tag_droplet(self, droplet: Droplet, name: str) -> None:
        canonical = self.ensure(name)
        key = canonical.lower()
        if key not in droplet.tag_keys:
            droplet.tags.append(canonical)
            droplet.tag_keys.add(key)
        self.members[key][droplet.id] = None
        self.last_tagged[key] = droplet.id

    def untag_droplet(self, droplet: Droplet, name: str) -> None:
        key = name.lower()
        if key in droplet.tag_keys:
            droplet.tag_keys.discard(key)
            droplet.tags = [t for t in droplet.tags if t.lower() != key]
        self.members.get(key, {}).pop(droplet.id, None)
        if self.last_tagged.get(key) == droplet.id:
            remaining = self.members.get(key) or {}
            if remaining:
                self.last_tagged[key] = next(reversed(remaining))
            else:
                self.last_tagged.pop(key, None)

    def forget_droplet(self, droplet: Droplet) -> None:
        for name in list(droplet.tags):
            self.untag_droplet(droplet, name)

    # -- API ------------------------------------------------------------------------------
    def render(self, request: Request, key: str) -> JSON:
        count = len(self.members.get(key, {}))
        droplets: JSON = {"count": count}
        resources: JSON = {"count": count}
        last = self.last_tagged.get(key)
        if last is not None:
            uri = f"{base_url(request)}/droplets/{last}"
            droplets["last_tagged_uri"] = uri
            resources["last_tagged_uri"] = uri
        resources.update(
            droplets=droplets,
            images={"count": 0},
            volumes={"count": 0},
            volume_snapshots={"count": 0},
            databases={"count": 0},
        )
        return {"name": self.names[key], "resources": resources}

    def lookup(self, request: Request) -> str:
        key = path_param(request, "tag").lower()
        if key not in self.names:
            raise missing("tag")
        return key

    def list(self, request: Request) -> Response:
        keys = list(self.names)
        return Response(200, paginate(request, "tags", keys, lambda k: self.render(request, k)))

    def create(self, request: Request) -> Response:
        body = body_of(request)
        name = body.get("name")
        if not valid_tag(name):
            raise bad_tag("name", name)
        canonical = self.ensure(name, "name")
        return Response(201, {"tag": self.render(request, canonical.lower())})

    def get(self, request: Request) -> Response:
        return Response(200, {"tag": self.render(request, self.lookup(request))})

    def delete(self, request: Request) -> Response:
        key = self.lookup(request)
        for droplet_id in list(self.members.get(key, {})):
            droplet = self.do.droplets.items.get(droplet_id)
            if droplet is not None:
                self.untag_droplet(droplet, key)
        self.do.firewalls.forget_tag(key)
        del self.names[key]
        self.members.pop(key, None)
        self.last_tagged.pop(key, None)
        return Response(204)

    def _resources(self, request: Request) -> list[Droplet]:
        body = body_of(request)
        resources = body.get("resources")
        if not isinstance(resources, list) or not resources:
            raise unprocessable("resources", "resources must be a non-empty array")
        droplets = []
        for item in resources:
            if not isinstance(item, dict):
                raise unprocessable("resources", "each resource must be an object")
            kind = item.get("resource_type")
            if kind != "droplet":
                raise unprocessable(
                    "resources.resource_type",
                    f"resource_type {kind!r} is not supported by the simulator (droplet only)",
                )
            raw = item.get("resource_id")
            try:
                droplet_id = int(raw)
            except (TypeError, ValueError) as exc:
                message = f"invalid resource_id {raw!r}"
                raise unprocessable("resources.resource_id", message) from exc
            droplet = self.do.droplets.items.get(droplet_id)
            if droplet is None:
                raise missing("droplet")
            droplets.append(droplet)
        return droplets

    def tag_resources(self, request: Request) -> Response:
        key = self.lookup(request)
        for droplet in self._resources(request):
            self.tag_droplet(droplet, self.names[key])
        return Response(204)

    def untag_resources(self, request: Request) -> Response:
        key = self.lookup(request)
        for droplet in self._resources(request):
            self.untag_droplet(droplet, key)
        return Response(204)
