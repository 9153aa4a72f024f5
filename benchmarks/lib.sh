# Shared by benchmarks/run: statistics over rounds, pinning, the workload, starting and
# stopping a tracer, one measurement, growth rows, throughput, the smoke check and summary
# mode's cost. Sourced after run has set bench, tmp, iterations, rounds and smoke; the
# functions read those.
# shellcheck shell=bash
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else print a[int((NR + 1) / 2)] }'; }
# "median [q1, q3]" of numbers, one a line (nearest rank).
quartiles() {
  sort -g | awk '{ a[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit }
    q1 = a[int((NR + 3) / 4)]; q3 = a[int((3 * NR + 3) / 4)]; m = a[int((NR + 1) / 2)]
    printf "%.2f [%.2f, %.2f]", m, q1, q3 }'
}
# round_ratios TRACED_A TRACED_B BASELINE: per round, (a - base) / (b - base).
round_ratios() {
  paste "$1" "$2" "$3" | awk -F'\t' '{ if ($2 - $3 > 0) printf "%.4f\n", ($1 - $3) / ($2 - $3) }'
}

pin=${PIN:-1}
cpus=$(nproc)
workload_cpu=$((cpus - 1))
# pinned CPU COMMAND...: COMMAND on CPU (taskset execs it: same pid, same signals).
pinned() {
  if [ "$pin" = 1 ] && [ "$cpus" -gt 1 ]; then exec_on=(taskset -c "$1"); else exec_on=(); fi
  "${exec_on[@]}" "${@:2}"
}

# run_workload SYSCALL ITERATIONS THREADS [PATH_LENGTH] -> ns per call. CLOCK=cpu: in the
# workload thread's CPU time, which leaves out waits for a CPU (a machine others load).
clock_field=ns_per_call
[ "${CLOCK:-wall}" = cpu ] && clock_field=cpu_ns_per_call
run_workload() { pinned "$workload_cpu" "$bench/workload" "$@" | awk -v f="$clock_field" '$1 == f { print $2 }'; }

# start_tracer NAME COMMAND... : starts a tracer in the background, waits until it is ready.
start_tracer() {
  local name=$1; shift
  # Not through the function: a backgrounded function is a subshell that ignores the
  # SIGINT stop_tracer sends.
  local exec_on=()
  [ "$pin" = 1 ] && [ "$cpus" -gt 1 ] && exec_on=(taskset -c 0)
  # Emptied here, not by the background job's redirection: that one runs after the fork,
  # and the wait below could read the previous run's "ready", run the workload untraced
  # and send SIGINT before the tracer's handler exists (a background job ignores it).
  : > "$tmp/$name.out"
  "${exec_on[@]}" "$@" >> "$tmp/$name.out" 2> "$tmp/$name.err" &
  tracer_pid=$!
  for _ in $(seq 1 600); do
    if grep -q ready "$tmp/$name.out" 2>/dev/null; then return 0; fi
    # bpftrace and perf have no "ready" line: give them time to attach.
    if [ "$name" = bpftrace ] && grep -q Attaching "$tmp/$name.out" 2>/dev/null; then sleep 1; return 0; fi
    if [ "$name" = perf ]; then sleep 3; return 0; fi
    sleep 0.1
  done
  echo "benchmarks/run: $name did not start: $(cat "$tmp/$name.err")" >&2
  return 1
}

# stop_tracer: SIGINT, then 120 s for the tracer to print its counts and exit (detaching
# every syscall's pair of perf links takes ~21 s here); a tracer that does not is killed
# and the run fails, rather than waiting for ever.
# running PID: not exited (an exited child stays a zombie until waited for, and kill -0
# still reaches a zombie).
running() { [ -e "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
stop_tracer() {
  kill -INT "$tracer_pid" 2>/dev/null || true
  for _ in $(seq 1 1200); do running "$tracer_pid" || break; sleep 0.1; done
  if running "$tracer_pid"; then
    local command
    command=$(tr '\0' ' ' < "/proc/$tracer_pid/cmdline" 2>/dev/null || true)
    kill -KILL "$tracer_pid" 2>/dev/null || true
    echo "benchmarks/run: a tracer ($command) did not exit 120 s after SIGINT; killed" >&2
    exit 1
  fi
  wait "$tracer_pid" 2>/dev/null || true
}

# Summary mode (-c) against per-event mode: per round, the untraced, per-event and
# summary runs of one syscall, interleaved; a table row per syscall with each mode's
# added ns (medians) and summary/event per round as median [interquartile range].
summary_cost() {
  local syscall length
  echo "| syscall | untraced ns/call | per-event added | summary added | summary / per-event |"
  echo "|---|---|---|---|---|"
  for syscall in getppid openat; do
    length=0; [ "$syscall" = openat ] && length=16
    : > "$tmp/cost.$syscall.base"; : > "$tmp/cost.$syscall.event"; : > "$tmp/cost.$syscall.summary"
    for _ in $(seq 1 "$rounds"); do
      run_workload "$syscall" "$iterations" 1 "$length" >> "$tmp/cost.$syscall.base"
      start_tracer ebpfpub "$bench/bench_tracer" "$syscall"
      run_workload "$syscall" "$iterations" 1 "$length" >> "$tmp/cost.$syscall.event"
      stop_tracer
      start_tracer ebpfpub "$bench/bench_tracer" "$syscall" --summary
      run_workload "$syscall" "$iterations" 1 "$length" >> "$tmp/cost.$syscall.summary"
      stop_tracer
    done
    local base event summary
    base=$(median < "$tmp/cost.$syscall.base")
    event=$(median < "$tmp/cost.$syscall.event")
    summary=$(median < "$tmp/cost.$syscall.summary")
    awk -v s="$syscall" -v b="$base" -v e="$event" -v c="$summary" -v r="$(round_ratios "$tmp/cost.$syscall.summary" \
        "$tmp/cost.$syscall.event" "$tmp/cost.$syscall.base" | quartiles)" \
      'BEGIN { printf "| %s | %.0f | %.0f | %.0f | %s |\n", s, b, e - b, c - b, r }'
  done
}
bpftrace_program() {
  case $1 in
    openat) echo 'tracepoint:syscalls:sys_enter_openat { @p[tid] = str(args->filename); } tracepoint:syscalls:sys_exit_openat { printf("%s %d\n", @p[tid], args->ret); delete(@p[tid]); }' ;;
    getppid) echo 'tracepoint:syscalls:sys_enter_getppid { @t[tid] = nsecs; } tracepoint:syscalls:sys_exit_getppid { printf("%d %d\n", @t[tid], args->ret); delete(@t[tid]); }' ;;
    write) echo 'tracepoint:syscalls:sys_enter_write { @b[tid] = buf(args->buf, 64); } tracepoint:syscalls:sys_exit_write { printf("%r %d\n", @b[tid], args->ret); delete(@b[tid]); }' ;;
  esac
}

# measure VARIANT SYSCALL N [PATH_LENGTH]: one traced (or untraced) run; prints ns per call.
measure() {
  local variant=$1 syscall=$2 n=$3 length=${4:-0}
  case $variant in
    baseline) run_workload "$syscall" "$n" 1 "$length"; return ;;
    ebpfpub) start_tracer ebpfpub "$bench/bench_tracer" "$syscall" --attach tracepoints ;;
    dispatch) start_tracer ebpfpub "$bench/bench_tracer" "$syscall" --attach dispatch ;;
    reserved) start_tracer ebpfpub "$bench/bench_tracer" "$syscall" --attach tracepoints --ring-write reserved ;;
    automatic) start_tracer ebpfpub "$bench/bench_tracer" "$syscall" --attach tracepoints --ring-write automatic ;;
    reference) start_tracer reference "$bench/ref_loader" "$bench/ref.bpf.o" "$syscall" ;;
    single) start_tracer single "$bench/ref_loader" "$bench/ref_single.bpf.o" "$syscall" ;;
    bpftrace) start_tracer bpftrace bpftrace -e "$(bpftrace_program "$syscall")" ;;
    perf) start_tracer perf perf trace -e "$syscall" -o /dev/null ;;
  esac
  run_workload "$syscall" "$n" 1 "$length"
  stop_tracer
}

# Growth: openat's added cost as more syscalls are traced, with filters, a rate limit and
# process context, and getppid's while only openat is traced (an untraced syscall).
declare -A growth growth_ratio
# Variants of a growth group: a label's tracer set and bench_tracer options (kept joined by
# the unit separator, since a filter's text has spaces).
declare -A variant_set variant_options
variant() {
  local label=$1 set=$2
  shift 2
  variant_set[$label]=$set
  local IFS=$'\x1f'
  variant_options[$label]="$*"
}

# growth_group SYSCALL PATH_LENGTH LABEL...: per round the untraced run of the workload, then
# one traced run per LABEL (a variant's set may be reference:OBJECT:PROGRAMS), interleaved, so that rows of one group compare within rounds.
# growth[LABEL] is its added ns (medians); growth_ratio[LABEL] the per-round ratio of its
# added cost to the first LABEL's, as median [q1, q3].
growth_group() {
  local syscall=$1 length=$2
  shift 2
  local label first=$1 n=$iterations
  : > "$tmp/group.base"
  for label in "$@"; do : > "$tmp/growth.$label"; done
  for _ in $(seq 1 "$rounds"); do
    run_workload "$syscall" "$n" 1 "$length" >> "$tmp/group.base"
    for label in "$@"; do
      local options=()
      [ -n "${variant_options[$label]}" ] && IFS=$'\x1f' read -ra options <<< "${variant_options[$label]}"
      if [[ ${variant_set[$label]} == reference:* ]]; then
        # A hand-written reference instead of ebpfpub (reference:OBJECT:PROGRAMS, loaded by
        # ref_loader): the floor's programs that do nothing, for one.
        local spec=${variant_set[$label]#reference:}
        start_tracer ebpfpub "$bench/ref_loader" "$bench/${spec%%:*}" "${spec#*:}"
      else
        start_tracer ebpfpub "$bench/bench_tracer" "${variant_set[$label]}" "${options[@]}"
      fi
      run_workload "$syscall" "$n" 1 "$length" >> "$tmp/growth.$label"
      stop_tracer
    done
  done
  local base
  base=$(median < "$tmp/group.base")
  for label in "$@"; do
    growth[$label]=$(added "$(median < "$tmp/growth.$label")" "$base")
    growth_ratio[$label]=$(round_ratios "$tmp/growth.$label" "$tmp/growth.$first" "$tmp/group.base" | quartiles)
  done
}

added() { awk -v t="$1" -v b="$2" 'BEGIN { printf "%.0f", t - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "n/a"; else printf "%.2f", a / b }'; }

# Events per second delivered, and lost, at the workload's full speed.
throughput() {
  local threads=$1 n=$2
  start_tracer ebpfpub "$bench/bench_tracer" openat
  local start end
  start=$(date +%s.%N)
  "$bench/workload" openat "$n" "$threads" > /dev/null
  end=$(date +%s.%N)
  stop_tracer
  local events lost
  events=$(awk '/^events/ { print $2 }' "$tmp/ebpfpub.out")
  lost=$(awk '/^events/ { print $4 }' "$tmp/ebpfpub.out")
  awk -v e="$events" -v l="$lost" -v s="$start" -v t="$end" -v calls=$((n * threads)) \
    'BEGIN { printf "%.0f events/s (%d of %d calls delivered, %d lost)", e / (t - s), e, calls, l }'
}
# The smoke run proves the benchmarks measured something: 5,000 getppid calls (well
# within the 2 MiB ring even with a stalled reader) must all arrive, none lost.
smoke_check() {
  local n=5000
  start_tracer ebpfpub "$bench/bench_tracer" getppid
  run_workload getppid "$n" 1 > /dev/null
  stop_tracer
  local events lost
  events=$(awk '/^events/ { print $2 }' "$tmp/ebpfpub.out")
  lost=$(awk '/^events/ { print $4 }' "$tmp/ebpfpub.out")
  if [ -z "$events" ] || [ "$events" -lt "$n" ] || [ "$lost" != 0 ]; then
    echo "benchmarks/run: smoke check failed: $n getppid calls made, ${events:-no} events received, ${lost:-?} lost" >&2
    exit 1
  fi
  echo "smoke check: $n getppid calls made, $events events received (the machine's own included), $lost lost"
}
