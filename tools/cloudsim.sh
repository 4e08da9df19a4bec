#!/usr/bin/env bash
# Run the API simulators in the background for the demo.
#
#   tools/cloudsim.sh start    start (or keep) a simulator with the podman backend, over HTTPS
#   tools/cloudsim.sh stop     stop it; it removes the servers it started
#   tools/cloudsim.sh env      print the environment a client needs (eval "$(... env)"); Fly's
#                              clients append /v1 to FLY_FLAPS_BASE_URL, reaching /fly/v1; boto3,
#                              the AWS CLI and amazon.aws read AWS_ENDPOINT_URL (the local AWS, on
#                              CLOUDSIM_AWS_PORT = CLOUDSIM_PORT + 1) and test credentials
#
# State lives in CLOUDSIM_STATE (.build/cloudsim/): pid, log, the simulator's CA (ca.pem) and the
# trust bundle the environment names (ca-bundle.pem: what was trusted before, plus that CA, so
# pip and every other program keep trusting what they trusted). Port: CLOUDSIM_PORT (8765).
# The container rungs' local OCI registry (started by the simulator) listens on 127.0.0.1 at
# CLOUDSIM_REGISTRY_PORT (CLOUDSIM_PORT - 3000); `env` prints it as SIGMA_REGISTRY, where
# tools/app_image.py pushes images.
set -euo pipefail
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state="${CLOUDSIM_STATE:-$root_dir/.build/cloudsim}"
port="${CLOUDSIM_PORT:-8765}"
token="${CLOUDSIM_TOKEN:-sim-token}"
python="${VENV:-$root_dir/.venv}/bin/python"
url="https://127.0.0.1:$port"
registry_port="${CLOUDSIM_REGISTRY_PORT:-$((port - 3000))}"
aws_port="${CLOUDSIM_AWS_PORT:-$((port + 1))}"

healthy() {
  [[ -f "$state/ca.pem" ]] && "$python" - "$url" "$state/ca.pem" <<'PY' >/dev/null 2>&1
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
urllib.request.urlopen(sys.argv[1] + "/_admin/health", context=ctx, timeout=2).read()
PY
}

start() {
  mkdir -p "$state"
  if [[ -f "$state/pid" ]] && kill -0 "$(cat "$state/pid")" 2>/dev/null && healthy; then
    echo "cloudsim: already running at $url (pid $(cat "$state/pid"))"
    return 0
  fi
  rm -f "$state/ca.pem" "$state/ca-bundle.pem"
  cd "$root_dir"
  # One simple command in the background, so $! is the simulator itself.
  CLOUDSIM_PORT="$port" CLOUDSIM_TOKEN="$token" CLOUDSIM_TLS=1 CLOUDSIM_CA="$state/ca.pem" \
    CLOUDSIM_BACKEND="${CLOUDSIM_BACKEND:-podman}" \
    CLOUDSIM_STATE="$state" CLOUDSIM_REGISTRY_PORT="$registry_port" CLOUDSIM_AWS_PORT="$aws_port" \
    CLOUDSIM_ACTION_DELAY="${CLOUDSIM_ACTION_DELAY:-1}" \
    nohup "$python" -m tests.cloudsim >"$state/log" 2>&1 &
  echo $! >"$state/pid"
  for _try in $(seq 1 100); do
    if healthy; then
      echo "cloudsim: running at $url (podman backend; log in $state/log)"
      return 0
    fi
    if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
      echo "cloudsim: failed to start:" >&2
      tail -n 5 "$state/log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "cloudsim: no answer at $url after 10 s (log: $state/log)" >&2
  return 1
}

stop() {
  if [[ -f "$state/pid" ]]; then
    local pid
    pid=$(cat "$state/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _try in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
    rm -f "$state/pid"
    echo "cloudsim: stopped"
  fi
}

env_lines() {
  cat <<EOT
export HCLOUD_TOKEN=$token HCLOUD_ENDPOINT=$url/hetzner/v1
export DIGITALOCEAN_TOKEN=$token DIGITALOCEAN_ENDPOINT=$url/digitalocean
export FLY_API_TOKEN=$token FLY_FLAPS_BASE_URL=$url/fly
export REQUESTS_CA_BUNDLE=$state/ca-bundle.pem
export AWS_ENDPOINT_URL=https://127.0.0.1:$aws_port AWS_CA_BUNDLE=$state/ca-bundle.pem
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export SIGMA_REGISTRY=127.0.0.1:$registry_port
EOT
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
