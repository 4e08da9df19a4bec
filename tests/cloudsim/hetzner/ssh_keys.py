"""``/ssh_keys``: create, list, get, update (name, labels), delete.

Names and fingerprints are unique per project; the fingerprint is the MD5 of the key blob
(the base64 part of the public key), in colon separated hex, as Hetzner shows it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass, field

from ..core import JSON, Request, Response, now_iso
from . import base

KEY_TYPES = {
    "ssh-rsa", "ssh-dss", "ssh-ed25519", "ssh-ed448",
    "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
}  # fmt: skip


def fingerprint(public_key: str) -> str:
    """MD5 fingerprint of an OpenSSH public key line; invalid_input if it is not one."""
    parts = public_key.split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise base.bad_field("public_key", "invalid public key")
    try:
        blob = base64.b64decode(parts[1], validate=True)
        (length,) = struct.unpack(">I", blob[:4])
        kind = blob[4 : 4 + length].decode()
    except (binascii.Error, struct.error, UnicodeDecodeError) as exc:
        raise base.bad_field("public_key", "invalid public key") from exc
    if kind != parts[0]:
        raise base.bad_field("public_key", "invalid public key")
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


@dataclass
class SshKey:
    id: int
    name: str
    public_key: str
    fingerprint: str
    labels: dict[str, str] = field(default_factory=dict)
    created: str = field(default_factory=now_iso)

    def json(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "fingerprint": self.fingerprint,
            "public_key": self.public_key,
            "labels": self.labels,
            "created": self.created,
        }


class SshKeys:
    def __init__(self, vendor) -> None:
        self.vendor = vendor
        self.items: dict[int, SshKey] = {}

    def reset(self) -> None:
        self.items.clear()

    def find(self, value) -> SshKey | None:
        """By id (int or digit string) or name."""
        key = base.ref(value)
        if isinstance(key, int):
            return self.items.get(key)
        for item in self.items.values():
            if item.name == key:
                return item
        return None

    def get(self, req: Request) -> SshKey:
        item = self.items.get(base.path_id(req, "SSH key"))
        if item is None:
            raise base.not_found("SSH key")
        return item

    def register(self, router) -> None:
        router.add("GET", "/ssh_keys", self.list)
        router.add("POST", "/ssh_keys", self.create)
        router.add("GET", "/ssh_keys/{id}", lambda req: self._one(self.get(req), 200))
        router.add("PUT", "/ssh_keys/{id}", self.update)
        router.add("DELETE", "/ssh_keys/{id}", self.delete)

    @staticmethod
    def _one(item: SshKey, status: int) -> Response:
        return Response(status, {"ssh_key": item.json()})

    def list(self, req: Request) -> Response:
        items = base.filter_common(req, list(self.items.values()))
        wanted = req.arg("fingerprint")
        if wanted:
            items = [k for k in items if k.fingerprint == wanted]
        items = base.sort_items(req, items, base.BY_ID_NAME)
        return base.page(req, items, "ssh_keys", SshKey.json)

    def _check_name(self, name: str, own_id: int | None = None) -> None:
        if any(k.name == name and k.id != own_id for k in self.items.values()):
            raise base.name_taken("name", "SSH key with the same name already exists")

    def create(self, req: Request) -> Response:
        data = base.body(req)
        name = base.need_str(data, "name", max_len=128)
        public_key = base.need_str(data, "public_key").strip()
        labels = base.labels(data)
        print_ = fingerprint(public_key)
        self._check_name(name)
        if any(k.fingerprint == print_ for k in self.items.values()):
            raise base.name_taken("public_key", "SSH key with the same fingerprint already exists")
        item = SshKey(self.vendor.ids.next("ssh_key"), name, public_key, print_, labels)
        self.items[item.id] = item
        return self._one(item, 201)

    def update(self, req: Request) -> Response:
        item = self.get(req)
        data = base.body(req)
        name = base.need_str(data, "name", required=False, max_len=128)
        new_labels = base.labels(data, current=item.labels)
        if name is not None:
            self._check_name(name, item.id)
            item.name = name
        item.labels = new_labels
        return self._one(item, 200)

    def delete(self, req: Request) -> Response:
        item = self.get(req)
        del self.items[item.id]
        return Response(204)
