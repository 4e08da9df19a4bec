"""The /notes routes: create, read, list, delete, and what they refuse."""

from __future__ import annotations

from datetime import datetime

import pytest
from starlette.testclient import TestClient


def create(client: TestClient, title: str, body: str = "") -> dict:
    response = client.post("/notes", json={"title": title, "body": body})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_returns_the_note(client: TestClient) -> None:
    note = create(client, "  Groceries ", "milk, eggs")

    assert set(note) == {"id", "title", "body", "created_at"}
    assert note["title"] == "Groceries"
    assert note["body"] == "milk, eggs"
    assert datetime.fromisoformat(note["created_at"]).tzinfo is not None


def test_body_defaults_to_empty(client: TestClient) -> None:
    assert create(client, "Just a title")["body"] == ""


def test_get_returns_what_was_created(client: TestClient) -> None:
    note = create(client, "Read me", "text")

    response = client.get(f"/notes/{note['id']}")

    assert response.status_code == 200
    assert response.json() == note


def test_list_is_newest_first(client: TestClient) -> None:
    ids = [create(client, f"note {n}")["id"] for n in range(3)]

    listed = client.get("/notes").json()

    assert [note["id"] for note in listed] == ids[::-1]


def test_list_honours_limit(client: TestClient) -> None:
    for n in range(3):
        create(client, f"note {n}")

    assert len(client.get("/notes", params={"limit": 2}).json()) == 2
    assert client.get("/notes", params={"limit": 0}).status_code == 422


def test_delete_removes_the_note(client: TestClient) -> None:
    note = create(client, "Short-lived")

    response = client.delete(f"/notes/{note['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/notes/{note['id']}").status_code == 404
    assert client.get("/notes").json() == []


@pytest.mark.parametrize("method", ["get", "delete"])
def test_missing_note_is_404(client: TestClient, method: str) -> None:
    response = client.request(method, "/notes/4242")

    assert response.status_code == 404
    assert response.json() == {"detail": "note not found"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 7}, "title"),
        ({"title": "ok", "body": "x" * 5001}, "body"),
        ({"title": "ok", "colour": "red"}, "colour"),
    ],
)
def test_invalid_note_is_422_naming_the_field(
    client: TestClient, payload: dict, field: str
) -> None:
    response = client.post("/notes", json=payload)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]
    assert client.get("/notes").json() == []


def test_limits_are_inclusive(client: TestClient) -> None:
    note = create(client, "x" * 200, "y" * 5000)

    assert len(note["title"]) == 200
    assert len(note["body"]) == 5000


def test_note_id_must_be_an_integer(client: TestClient) -> None:
    response = client.get("/notes/abc")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "note_id"]
