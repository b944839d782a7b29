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
  # A failure says why in the CI output too, not only in the log file.
  if [ "$2" != OK ]; then
    tail -n 25 "$3" | sed 's/^/    | /'
  fi
}

# judge ID RC OUT ERR EXPECTED|- RES: record one run of an emulated
# program from its exit status (124 or 137: the timeout), its stdout OUT
# (compared with EXPECTED unless -) and its stderr ERR, all kept in RES.
# same_output EXPECTED OUT: byte for byte; for EXPECTED given as
# late:FILE, each number may be a tick late (tests/qemu/late-by-a-tick.py);
# given as last:TEXT, the output's last line must be TEXT (a self-checking
# program's verdict, which it prints only after every check ran).
same_output() {
  case $1 in
  late:*) python3 tests/qemu/late-by-a-tick.py "${1#late:}" "$2" ;;
  last:*) [ "$(tail -n 1 "$2")" = "${1#last:}" ] ;;
  *) cmp -s "$2" "$1" ;;
  esac
}

judge() {
  local id=$1 rc=$2 o=$3 e=$4 expected=$5 res=$6
  cat "$o" >"$res"
  if [ -s "$e" ]; then
    printf -- '--- stderr\n' >>"$res"
    cat "$e" >>"$res"
  fi
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "timed out after ${timeout_s:-?} s" >>"$res"
    record "$id" FAIL "$res"
  elif [ "$rc" -ne 0 ]; then
    echo "exit status $rc" >>"$res"
    record "$id" FAIL "$res"
  elif [ "$expected" != - ] && ! same_output "$expected" "$o"; then
    case $expected in
    last:*) echo "--- the last line of the output is not: ${expected#last:}" ;;
    *) echo "--- output differs from $expected:"
       diff -u "${expected#late:}" "$o" ;;
    esac >>"$res"
    record "$id" FAIL "$res"
  else
    record "$id" OK "$res"
  fi
}
