"""SSH keys: ``/account/keys``, addressed by id or by fingerprint."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core import Request, Response, Router
from .common import JSON, body_of, missing, paginate, path_param, unprocessable

if TYPE_CHECKING:
    from .vendor import DigitalOcean

KEY_TYPES = (
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
INVALID_KEY = "Key invalid, key should be of the format `type key [comment]`"
IN_USE = "SSH Key is already in use on your account"


@dataclass
class SshKey:
    id: int
    name: str
    public_key: str
    fingerprint: str

    def json(self) -> JSON:
        return {
            "id": self.id,
            "fingerprint": self.fingerprint,
            "public_key": self.public_key,
            "name": self.name,
        }


def fingerprint(public_key: str) -> str:
    """The MD5 fingerprint DigitalOcean shows (colon hex), or 422 for a malformed key.

    The blob must be base64 and start with its own type name (SSH wire format), as a key
    written by ssh-keygen does.
    """
    parts = public_key.strip().split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise unprocessable("public_key", INVALID_KEY)
    try:
        blob = base64.b64decode(parts[1], validate=True)
        (length,) = struct.unpack(">I", blob[:4])
        key_type = blob[4 : 4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError) as exc:
        raise unprocessable("public_key", INVALID_KEY) from exc
    if key_type != parts[0]:
        raise unprocessable("public_key", INVALID_KEY)
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


class Keys:
    def __init__(self, do: DigitalOcean) -> None:
        self.do = do
        self.by_id: dict[int, SshKey] = {}
        self.by_fingerprint: dict[str, SshKey] = {}

    def reset(self) -> None:
        self.by_id.clear()
        self.by_fingerprint.clear()

    def routes(self, router: Router) -> None:
        router.add("GET", "/account/keys", self.list)
        router.add("POST", "/account/keys", self.create)
        router.add("GET", "/account/keys/{ref}", self.get)
        router.add("PUT", "/account/keys/{ref}", self.update)
        router.add("DELETE", "/account/keys/{ref}", self.delete)

    def find(self, ref: object) -> SshKey | None:
        """A key by id (int or digits) or fingerprint."""
        if isinstance(ref, bool):
            return None
        if isinstance(ref, int):
            return self.by_id.get(ref)
        if isinstance(ref, str):
            if ref.isdigit():
                return self.by_id.get(int(ref))
            return self.by_fingerprint.get(ref.lower())
        return None

    def lookup(self, request: Request) -> SshKey:
        key = self.find(path_param(request, "ref"))
        if key is None:
            raise missing("ssh_key")
        return key

    def list(self, request: Request) -> Response:
        keys = [k.json() for k in self.by_id.values()]
        return Response(200, paginate(request, "ssh_keys", keys))

    def create(self, request: Request) -> Response:
        body = body_of(request)
        name = body.get("name")
        public_key = body.get("public_key")
        if not isinstance(name, str) or not name.strip():
            raise unprocessable("name", "name is required")
        if not isinstance(public_key, str) or not public_key.strip():
            raise unprocessable("public_key", "public_key is required")
        fp = fingerprint(public_key)
        if fp in self.by_fingerprint:
            raise unprocessable("public_key", IN_USE)
        key = SshKey(self.do.ids.next("ssh_key"), name, public_key.strip(), fp)
        self.by_id[key.id] = key
        self.by_fingerprint[fp] = key
        return Response(201, {"ssh_key": key.json()})

    def get(self, request: Request) -> Response:
        return Response(200, {"ssh_key": self.lookup(request).json()})

    def update(self, request: Request) -> Response:
        key = self.lookup(request)
        body = body_of(request)
        name = body.get("name")
        if name is not None:
            if not isinstance(name, str) or not name.strip():
                raise unprocessable("name", "name must be a non-empty string")
            key.name = name
        return Response(200, {"ssh_key": key.json()})

    def delete(self, request: Request) -> Response:
        key = self.lookup(request)
        del self.by_id[key.id]
        del self.by_fingerprint[key.fingerprint]
        return Response(204)
