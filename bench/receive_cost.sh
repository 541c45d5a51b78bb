#!/usr/bin/env bash
# What one gateway spends on each message it receives from Redis, with no
# client at all: reading the subscription, numbering, encoding and
# buffering. This is the part that every gateway process pays for every
# message, however many of them run on one host (one subscription each),
# and the part that worker threads sharing one subscription would pay
# once: the figure that decides between the two (README "Several cores").
# Starts redis-server and N gateways (default 1) on free loopback ports,
# publishes COUNT messages round-robin over CHANNELS channels with
# redis-benchmark (pipelined), waits until every gateway has received them
# all, and prints each gateway's CPU time (utime + stime from /proc) per
# message and its RSS. Stops what it started by pid.
#
#   bench/receive_cost.sh [COUNT] [CHANNELS] [GATEWAYS] [PAYLOAD_BYTES]
#   (defaults: 1000000 100 1 100)
set -euo pipefail

count=${1:-1000000}
channels=${2:-100}
gateways=${3:-1}
payload_bytes=${4:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
gateway_bin=$build/comet-gateway
[[ -x $gateway_bin ]] || {
  echo "build first: cmake -S . -B build -G Ninja && cmake --build build" >&2
  exit 2
}

source "$root/bench/lib.sh" comet-receive

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
received() {  # the gateway's comet_messages_received_total, over FastCGI
  SCRIPT_NAME=/comet/stats REQUEST_METHOD=GET cgi-fcgi -bind -connect "$1" 2>/dev/null |
    awk '/^comet_messages_received_total /{print int($2)}'
}
healthy() {
  SCRIPT_NAME=/comet/health REQUEST_METHOD=GET cgi-fcgi -bind -connect "$1" 2>/dev/null |
    grep -q '"redis":"up"'
}
has_received() { (($(received "$1") >= $2)); }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
wait_for redis-cli -p "$redis_port" ping

socks=()
gw_pids=()
for i in $(seq 1 "$gateways"); do
  sock="$work/gw$i.sock"
  # The buffers are the defaults' (1,000 messages per channel): what a
  # gateway holds in steady state.
  "$gateway_bin" --listen "unix:$sock" --redis "redis://127.0.0.1:$redis_port" \
    --log-level warn >"$work/gateway$i.log" 2>&1 &
  pids+=($!)
  gw_pids+=($!)
  socks+=("$sock")
done
for sock in "${socks[@]}"; do wait_for healthy "$sock"; done

before=()
for pid in "${gw_pids[@]}"; do before+=("$(cpu_ticks "$pid")"); done
base=()
for sock in "${socks[@]}"; do base+=("$(received "$sock")"); done

payload=$(head -c "$payload_bytes" /dev/zero | tr '\0' 'x')
start=$(date +%s.%N)
redis-benchmark -p "$redis_port" -n "$count" -P 16 -c 2 -r "$channels" -q \
  PUBLISH "comet:bench.__rand_int__" "$payload" >"$work/benchmark.log" 2>&1
for k in "${!socks[@]}"; do
  if ! wait_for has_received "${socks[$k]}" $((base[k] + count)); then
    # Redis drops a subscriber that falls 32 MB behind: publish slower.
    echo "gateway $((k + 1)) received $(($(received "${socks[$k]}") - base[k])) of $count" \
      "($(grep -c 'subscription lost' "$work/gateway$((k + 1)).log") subscription losses)" >&2
    exit 1
  fi
done
end=$(date +%s.%N)

hz=$(getconf CLK_TCK)
echo "messages: $count over $channels channels, payload $payload_bytes B, $gateways gateway(s)"
echo "publish + receive wall time: $(echo "$end - $start" | bc) s (redis-benchmark: $(tr '\r' '\n' <"$work/benchmark.log" | grep -o '[0-9.]* requests per second' | tail -1))"
for k in "${!gw_pids[@]}"; do
  pid=${gw_pids[$k]}
  ticks=$(($(cpu_ticks "$pid") - ${before[$k]}))
  rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  per=$(echo "scale=3; $ticks * 1000000 / $hz / $count" | bc)
  echo "gateway $((k + 1)): CPU $(echo "scale=2; $ticks / $hz" | bc) s, $per us per message; RSS $rss KiB"
done
