# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The auth and transport options of every DigitalOcean module.
    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - A DigitalOcean personal access token (with write scope for modules that change
        resources).
      - If not set, the value of the E(DIGITALOCEAN_TOKEN) environment variable is used, then
        that of E(DO_API_TOKEN).
      - The token is sent only in the C(Authorization) header and never appears in the
        module's output, messages or logs.
    type: str
    required: true
  api_endpoint:
    description:
      - The base URL of the DigitalOcean API, without the C(/v2) the module appends (a
        trailing C(/v2) is accepted too).
      - If not set, the value of the E(DIGITALOCEAN_ENDPOINT) environment variable is used,
        and without it the public API.
      - Point it at a simulator or a proxy, for example V(https://127.0.0.1:8765/digitalocean).
    type: str
    default: https://api.digitalocean.com
  validate_certs:
    description:
      - Verify the API's TLS certificate.
      - Only set this to V(false) on a trusted network for testing; prefer O(ca_path).
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of the certificate authorities to trust for the API.
      - Without it, the E(REQUESTS_CA_BUNDLE) environment variable is honoured, then the
        bundle that comes with the C(requests) library.
    type: path
  request_timeout:
    description:
      - Seconds to wait for the API to accept a connection and for each answer.
    type: float
    default: 30
  api_retries:
    description:
      - How many times to retry a request that was throttled (HTTP 429), met a server error
        (5xx) or a network failure.
      - Each wait grows exponentially with full jitter and is never shorter than the
        server's C(Retry-After). Validation errors (other 4xx) are never retried, and a
        request that creates something is not sent again after a server error (it may have
        worked).
    type: int
    default: 5
  api_retry_timeout:
    description:
      - The most seconds one request may spend in retries before it fails.
    type: float
    default: 120
attributes:
  action_group:
    description:
      - Use C(group/sigma.deploy.digitalocean) in C(module_defaults) to set these options for
        every DigitalOcean module at once.
    support: full
    membership:
      - sigma.deploy.digitalocean
requirements:
  - requests (on the host that runs the module, usually the controller)
notes:
  - "These modules talk to the API from where they run: use them with
    C(delegate_to: localhost) or in a play with C(connection: local)."
  - Errors fail the task with one message that names the vendor, the field and the vendor's
    error id; the same details are returned in C(failure) (vendor, status, code, message,
    field, request_id). DigitalOcean's errors do not name a field, so C(field) is the request
    field the message names, or null.
"""
