#!/usr/bin/env bash
# Stops what scripts/up.sh started, by the pid files under ./run/ (and only
# a pid that still belongs to the program it was started as).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=$ROOT/run

# stop PIDFILE NAME MATCH SIGNAL: signals the pid only while its command
# line still contains MATCH (a pid file may outlive its process, and the pid
# be reused).
stop() {
  local pidfile=$1 name=$2 match=$3 sig=$4 pid
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  # The command line is read whole first: `tr | grep -q` under pipefail
  # fails whenever grep exits before tr has written (SIGPIPE), and the
  # process would be left running.
  local cmd=""
  [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/cmdline ]] && cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  if [[ -n $cmd && $cmd == *"$match"* ]]; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "down.sh: $name ($pid) did not stop in 10 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "down.sh: stopped $name ($pid)"
  fi
  rm -f "$pidfile"
}

stop "$RUN/nginx/nginx.pid" nginx "$RUN/nginx/" QUIT
stop "$RUN/php.pid" "php -S" "$ROOT/examples/demo" TERM
stop "$RUN/gateway.pid" comet-gateway "unix:$RUN/comet.sock" TERM
stop "$RUN/redis.pid" redis-server redis-server TERM
rm -f "$RUN/comet.sock"
