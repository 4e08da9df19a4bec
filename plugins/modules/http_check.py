#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: http_check
short_description: Run a list of HTTP checks in one call and fail naming each one that failed
version_added: 0.2.0
description:
  - Sends one C(GET) request per item of O(checks), in order, from the host the task runs on
    (for example against a local slot, C(http://127.0.0.1:8001/healthz)). One module call
    instead of one M(ansible.builtin.uri) loop item per check.
  - A check passes when the status is O(checks[].status), if O(checks[].contains) is given the
    body contains that text, and if O(checks[].json) is given the body is a JSON object with
    those fields and values.
  - Every check runs, also after one has failed; the task then fails with a message naming
    each failed check and why, and returns RV(checks) for all of them.
  - Redirects are not followed; a redirect's own status is the answer (the reason of a failed
    check names where it points to). Set O(checks[].status) to C(301), say, to check a redirect.
  - Proxy environment variables (C(http_proxy), C(https_proxy), C(no_proxy)) apply as they do
    for M(ansible.builtin.uri).
  - Read-only; never reports a change.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  checks:
    description:
      - The checks to run, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      url:
        description:
          - The URL to request, C(http://) or C(https://).
        type: str
        required: true
      name:
        description:
          - The name of the check in RV(checks) and in messages.
          - Defaults to O(checks[].url).
        type: str
      status:
        description:
          - The status the answer must have, from 100 to 599.
        type: int
        default: 200
      contains:
        description:
          - Text the body must contain, compared with the body decoded as UTF-8 (bytes that are
            not UTF-8 read as U+FFFD).
          - Only the first MiB of the body is read and searched.
        type: str
      json:
        description:
          - Fields the body, read as a JSON object, must have, with these values (compared
            as JSON values; only the top-level fields named here), for example a field
            C(release_id) with the release's id.
          - Only the first MiB of the body is read.
        type: dict
  timeout:
    description:
      - Seconds to wait for each request, both to connect and for each read of the answer.
      - Must be positive.
    type: float
    default: 10
  validate_certs:
    description:
      - Whether to verify the TLS certificate of C(https://) URLs.
    type: bool
    default: true
  wait:
    description:
      - Seconds to keep running the checks that failed, every O(interval) seconds, until all
        pass; the module fails with the last answers when the time is up.
      - V(0) runs each check once.
      - One module call that polls on the host reacts sooner and costs less than a task
        retried with C(until), C(retries) and C(delay).
    type: float
    default: 0
  interval:
    description:
      - Seconds between two rounds of the failed checks when O(wait) is set. Must be positive.
    type: float
    default: 0.25
attributes:
  check_mode:
    support: full
    details: The module only reads; in check mode it sends the requests and judges them too.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - module: ansible.builtin.uri
"""

EXAMPLES = r"""
- name: Smoke-check the new slot
  sigma.deploy.http_check:
    checks:
      - name: API health
        url: http://127.0.0.1:8001/healthz
      - name: Home page
        url: http://127.0.0.1:3001/
        contains: "<title>Notes</title>"
      - name: Old path redirects
        url: http://127.0.0.1:3001/old
        status: 308
    timeout: 5

- name: Wait up to 30 seconds until the API answers
  sigma.deploy.http_check:
    checks:
      - url: http://127.0.0.1:8001/healthz
        contains: '"status":"ok"'
    timeout: 2
    wait: 30

- name: Wait until nginx serves the new release
  sigma.deploy.http_check:
    checks:
      - name: nginx serves the release
        url: https://127.0.0.1/version
        json:
          release_id: "{{ release_id }}"
    validate_certs: false
  register: served
  until: served is succeeded
  retries: 30
  delay: 1
"""

RETURN = r"""
checks:
  description:
    - One item per item of O(checks), in the same order; returned when the checks ran, on
      success and when a check failed.
  returned: when the checks ran
  type: list
  elements: dict
  sample:
    - name: API health
      url: http://127.0.0.1:8001/healthz
      status: 503
      passed: false
      reason: status 503, expected 200
      elapsed_ms: 3.2
    - name: Home page
      url: http://127.0.0.1:3001/
      status: -1
      passed: false
      reason: "no answer: connection refused"
      elapsed_ms: 0.4
  contains:
    name:
      description: The check's O(checks[].name) (its URL when not given).
      type: str
    url:
      description: The URL requested.
      type: str
    status:
      description: The status of the answer; C(-1) when there was no answer.
      type: int
    passed:
      description: Whether the check passed.
      type: bool
    reason:
      description: Why the check failed; empty when it passed.
      type: str
    elapsed_ms:
      description: Milliseconds the check took, from sending the request until its body was read
        (or the error); its last attempt when O(wait) is set.
      type: float
    attempts:
      description: How many times the check ran (more than once only with O(wait)).
      type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.http_check import (
    CHECK_OPTIONS,
    DEFAULT_INTERVAL,
    DEFAULT_WAIT,
    HttpCheckError,
    failure_message,
    run_checks,
    validate,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "checks": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": CHECK_OPTIONS,
            },
            "timeout": {"type": "float", "default": 10},
            "validate_certs": {"type": "bool", "default": True},
            "wait": {"type": "float", "default": DEFAULT_WAIT},
            "interval": {"type": "float", "default": DEFAULT_INTERVAL},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        checks = validate(params["checks"], params["timeout"], params["wait"], params["interval"])
    except HttpCheckError as err:
        module.fail_json(msg=str(err))
    results = run_checks(
        checks, params["timeout"], params["validate_certs"], params["wait"], params["interval"]
    )
    message = failure_message(results)
    if message:
        module.fail_json(msg=message, changed=False, checks=results)
    module.exit_json(changed=False, checks=results)


if __name__ == "__main__":
    main()
