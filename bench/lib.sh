# What the bench scripts share, sourced after `set -euo pipefail`:
#
#   source "$(dirname "$0")/lib.sh" NAME
#
# makes $work, a temporary directory /tmp/NAME.XXXXXX, removed at exit
# after every process whose pid was added to `pids` has been stopped (by
# pid); `free_port` prints a free loopback TCP port; `wait_for COMMAND...`
# retries COMMAND until it succeeds, at most 30 s.

work=$(mktemp -d "/tmp/${1:-comet-bench}.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    php -r '$s=socket_create(AF_INET,SOCK_STREAM,0);socket_bind($s,"127.0.0.1",0);socket_getsockname($s,$a,$p);echo $p;'
}

wait_for() {
  for _ in $(seq 1 3000); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.01
  done
  echo "timed out: $*" >&2
  return 1
}
