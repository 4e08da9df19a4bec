#!/usr/bin/env bash
# `make test`: run every check, each to its end even when an earlier one failed, then print
# one line per check, the slowest tests and the critical path, and a closing
# `N passed, N failed` line; exit non-zero on any failure.
#
# It starts as a new machine would: from a podman storage of its own (.build/podman-test,
# emptied first: no image, no containers of earlier runs), so the test-host image is built
# (check `image`) and every host installs its packages from an image minutes old; the
# `demo-path` check runs `make demo` in a copy of the checkout with no .build.
# SIGMA_PODMAN_STORAGE=machine keeps the machine's own storage (a warm image) instead.
#
# The checks that mostly wait on test hosts (molecule, and the integration tests in two
# parts: the application stack and the rest) run side by side in the background, each into
# its own log under .build/logs, printed whole when all are done. The release the host checks
# share is built before them; lint, sanity, unit and the app's own tests run in the foreground
# while they run. SIGMA_CHECKS="lint unit ..." picks checks; SIGMA_SERIAL=1 runs every check
# one after the other, in the order given.
set -uo pipefail
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root_dir" || exit 1

checks=(lint sanity unit app image release molecule integration-stack integration-other
        integration-fly integration-aws demo-path)
if [[ -n "${SIGMA_CHECKS:-}" ]]; then
  read -r -a checks <<<"$SIGMA_CHECKS"
fi
parallel_checks=" molecule integration-stack integration-other integration-fly integration-aws demo-path "
# A background check that starts when another one has ended (the two share a lane): five host
# checks at once on two cores slow the longest one, the critical path, more than the Fly tests
# take on their own, and starve the demo's deploy under load (a request of make demo timed out
# at 5 s once, with the Fly tests beside it). After demo-path, they meet only the last deploy
# tests of integration-stack. The AWS tests (deploys under load through the ALB stand-in) follow
# the Fly tests in the same lane, for the same reason.
declare -A after=([integration-fly]=demo-path [integration-aws]=integration-fly)
# Built before the checks in the background, which need them.
first_checks=" image release "
logs="$root_dir/.build/logs"
rm -rf "$logs"
mkdir -p "$logs"
run_start=$(date +%s)

storage="$root_dir/.build/podman-test"
fresh_storage() {  # remove every container and image of this run's storage, and the storage
  if [[ -f "$storage/storage.conf" ]]; then
    CONTAINERS_STORAGE_CONF="$storage/storage.conf" podman rm -af -t 0 >/dev/null 2>&1 || true
    CONTAINERS_STORAGE_CONF="$storage/storage.conf" podman rmi -af >/dev/null 2>&1 || true
  fi
  rm -rf --one-file-system "$storage"
}
if [[ "${SIGMA_PODMAN_STORAGE:-fresh}" != machine ]]; then
  fresh_storage
  mkdir -p "$storage"
  cat >"$storage/storage.conf" <<EOF
# make test's own podman storage (tools/test-all.sh): emptied at the start of every run.
[storage]
driver = "overlay"
graphroot = "$storage/graph"
runroot = "$storage/run"
EOF
  export CONTAINERS_STORAGE_CONF="$storage/storage.conf"
  trap fresh_storage EXIT
fi

"${PYTHON:-python3}" tests/hosts/hostctl.py down --all >/dev/null || true

passed=0 failed=0 report=()
record() {  # check, exit status, seconds
  local result=passed
  if (( $2 == 0 )); then passed=$((passed + 1)); else result=FAILED; failed=$((failed + 1)); fi
  report+=("$(printf '  %-18s %-7s %4d s' "$1" "$result" "$3")")
}

timeline() {  # check, start and end in seconds since epoch: one line of the run's timeline
  echo "$1 $(( $2 - run_start )) $(( $3 - run_start ))" >>"$logs/timeline"
}

run_foreground() {  # check
  echo
  echo "=== make $1"
  local start status
  start=$(date +%s)
  make --no-print-directory "$1" 2>&1 | tee "$logs/$1.log"
  status=${PIPESTATUS[0]}
  timeline "$1" "$start" "$(date +%s)"
  record "$1" "$status" $(( $(date +%s) - start ))
}

background=() early=() late=()
for check in "${checks[@]}"; do
  if [[ -z "${SIGMA_SERIAL:-}" && "$parallel_checks" == *" $check "* ]]; then
    background+=("$check")
  else
    early+=("$check")
  fi
done
# With host checks in the background, only the release they share is built before them.
# The app's own tests run beside them: what those write under examples/app (node_modules,
# .next, build, *.egg-info, caches) is left out of the source fingerprint, so a host check
# that looks at the source meanwhile finds the release built from it.
if (( ${#background[@]} )); then
  late=("${early[@]}") early=()
  for i in "${!late[@]}"; do
    if [[ "$first_checks" == *" ${late[$i]} "* ]]; then
      early+=("${late[$i]}")
      unset 'late[i]'
    fi
  done
fi

for check in "${early[@]}"; do
  run_foreground "$check"
done

declare -A pids starts  # the start of each background check: its .start file
if (( ${#background[@]} )); then
  "${PYTHON:-python3}" tests/hosts/hostctl.py network >/dev/null
  # The jobs share the project network: none may remove it when its own hosts are gone.
  export SIGMA_KEEP_NETWORK=1
  for check in "${background[@]}"; do
    echo
    echo "=== make $check (in the background, log: .build/logs/$check.log)"
    first=${after[$check]:-}
    [[ -n "$first" && " ${background[*]} " == *" $first "* ]] || first=""
    (
      if [[ -n "$first" ]]; then
        echo "(waiting for $first to end)" >"$logs/$check.log"
        until [[ -f "$logs/$first.end" ]]; do sleep 2; done
      fi
      date +%s >"$logs/$check.start"
      make --no-print-directory "$check" >>"$logs/$check.log" 2>&1
      status=$?
      date +%s >"$logs/$check.end"
      exit "$status"
    ) &
    pids[$check]=$!
  done
fi

for check in "${late[@]}"; do
  run_foreground "$check"
done

for check in "${background[@]}"; do
  wait "${pids[$check]}"
  status=$?
  starts[$check]=$(cat "$logs/$check.start")
  elapsed=$(( $(cat "$logs/$check.end") - starts[$check] ))
  timeline "$check" "${starts[$check]}" "$(cat "$logs/$check.end")"
  echo
  echo "=== make $check: output"
  cat "$logs/$check.log"
  record "$check" "$status" "$elapsed"
done

SIGMA_KEEP_NETWORK='' "${PYTHON:-python3}" tests/hosts/hostctl.py down --all >/dev/null || true
echo
echo "=== the slowest tests and the critical path"
"${PYTHON:-python3}" tools/test_timing.py "$logs" "$(( $(date +%s) - run_start ))" || true
echo
echo "=== summary of make test"
printf '%s\n' "${report[@]}"
echo "checks: $passed passed, $failed failed"
(( failed == 0 ))
