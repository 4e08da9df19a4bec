"""The SCRAM-SHA-256 verifier and the SASLprep of roles/postgresql/files/postgresql_app_role.py
(the file is loaded by its path: it is installed on hosts, not imported from the collection).

SCRAM is checked against RFC 7677's example exchange (section 3): the keys are computed here
from RFC 5802's definitions, and the verifier the helper makes must hold exactly those keys,
with which the RFC's ClientProof verifies and its ServerSignature is reproduced. SASLprep is
checked against RFC 4013's examples (section 3), and against the way PostgreSQL applies it to
passwords (src/common/saslprep.c, used by the server and by libpq alike): a verifier that
prepared a password differently from libpq would lock the application out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
from pathlib import Path

import pytest

HELPER = Path(__file__).resolve().parents[3] / "roles/postgresql/files/postgresql_app_role.py"


def load_helper():
    spec = importlib.util.spec_from_file_location("postgresql_app_role", HELPER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app_role = load_helper()

# --- RFC 7677, section 3: user "user", password "pencil" --------------------------------
PASSWORD = "pencil"
CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
NONCE = CLIENT_NONCE + "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"  # the client's, then the server's
SALT = "W22ZaJ0SNY7soEsUEjb6gQ=="
ITERATIONS = 4096
CLIENT_PROOF = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
SERVER_SIGNATURE = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
# client-first-message-bare, server-first-message, client-final-message-without-proof
AUTH_MESSAGE = (
    f"n=user,r={CLIENT_NONCE},r={NONCE},s={SALT},i={ITERATIONS},c=biws,r={NONCE}".encode()
)


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right, strict=True))


def rfc5802_keys(normalized: bytes, salt: bytes, iterations: int) -> tuple[bytes, bytes, bytes]:
    """(ClientKey, StoredKey, ServerKey) from RFC 5802 section 3, Hi() written out."""
    block = hmac_sha256(normalized, salt + b"\x00\x00\x00\x01")
    salted = block
    for _round in range(iterations - 1):
        block = hmac_sha256(normalized, block)
        salted = xor(salted, block)
    client_key = hmac_sha256(salted, b"Client Key")
    server_key = hmac_sha256(salted, b"Server Key")
    return client_key, hashlib.sha256(client_key).digest(), server_key


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_the_keys_computed_here_reproduce_the_rfc_7677_exchange():
    client_key, stored_key, server_key = rfc5802_keys(
        PASSWORD.encode(), base64.b64decode(SALT), ITERATIONS
    )
    client_proof = xor(client_key, hmac_sha256(stored_key, AUTH_MESSAGE))
    assert b64(client_proof) == CLIENT_PROOF
    assert b64(hmac_sha256(server_key, AUTH_MESSAGE)) == SERVER_SIGNATURE


def test_the_verifier_of_the_rfc_7677_password_holds_exactly_its_keys():
    _client_key, stored_key, server_key = rfc5802_keys(
        PASSWORD.encode(), base64.b64decode(SALT), ITERATIONS
    )
    verifier = app_role.scram_verifier(PASSWORD, base64.b64decode(SALT), ITERATIONS)
    assert verifier == f"SCRAM-SHA-256$4096:{SALT}${b64(stored_key)}:{b64(server_key)}"


def test_the_rfc_7677_proof_verifies_against_the_verifier_and_its_signature_is_reproduced():
    """What the PostgreSQL server does with the stored verifier during the RFC's exchange."""
    verifier = app_role.scram_verifier(PASSWORD, base64.b64decode(SALT), ITERATIONS)
    keys = verifier.split("$")[2]
    stored_key, server_key = (base64.b64decode(key) for key in keys.split(":"))
    client_key = xor(base64.b64decode(CLIENT_PROOF), hmac_sha256(stored_key, AUTH_MESSAGE))
    assert hashlib.sha256(client_key).digest() == stored_key
    assert b64(hmac_sha256(server_key, AUTH_MESSAGE)) == SERVER_SIGNATURE


def test_a_new_verifier_has_a_random_salt_and_matches_only_its_password():
    first, second = app_role.scram_verifier(PASSWORD), app_role.scram_verifier(PASSWORD)
    assert first != second
    iterations, salt = first.split("$")[1].split(":")
    assert (iterations, len(base64.b64decode(salt))) == ("4096", 16)
    assert app_role.password_matches(PASSWORD, first)
    assert app_role.password_matches(PASSWORD, second)
    assert not app_role.password_matches("pencil ", first)
    assert not app_role.password_matches("Pencil", first)


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "md5" + hashlib.md5(b"penciluser", usedforsecurity=False).hexdigest(),
        "SCRAM-SHA-256$4096:not-base64!$x:y",
        "SCRAM-SHA-256$many:W22ZaJ0SNY7soEsUEjb6gQ==$x:y",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==",
    ],
)
def test_a_verifier_that_is_no_scram_one_of_the_password_never_matches(stored):
    assert app_role.password_matches(PASSWORD, stored) is False


# --- SASLprep: RFC 4013, section 3 ----------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "prepared"),
    [
        ("I\u00adX", "IX"),  # SOFT HYPHEN mapped to nothing
        ("user", "user"),  # no transformation
        ("USER", "USER"),  # case preserved, will not match "user"
        ("\u00aa", "a"),  # output is NFKC, input in ISO 8859-1
        ("\u2168", "IX"),  # output is NFKC, will match the first
    ],
)
def test_saslprep_of_the_rfc_4013_examples(text, prepared):
    assert app_role.saslprep(text) == prepared


@pytest.mark.parametrize(
    "text",
    [
        "\u0007",  # prohibited character
        "\u0627\u0031",  # bidirectional check: ends with a character that is not right-to-left
    ],
)
def test_saslprep_refuses_the_rfc_4013_error_examples(text):
    with pytest.raises(app_role.SaslprepError):
        app_role.saslprep(text)


# --- the bytes PostgreSQL hashes, and so the verifier -----------------------------------------
@pytest.mark.parametrize(
    ("password", "hashed"),
    [
        ("pencil", b"pencil"),
        ("\u0007bell", b"\x07bell"),  # ASCII is taken as it is, controls too
        ("I\u00adX", b"IX"),
        ("\u2168", b"IX"),
        ("a\u00a0b", b"a b"),  # a non-ASCII space becomes a space
        ("\u0627\u0628", "\u0627\u0628".encode()),  # right-to-left only: allowed
        # SASLprep refuses it: PostgreSQL hashes the password's own UTF-8 bytes instead.
        ("\u0627\u0031", "\u0627\u0031".encode()),
        ("\u00ad", "\u00ad".encode()),  # nothing left after mapping
        ("x\u0221", "x\u0221".encode()),  # unassigned in Unicode 3.2
        ("x\ue000", "x\ue000".encode()),  # private use
        # U+200B is a non-ASCII space (C.1.2) and mapped to nothing (B.1): PostgreSQL maps the
        # spaces first, so it becomes a space.
        ("a\u200bb", b"a b"),
        # U+0340 is prohibited (C.8); PostgreSQL checks the string before NFKC would have
        # turned it into U+0300, so it hashes the raw bytes.
        ("a\u0340", "a\u0340".encode()),
        # The bidirectional rule, too, is checked before NFKC: U+2122 (TRADE MARK SIGN) is
        # neutral, between two right-to-left letters it passes; NFKC then makes it "TM".
        ("\u0627\u2122\u0627", "\u0627TM\u0627".encode()),
    ],
)
def test_the_verifier_hashes_what_postgresql_hashes(password, hashed):
    salt = base64.b64decode(SALT)
    _client_key, stored_key, server_key = rfc5802_keys(hashed, salt, ITERATIONS)
    assert app_role.scram_keys(password, salt, ITERATIONS) == (stored_key, server_key)
