#!/usr/bin/env bash
# Processes or threads (README "Several cores"): runs build/bench/
# receive_workers in both designs, `own` (a subscription per worker: what N
# gateway processes do) and `shared` (one subscription handed to N worker
# threads), with 1, 2 and 4 workers, against one redis-server started on a
# free loopback port, and prints the CPU each spends per message received.
# Each run publishes COUNT messages round-robin over CHANNELS channels with
# redis-benchmark (pipelined) once the workers are subscribed. Stops what it
# started by pid.
#
#   bench/receive_workers.sh [COUNT] [CHANNELS] [PAYLOAD_BYTES]
#   (defaults: 1000000 100 100)
set -euo pipefail

count=${1:-1000000}
channels=${2:-100}
payload_bytes=${3:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
tool=$build/bench/receive_workers
[[ -x $tool ]] || {
  echo "build first: cmake -S . -B build -G Ninja && cmake --build build" >&2
  exit 2
}

source "$root/bench/lib.sh" comet-workers

redis_port=$(free_port)
# No output-buffer limit: a worker behind the publisher catches up instead of
# being dropped (the measure is CPU per message, not keeping pace).
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --client-output-buffer-limit 'pubsub 0 0 0' \
  --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
wait_for redis-cli -p "$redis_port" ping

payload=$(head -c "$payload_bytes" /dev/zero | tr '\0' 'x')
echo "messages: $count over $channels channels, payload $payload_bytes B"
for workers in 1 2 4; do
  for mode in own shared; do
    fifo="$work/out.$mode.$workers"
    mkfifo "$fifo"
    "$tool" --redis "redis://127.0.0.1:$redis_port" --mode "$mode" --workers "$workers" \
      --count "$count" >"$fifo" &
    pid=$!
    pids+=("$pid")
    exec 3<"$fifo"
    read -r line <&3  # "ready": every worker is subscribed
    [[ $line == ready ]] || {
      echo "receive_workers: $line" >&2
      exit 1
    }
    redis-benchmark -p "$redis_port" -n "$count" -P 16 -c 2 -r "$channels" -q \
      PUBLISH "comet:bench.__rand_int__" "$payload" >/dev/null 2>&1
    read -r line <&3 || true
    exec 3<&-
    wait "$pid"
    echo "$line"
  done
done
