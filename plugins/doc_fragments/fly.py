# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The auth and transport options of every Fly.io module.
    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - A Fly.io API token (C(fly tokens create deploy), or C(fly auth token)).
      - If not set, the value of the E(FLY_API_TOKEN) environment variable is used.
      - A token that starts with its scheme (C(FlyV1 fm2_...)) is sent as it is, any other as
        C(Bearer <token>).
      - The token is sent only in the C(Authorization) header and never appears in the
        module's output, messages or logs.
    type: str
    required: true
  api_url:
    description:
      - The base URL of the Machines API, without the C(/v1) the module appends (a trailing
        C(/v1) is accepted too).
      - If not set, the value of the E(FLY_FLAPS_BASE_URL) environment variable is used (as
        Fly's own clients do), and without it the public API.
      - Point it at a simulator or a proxy, for example V(https://127.0.0.1:8765/fly).
    type: str
    default: https://api.machines.dev
  ca_path:
    description:
      - A PEM file of the certificate authorities to trust for the API.
      - Without it, the E(REQUESTS_CA_BUNDLE) environment variable is honoured, then the
        bundle that comes with the C(requests) library.
    type: path
  timeout:
    description:
      - Seconds to wait for the API to accept a connection and for each answer.
      - A wait for a machine's state is asked in parts shorter than this, so it may last
        longer (see the module's C(wait_timeout) where it has one).
      - Fly answers the creation or the update of a machine once its image is pulled and the
        machine launched, so those calls wait at least 120 seconds.
    type: float
    default: 30
attributes:
  action_group:
    description:
      - Use C(group/sigma.deploy.fly) in C(module_defaults) to set these options for every
        Fly.io module at once.
    support: full
    membership:
      - sigma.deploy.fly
requirements:
  - requests (on the host that runs the module, usually the controller)
notes:
  - "These modules talk to the API from where they run: use them with
    C(delegate_to: localhost) or in a play with C(connection: local)."
  - Requests throttled (HTTP 429) or met by a server error (5xx) are retried with jittered
    exponential backoff that honours C(Retry-After); a request that creates something is not
    sent again after a server error. Validation errors are never retried.
  - Errors fail the task with one message that names the vendor, the field and Fly's error
    code; the same details are returned in C(failure) (vendor, status, code, message, field).
    Fly's errors do not name a field, so C(field) is the option the error is about (V(app) for
    an unknown app, V(api_token) for a refused token, the request field the message names
    for an invalid one), or null.
"""
