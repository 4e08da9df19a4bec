"""FlyClient against the Fly simulator (HTTPS, its own CA): the token schemes, the lease nonce
on changes, /wait, faults retried, and the request count."""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError, RetryPolicy
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import FlyClient

CONFIG = {"image": "registry.fly.io/shop:r1"}


def client(sim, token=None) -> FlyClient:
    return FlyClient(
        sim.url + "/fly",
        token or sim.token,
        ca_path=sim.ca_path,
        retry=RetryPolicy(retries=3, total=10, base=0.05, cap=0.2),
    )


@pytest.mark.parametrize("scheme", ["", "FlyV1 "])
def test_either_token_scheme_is_accepted(sim, scheme):
    api = client(sim, token=scheme + sim.token)
    api.create_app("shop", "personal")
    assert [a["name"] for a in api.list_apps("personal")] == ["shop"]


def test_changes_under_a_lease_need_its_nonce(sim):
    api = client(sim)
    api.create_app("shop", "personal")
    made = api.create_machine("shop", {"name": "web", "region": "ams", "config": CONFIG})
    mid = made["id"]
    api.wait_machine("shop", mid, "started", made.get("instance_id"), timeout_s=10)
    nonce = api.acquire_lease("shop", mid, ttl_s=60, description="test")
    with pytest.raises(ApiError) as without:
        api.stop_machine("shop", mid)
    with pytest.raises(ApiError) as wrong:
        api.stop_machine("shop", mid, nonce="not-the-nonce")
    assert (without.value.status, wrong.value.status) == (409, 412)
    api.stop_machine("shop", mid, timeout=5, nonce=nonce)
    api.wait_machine("shop", mid, "stopped", timeout_s=10)
    api.release_lease("shop", mid, nonce)
    api.delete_machine("shop", mid)
    assert api.list_machines("shop") == []
    assert [m["id"] for m in api.list_machines("shop", include_deleted=True)] == [mid]


def test_throttling_is_retried_and_every_request_counted(sim):
    api = client(sim)
    sim.faults(rate_limit_next=2, retry_after=0)
    assert api.list_apps("personal") == []
    assert api.api_calls == 3
