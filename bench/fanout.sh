#!/usr/bin/env bash
# Fan-out benchmark: parks N long-polls through nginx (rendered from the
# repository's nginx.conf.example) on one channel, PUBLISHes one message and
# reports the time until every poll has it, and the gateway's RSS per parked
# request. Starts redis-server, comet-gateway and nginx on free loopback
# ports and stops them (by pid) when done.
#
#   bench/fanout.sh [COUNT] [unix|tcp]      (defaults: 8000 unix)
set -euo pipefail

count=${1:-8000}
transport=${2:-unix}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
gateway_bin=$build/comet-gateway
client=$build/bench/fanout_client
[[ -x $gateway_bin && -x $client ]] || {
  echo "build first: cmake -S . -B build -G Ninja && cmake --build build" >&2
  exit 2
}

source "$root/bench/lib.sh" comet-bench

wait_port() {
  for _ in $(seq 1 500); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.01
  done
  echo "port $1 did not open" >&2
  return 1
}

redis_port=$(free_port)
http_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
wait_port "$redis_port"

if [[ $transport == unix ]]; then
  gw_addr="unix:$work/gw.sock"
else
  gw_addr="127.0.0.1:$(free_port)"
fi
"$gateway_bin" --listen "$gw_addr" --redis "redis://127.0.0.1:$redis_port" \
  --max-timeout 60 --log-level warn >"$work/gateway.log" 2>&1 &
gw_pid=$!
pids+=($gw_pid)

mkdir -p "$work/nginx/logs" "$work/nginx/temp"
sed -e "s|@USER@|$(id -un)|g" -e "s|@PID_FILE@|$work/nginx/nginx.pid|g" \
  -e "s|@LOG_DIR@|$work/nginx/logs|g" -e "s|@TEMP_DIR@|$work/nginx/temp|g" \
  -e "s|@LISTEN@|127.0.0.1:$http_port|g" -e "s|@GATEWAY@|$gw_addr|g" \
  -e "s|@SHARE_DIR@|$root|g" -e "s|@DEMO_PHP@|127.0.0.1:9|g" \
  "$root/nginx.conf.example" >"$work/nginx/nginx.conf"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>>"$work/nginx/logs/stderr" &
pids+=($!)
wait_port "$http_port"
for _ in $(seq 1 500); do
  curl -fsS "http://127.0.0.1:$http_port/comet/health" >/dev/null 2>&1 && break
  sleep 0.01
done

echo "fan-out: $count polls on one channel, nginx -> gateway over $transport"
"$client" --http "127.0.0.1:$http_port" --redis "127.0.0.1:$redis_port" \
  --path "/comet/poll?channel=bench&timeout=55" --stats /comet/stats \
  --publish comet:bench --count "$count" --gateway-pid "$gw_pid"
