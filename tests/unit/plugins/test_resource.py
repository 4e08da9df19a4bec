"""The flow every resource module's main() runs (run_resource), and its _info twin (run_info):
what reaches exit_json, and how an API error becomes fail_json with a structured failure."""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import (
    Resource,
    reader,
    run_info,
    run_resource,
)
from tests.unit.plugins.fakes import Exited, Failed, FakeClock, FakeModule

CONFLICT = ApiError("Hetzner", 409, "uniqueness_error", "name is already used", "name")


class FakeClient:
    """Just enough of a client: one stored thing, or an error on every call."""

    def __init__(self, stored=None, error=None):
        self.clock = FakeClock()
        self.stored = stored
        self.error = error
        self.calls = []

    @classmethod
    def from_module(cls, module):
        return module.client

    def find(self, collection, ident=None, name=None):
        self.calls.append(("find", collection, ident, name))
        if self.error:
            raise self.error
        return self.stored

    def select(self, collection, ident=None, name=None, **filters):
        self.calls.append(("select", collection, ident, name, filters))
        if self.error:
            raise self.error
        return [self.stored] if self.stored else []

    def item_path(self, collection, ident):
        return f"/{collection}/{ident}"


class Thing(Resource):
    client_class = FakeClient
    collection = "things"
    represent = "thing"
    managed = ("name", "size")

    def shape(self, resource):
        return {"id": resource.get("id"), "name": resource["name"], "size": resource["size"]}

    def present(self):
        if self.resource is None:
            self.check_create("name", "size")
            self.mark_changed()
            self.resource = {"id": None, "name": self.params["name"], "size": self.params["size"]}

    def absent(self):
        if self.resource is not None:
            self.mark_changed()
            self.resource = None


def module(client, check_mode=True, **params):
    fake = FakeModule(dict({"id": None, "name": "a", "size": 1, "state": "present"}, **params))
    fake.check_mode = check_mode
    fake.client = client
    return fake


def test_run_resource_exits_with_the_result_and_the_diff():
    client = FakeClient()
    with pytest.raises(Exited) as exited:
        run_resource(module(client), Thing)
    assert exited.value.result == {
        "changed": True,
        "thing": {"id": None, "name": "a", "size": 1},
        "diff": {"before": {}, "after": {"name": "a", "size": 1}},
    }
    assert client.calls == [("find", "things", None, "a")]


def test_run_resource_chooses_by_state():
    client = FakeClient(stored={"id": 4, "name": "a", "size": 1})
    with pytest.raises(Exited) as exited:
        run_resource(module(client, state="absent"), Thing)
    assert exited.value.result == {
        "changed": True,
        "thing": {},
        "diff": {"before": {"name": "a", "size": 1}, "after": {}},
    }


def test_run_resource_turns_an_api_error_into_a_structured_failure():
    with pytest.raises(Failed) as failed:
        run_resource(module(FakeClient(error=CONFLICT)), Thing)
    assert failed.value.result == {
        "msg": "Hetzner API error 'uniqueness_error' (HTTP 409) for field 'name': "
        "name is already used",
        "failure": {
            "vendor": "Hetzner",
            "status": 409,
            "code": "uniqueness_error",
            "message": "name is already used",
            "field": "name",
        },
    }


def test_check_create_names_what_is_missing():
    with pytest.raises(Failed) as failed:
        run_resource(module(FakeClient(), name=None, size=None), Thing)
    assert failed.value.result == {"msg": "name and size required to create a thing"}
    with pytest.raises(Failed) as failed:
        run_resource(module(FakeClient(), id=9), Thing)
    assert failed.value.result == {"msg": "thing with id 9 not found (give a name to create one)"}


def test_path_is_the_clients_path_of_the_resource():
    thing = Thing(module(FakeClient()))
    thing.resource = {"id": 12}
    assert thing.path() == "/things/12"
    assert thing.path("/actions/poweron") == "/things/12/actions/poweron"


def test_run_info_reads_and_exits_unchanged():
    client = FakeClient(stored={"id": 3, "name": "a", "size": 2})
    read = reader("things", lambda t: {"name": t["name"]}, "label_selector")
    with pytest.raises(Exited) as exited:
        run_info(module(client, label_selector="x=y"), FakeClient, "thing_info", read)
    assert exited.value.result == {"changed": False, "thing_info": [{"name": "a"}]}
    assert client.calls == [("select", "things", None, "a", {"label_selector": "x=y"})]


def test_run_info_turns_an_api_error_into_a_structured_failure():
    read = reader("things", dict)
    with pytest.raises(Failed) as failed:
        run_info(module(FakeClient(error=CONFLICT)), FakeClient, "thing_info", read)
    assert failed.value.result["failure"]["code"] == "uniqueness_error"


# --- one exception type, one fail_json ----------------------------------------------------------
class Recording(FakeModule):
    """A module that counts its fail_json calls (each still ends the run, as Ansible's does)."""

    def __init__(self, params):
        super().__init__(params)
        self.failures = []

    def fail_json(self, **result):
        self.failures.append(result)
        super().fail_json(**result)


def test_a_refusal_is_its_message_alone_without_a_failure():
    err = ApiError.refusal("image is required for state=rebuilt")
    assert (str(err), err.failure(), err.vendor, err.status) == (
        "image is required for state=rebuilt",
        None,
        None,
        None,
    )


def test_check_create_raises_a_refusal_and_leaves_fail_json_to_finish():
    fake = Recording({"id": None, "name": None, "size": None, "state": "present"})
    fake.client = FakeClient()
    with pytest.raises(ApiError) as caught:
        Thing(fake).check_create("name", "size")
    assert str(caught.value) == "name and size required to create a thing"
    assert fake.failures == []


def test_a_refusal_in_check_create_ends_in_one_fail_json_with_only_its_message():
    fake = Recording({"id": 9, "name": "a", "size": 1, "state": "present"})
    fake.client = FakeClient()
    with pytest.raises(Failed):
        run_resource(fake, Thing)
    assert fake.failures == [{"msg": "thing with id 9 not found (give a name to create one)"}]


class Unbuildable(FakeClient):
    @classmethod
    def from_module(cls, module):
        raise CONFLICT


def test_an_api_error_while_building_the_client_is_a_structured_failure_too():
    class Other(Thing):
        client_class = Unbuildable

    fake = Recording({"id": None, "name": "a", "size": 1, "state": "present"})
    with pytest.raises(Failed):
        run_resource(fake, Other)
    with pytest.raises(Failed):
        run_info(fake, Unbuildable, "thing_info", reader("things", dict))
    assert [f["failure"]["code"] for f in fake.failures] == ["uniqueness_error"] * 2
