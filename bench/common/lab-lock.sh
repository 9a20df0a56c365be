# Sourced by the bench parts that create network namespaces (bench/datapath, bench/envoycost): they run
# under the lab lock, as everything that creates namespaces does (tests/netlab, the kernel tests).

# True when a process that started this one holds the lab lock $LOCK, e.g. CI ran
# `flock LOCK bash scripts/test && bench/run --smoke` under one lock: taking it again would wait for
# ourselves forever.
lock_held_by_an_ancestor() {
  local inode holders p=$$ line
  inode=$(stat -c %i "$LOCK" 2>/dev/null) || return 1
  # /proc/locks: "N: FLOCK ADVISORY WRITE <pid> <maj:min:inode> ..."; waiters ("N: -> FLOCK ...") hold nothing.
  holders=" $(awk -v inode="$inode" '$2 == "FLOCK" { n = split($6, id, ":"); if (id[n] == inode) print $5 }' /proc/locks | tr '\n' ' ')"
  while [[ $p -gt 1 ]]; do
    [[ $holders == *" $p "* ]] && return 0
    { read -r line </proc/"$p"/stat; } 2>/dev/null || return 1
    line=${line##*) }
    p=$(cut -d' ' -f2 <<<"$line")
  done
  return 1
}
