#!/usr/bin/env bash
# ansible-test sanity needs the collection at ansible_collections/sigma/deploy, outside any
# other git checkout (it would list that checkout's files instead). Copy the files git knows
# (tracked, and new ones not ignored) to a temporary tree and run it for Python 3.11.
# ansible-test keeps its tool virtualenvs under ~/.ansible/test, so later runs start quickly.
set -euo pipefail
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sigma-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/sigma/deploy"
mkdir -p "$dest"
cd "$root_dir"
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do if [[ -e "$f" ]]; then printf '%s\0' "$f"; fi; done \
  | tar --null -T - -cf - | tar -C "$dest" -xf -
# The collections this one depends on (galaxy.yml: amazon.aws) sit beside it, where
# ansible-test's import, ansible-doc and pylint tests look for them: a link to the copy the
# venv's ansible package ships.
amazon_aws=$("$root_dir/.venv/bin/python" -c 'import ansible_collections.amazon.aws as c; print(list(c.__path__)[0])')
mkdir -p "$work/ansible_collections/amazon"
ln -s "$amazon_aws" "$work/ansible_collections/amazon/aws"
# ansible-test bootstraps pip in its venvs with a get-pip script it downloads from a host
# that is not reachable here; give it our stand-in (tools/get_pip_standin.py) instead.
pip_version=$("$root_dir/.venv/bin/python" -c 'import ansible_test._internal.python_requirements as r, inspect, re; print(re.search(r"pip=.([0-9.]+).", inspect.getsource(r)).group(1))')
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [[ ! -f "$cache" ]]; then
  mkdir -p "$(dirname "$cache")"
  cp "$root_dir/tools/get_pip_standin.py" "$cache"
fi
cd "$dest"
"$root_dir/.venv/bin/ansible-test" sanity --venv --python 3.11 --color no "$@"
