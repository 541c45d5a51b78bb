#!/usr/bin/env bash
# Starts the whole demo on this machine: installs the Debian packages (when
# missing), builds, then runs redis-server, comet-gateway, PHP's built-in
# server for examples/demo/*.php and nginx rendered from
# nginx.conf.example, all under ./run/ with pid files. Idempotent: what a
# previous run started is stopped first (scripts/down.sh).
#
# Access control is on, as the demo's "online" list needs it: a random
# token secret is made once (./run/token-secret) and given to the gateway in
# its config file (./run/comet-gateway.conf: token-secret, public-channel
# demo.chat, presence demo.presence) and to the PHP server (token.php) in
# its environment.
#
# Ports (override with the environment):
#   COMET_HTTP_PORT      nginx            (default 8080)
#   COMET_REDIS_PORT     redis-server     (default 6399)
#   COMET_DEMO_PHP_PORT  php -S           (default 8091)
# COMET_GATEWAY_BINARY runs another comet-gateway binary than build/'s.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=$ROOT/run
GATEWAY=${COMET_GATEWAY_BINARY:-$ROOT/build/comet-gateway}
HTTP_PORT=${COMET_HTTP_PORT:-8080}
REDIS_PORT=${COMET_REDIS_PORT:-6399}
PHP_PORT=${COMET_DEMO_PHP_PORT:-8091}

"$ROOT/scripts/install-deps.sh" --no-browser
cmake -S "$ROOT" -B "$ROOT/build" -G Ninja >/dev/null
cmake --build "$ROOT/build" -j2 --target comet-gateway

"$ROOT/scripts/down.sh"
mkdir -p "$RUN/redis" "$RUN/nginx/logs" "$RUN/nginx/temp"

# wait_for DESCRIPTION LOG COMMAND...: polls COMMAND for up to 10 s.
wait_for() {
  local what=$1 log=$2
  shift 2
  for _ in $(seq 100); do
    if "$@" >/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "up.sh: $what did not come up; its log ($log):" >&2
  tail -n 30 "$log" >&2 || true
  exit 1
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
redis_ready() { redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

# A port already taken (another checkout's demo, say) would otherwise be
# mistaken for ours coming up.
for var in COMET_HTTP_PORT:$HTTP_PORT COMET_REDIS_PORT:$REDIS_PORT COMET_DEMO_PHP_PORT:$PHP_PORT; do
  if port_open "${var#*:}"; then
    echo "up.sh: 127.0.0.1:${var#*:} is in use by another program; choose another port: ${var%%:*}=..." >&2
    exit 1
  fi
done

if [[ ! -s $RUN/token-secret ]]; then
  (umask 077 && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$RUN/token-secret")
fi
TOKEN_SECRET=$(cat "$RUN/token-secret")
(umask 077 && cat >"$RUN/comet-gateway.conf") <<CONF
# Written by scripts/up.sh.
token-secret = $TOKEN_SECRET
public-channel = demo.chat
presence = demo.presence
CONF

echo "up.sh: redis-server on 127.0.0.1:$REDIS_PORT"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$RUN/redis" --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log"
wait_for redis-server "$RUN/redis.log" redis_ready

echo "up.sh: comet-gateway on unix:$RUN/comet.sock"
nohup "$GATEWAY" --config "$RUN/comet-gateway.conf" --listen "unix:$RUN/comet.sock" \
  --redis "redis://127.0.0.1:$REDIS_PORT" >"$RUN/gateway.log" 2>&1 </dev/null &
echo $! >"$RUN/gateway.pid"
gateway_ready() {
  if ! kill -0 "$(cat "$RUN/gateway.pid")" 2>/dev/null; then
    echo "up.sh: comet-gateway exited; its log ($RUN/gateway.log):" >&2
    tail -n 30 "$RUN/gateway.log" >&2
    exit 1
  fi
  test -S "$RUN/comet.sock"
}
wait_for comet-gateway "$RUN/gateway.log" gateway_ready

echo "up.sh: php -S on 127.0.0.1:$PHP_PORT (examples/demo/*.php)"
COMET_REDIS_HOST=127.0.0.1 COMET_REDIS_PORT=$REDIS_PORT COMET_TOKEN_SECRET=$TOKEN_SECRET \
  nohup php -S "127.0.0.1:$PHP_PORT" -t "$ROOT/examples/demo" >"$RUN/php.log" 2>&1 </dev/null &
echo $! >"$RUN/php.pid"
wait_for "php -S" "$RUN/php.log" port_open "$PHP_PORT"

echo "up.sh: nginx on 127.0.0.1:$HTTP_PORT (rendered from nginx.conf.example)"
# Workers run as the invoking user: as root, root (they must reach the
# gateway socket and the checkout); nginx ignores `user` otherwise.
sed -e "s|@USER@|$(id -un)|g" \
    -e "s|@PID_FILE@|$RUN/nginx/nginx.pid|g" \
    -e "s|@LOG_DIR@|$RUN/nginx/logs|g" \
    -e "s|@TEMP_DIR@|$RUN/nginx/temp|g" \
    -e "s|@LISTEN@|127.0.0.1:$HTTP_PORT|g" \
    -e "s|@GATEWAY@|unix:$RUN/comet.sock|g" \
    -e "s|@SHARE_DIR@|$ROOT|g" \
    -e "s|@DEMO_PHP@|127.0.0.1:$PHP_PORT|g" \
    "$ROOT/nginx.conf.example" >"$RUN/nginx/nginx.conf"
if grep -q '@[A-Z_]*@' "$RUN/nginx/nginx.conf"; then
  echo "up.sh: unrendered placeholder in nginx.conf.example:" >&2
  grep -n '@[A-Z_]*@' "$RUN/nginx/nginx.conf" >&2
  exit 1
fi
nginx -t -q -p "$RUN/nginx/" -c "$RUN/nginx/nginx.conf"
nginx -p "$RUN/nginx/" -c "$RUN/nginx/nginx.conf"
wait_for nginx "$RUN/nginx/logs/error.log" port_open "$HTTP_PORT"

echo
echo "Demo chat: http://127.0.0.1:$HTTP_PORT/demo/   (open it in two browsers)"
echo "           ?transport=sse|longpoll|jsonp picks the transport, ?shared=1 one connection per browser"
echo "Stats:     http://127.0.0.1:$HTTP_PORT/comet/stats"
echo "Logs:      $RUN/*.log, $RUN/nginx/logs/   Stop: ./scripts/down.sh"
