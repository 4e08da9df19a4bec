#!/usr/bin/env bash
# `make test`: run every check, each to its end even when an earlier one failed, then print
# one line per check and a closing `N passed, N failed` line; exit non-zero on any failure.
# Stale test hosts of an interrupted run are removed first.
set -uo pipefail
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root_dir" || exit 1

checks=(lint sanity unit app molecule integration)
if [[ -n "${SIGMA_CHECKS:-}" ]]; then
  read -r -a checks <<<"$SIGMA_CHECKS"
fi

"${PYTHON:-python3}" tests/hosts/hostctl.py down --all >/dev/null || true

passed=0 failed=0 report=()
for check in "${checks[@]}"; do
  echo
  echo "=== make $check"
  start=$(date +%s)
  if make --no-print-directory "$check"; then
    result=passed; passed=$((passed + 1))
  else
    result=FAILED; failed=$((failed + 1))
  fi
  report+=("$(printf '  %-12s %-7s %4d s' "$check" "$result" $(( $(date +%s) - start )))")
done

"${PYTHON:-python3}" tests/hosts/hostctl.py down --all >/dev/null || true
echo
echo "=== summary of make test"
printf '%s\n' "${report[@]}"
echo "checks: $passed passed, $failed failed"
(( failed == 0 ))
