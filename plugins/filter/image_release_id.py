# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter image_release_id (documented in image_release_id.yml): the release id of a deploy of
an image, plugins/module_utils/deploy/release.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.release import (
    image_release_id as release_id_of,
)


def image_release_id(image, given="") -> str:
    if not isinstance(image, str):
        raise AnsibleFilterError(
            f"image_release_id: _input must be an image reference (a string), not {image!r}"
        )
    return release_id_of(image, "" if given is None else str(given))


class FilterModule:
    def filters(self) -> dict:
        return {"image_release_id": image_release_id}
