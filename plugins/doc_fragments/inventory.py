# Copyright: sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Options every provider inventory plugin of sigma.deploy shares."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  validate_certs:
    description: Verify the API's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle to verify the API's certificate with. C(REQUESTS_CA_BUNDLE) is honoured
        when this is not set.
    type: path
  request_timeout:
    description: Seconds to wait for one API answer.
    type: float
    default: 30
  connect_with:
    description:
      - Which address becomes C(ansible_host).
      - C(name) connects by the server's name (for DNS or an SSH config).
    type: str
    default: public_ipv4
    choices: [public_ipv4, public_ipv6, private_ipv4, name]
  missing_address:
    description:
      - What to do with a server that has no address of the C(connect_with) kind (one without
        public IPv4 or IPv6, say).
      - C(skip) leaves it out with a warning, C(error) fails, C(name) connects by name.
    type: str
    default: skip
    choices: [skip, error, name]
"""
