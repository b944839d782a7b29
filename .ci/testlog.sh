# SPDX-License-Identifier: MIT
# Sourced by the CI steps that run programs (.ci/steps/qemu*.sh): one
# line per test in meson's testlog format, appended to $log, with the
# counts kept in $passed and $failed.
passed=0
failed=0

# record NAME OK|FAIL FILE: one testlog line whose stdout is FILE's text.
record() {
  python3 - "$1" "$2" "$3" >>"$log" <<'PY'
import json, sys
name, result, path = sys.argv[1:4]
with open(path, encoding="utf-8", errors="replace") as f:
    text = f.read()
print(json.dumps({"name": name, "result": result, "stdout": text}))
PY
  if [ "$2" = OK ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  echo "$2 $1"
}
