#!/usr/bin/env bash
# tests/netlab/netlab.sh — Portcullis network lab (run as root; needs scripts/install-deps).
#
#   netlab.sh up    STATE_DIR   tear down leftovers, build the topology, start servers, wait until ready
#   netlab.sh check STATE_DIR   probe every server from pod pcl-curl (no sidecar); non-zero on failure
#   netlab.sh down  STATE_DIR   stop everything, delete namespaces/bridge/etc files; always exit 0
#
# Topology (one /24 on one bridge, no forwarding):
#   root ns   bridge pcl-br0 198.18.0.1/24   (control plane listens here)
#   pcl-inet  "internet": .53 dnsmasq  .80 httpbin.org (80 http, 443 https)  .81 flomesh.io (443)
#             .66 impostor (80, 443)  .22 sshd (22)
#   pcl-curl  pod of ServiceAccount curl/curl   198.18.0.101
#   pcl-other pod of another ServiceAccount     198.18.0.102
# Pods: lo up, eth0, default route via 198.18.0.1 (so iptables REDIRECT can catch any
# destination); /etc/netns/<ns>/{resolv.conf,hosts} point DNS at 198.18.0.53 only.
#
# STATE_DIR gets: *.pid, *.log, pki/ca.pem (+ca.key, <host>.pem/.key), ssh/, impostor.log
# (one line per accepted connection: "<iso time> accept port=<p> peer=<ip:port>").
# Python for gunicorn/impostor: $PORTCULLIS_PYTHON, else PORTCULLIS_PYTHON from
# /usr/local/lib/portcullis/env (written by scripts/install-deps), else python3.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BR=pcl-br0
GW=198.18.0.1
PREFIXLEN=24
NS_INET=pcl-inet
NAMESPACES=(pcl-inet pcl-curl pcl-other)
declare -A NS_ADDRS=(
  [pcl-inet]="198.18.0.53 198.18.0.80 198.18.0.81 198.18.0.66 198.18.0.22"
  [pcl-curl]="198.18.0.101"
  [pcl-other]="198.18.0.102"
)
declare -A NS_VETH=([pcl-inet]=pcl-h-inet [pcl-curl]=pcl-h-curl [pcl-other]=pcl-h-other)
IP_DNS=198.18.0.53
IP_HTTPBIN=198.18.0.80
IP_FLOMESH=198.18.0.81
IP_IMPOSTOR=198.18.0.66
IP_SSH=198.18.0.22
declare -A DNS_NAMES=([httpbin.org]=$IP_HTTPBIN [flomesh.io]=$IP_FLOMESH [impostor.test]=$IP_IMPOSTOR [ssh.test]=$IP_SSH)
READY_TIMEOUT=${NETLAB_READY_TIMEOUT:-20}
BRNF=/proc/sys/net/bridge/bridge-nf-call-iptables
FWD_COMMENT=portcullis-netlab
ENV_FILE=/usr/local/lib/portcullis/env

log() { echo "netlab: $*"; }
warn() { echo "netlab: WARNING: $*" >&2; }
die() { echo "netlab: ERROR: $*" >&2; exit 1; }

usage() { echo "usage: $0 up|down|check STATE_DIR" >&2; exit 2; }

[[ $# -eq 2 ]] || usage
CMD=$1
STATE=$2
[[ -n $STATE ]] || usage
[[ $(id -u) -eq 0 ]] || die "must run as root"
case $STATE in /*) ;; *) STATE=$PWD/$STATE ;; esac

ns_exists() { [[ -e /run/netns/$1 ]]; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# curl with no config file and no proxy from the environment
pcurl() { in_ns pcl-curl curl -q --noproxy '*' -sS --connect-timeout 2 --max-time 5 "$@"; }

resolve_py() {
  PY=${PORTCULLIS_PYTHON:-}
  if [[ -z $PY && -r $ENV_FILE ]]; then
    PY=$(sed -n 's/^PORTCULLIS_PYTHON=//p' "$ENV_FILE" | tail -1)
    [[ -x $PY ]] || PY=""
  fi
  [[ -n $PY ]] || PY=$(command -v python3) || die "python3 not found"
  "$PY" -c 'import httpbin, gunicorn' 2>/dev/null \
    || die "$PY cannot import httpbin and gunicorn: run scripts/install-deps"
}

# alive = exists and not a zombie (orphans are reaped by PID 1, which may take a while)
is_alive() {
  local line st
  { read -r line </proc/"$1"/stat; } 2>/dev/null || return 1
  st=${line##*) }
  [[ ${st:0:1} != Z && ${st:0:1} != X ]]
}

# ------------------------------------------------------------------ down
kill_wait() {  # kill_wait PID... : TERM, wait up to 5 s, then KILL
  local pids=("$@") alive p deadline=$((SECONDS + 5))
  [[ ${#pids[@]} -gt 0 ]] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  while :; do
    alive=()
    for p in "${pids[@]}"; do is_alive "$p" && alive+=("$p"); done
    [[ ${#alive[@]} -eq 0 ]] && return 0
    if ((SECONDS >= deadline)); then
      kill -KILL "${alive[@]}" 2>/dev/null || true
      return 0
    fi
    sleep 0.1
  done
}

do_down() {
  local f pid ns pids
  # 1. processes recorded in STATE_DIR (only if they still live in one of our namespaces)
  if [[ -d $STATE ]]; then
    for f in "$STATE"/*.pid; do
      [[ -e $f ]] || continue
      pid=$(tr -dc '0-9' <"$f" || true)
      if [[ -n $pid ]] && is_alive "$pid" \
         && [[ $(ip netns identify "$pid" 2>/dev/null) == pcl-* ]]; then
        kill_wait "$pid"
      fi
      rm -f "$f"
    done
  fi
  # 2. anything else still running in the lab namespaces (e.g. sidecars started by tests)
  for ns in "${NAMESPACES[@]}"; do
    ns_exists "$ns" || continue
    mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null || true)
    if [[ ${#pids[@]} -gt 0 ]]; then
      log "killing ${#pids[@]} leftover process(es) in $ns"
      kill_wait "${pids[@]}"
    fi
    ip netns del "$ns" 2>/dev/null || warn "could not delete netns $ns"
  done
  # 3. links (veths normally vanish with their namespace)
  for ns in "${NAMESPACES[@]}"; do
    ip link del "${NS_VETH[$ns]}" 2>/dev/null || true
  done
  ip link del "$BR" 2>/dev/null || true
  rm -rf /etc/netns/pcl-*
  # 4. host settings we changed
  while iptables -w -D FORWARD -i "$BR" ! -o "$BR" -m comment --comment "$FWD_COMMENT" -j DROP 2>/dev/null; do :; done
  if [[ -f $STATE/brnf.saved ]]; then
    cat "$STATE/brnf.saved" >"$BRNF" 2>/dev/null || true
    rm -f "$STATE/brnf.saved"
  fi
  return 0
}

# ------------------------------------------------------------------ up
make_netns_etc() {  # resolver files bind-mounted over /etc by `ip netns exec`
  local ns=$1
  mkdir -p "/etc/netns/$ns"
  printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$IP_DNS" >"/etc/netns/$ns/resolv.conf"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"/etc/netns/$ns/hosts"
}

make_ns() {
  local ns=$1 hv=${NS_VETH[$1]} peer="pcl-p-${1#pcl-}" a
  ip netns add "$ns"
  ip link add "$hv" type veth peer name "$peer"
  ip link set "$peer" netns "$ns"
  ip link set "$hv" master "$BR"
  ip link set "$hv" up
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$peer" name eth0
  for a in ${NS_ADDRS[$ns]}; do
    ip -n "$ns" addr add "$a/$PREFIXLEN" dev eth0
  done
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$GW" dev eth0
  make_netns_etc "$ns"
}

make_pki() {
  local d=$STATE/pki h
  rm -rf "$d"
  mkdir -p "$d"
  chmod 755 "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$d/ca.key" -out "$d/ca.pem" -days 3650 -subj "/O=Portcullis/CN=Portcullis netlab test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>>"$STATE/pki.log"
  for h in httpbin.org flomesh.io; do
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$d/$h.key" -out "$d/$h.csr" -subj "/CN=$h" 2>>"$STATE/pki.log"
    printf 'subjectAltName=DNS:%s,DNS:*.%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
      "$h" "$h" >"$d/$h.ext"
    openssl x509 -req -in "$d/$h.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
      -out "$d/$h.pem" -days 825 -extfile "$d/$h.ext" 2>>"$STATE/pki.log"
    rm -f "$d/$h.csr" "$d/$h.ext"
  done
  chmod 644 "$d"/*.pem
  chmod 600 "$d"/*.key
}

make_sshd_conf() {
  local d=$STATE/ssh
  rm -rf "$d"
  mkdir -p "$d" /run/sshd
  chmod 700 "$d"
  chmod 755 /run/sshd
  ssh-keygen -q -t ed25519 -N '' -C netlab -f "$d/ssh_host_ed25519_key"
  cat >"$d/sshd_config" <<EOF
Port 22
ListenAddress $IP_SSH
HostKey $d/ssh_host_ed25519_key
PidFile $STATE/sshd.pid
UsePAM no
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile none
UseDNS no
StrictModes no
LogLevel INFO
EOF
  /usr/sbin/sshd -t -f "$d/sshd_config" || die "sshd config test failed"
}

start_bg() {  # start_bg NAME CMD... : run CMD in pcl-inet, detached, pid -> NAME.pid, output -> NAME.log
  local name=$1
  shift
  # Without job control a background job is not a group leader, so setsid execs in place
  # and $! is the server itself (ip netns exec also execs).
  # Unbuffered, so the tests can read gunicorn's access log the moment a request is served.
  PYTHONUNBUFFERED=1 setsid ip netns exec "$NS_INET" "$@" >"$STATE/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
  SERVERS+=("$name")
}

server_alive() { local pid; pid=$(cat "$STATE/$1.pid" 2>/dev/null) && is_alive "$pid"; }

wait_ready() {  # wait_ready DESCRIPTION SERVER_NAME CMD...
  local what=$1 name=$2
  shift 2
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ! server_alive "$name"; then
      tail -n 20 "$STATE/$name.log" >&2 || true
      die "$what: server '$name' exited (log: $STATE/$name.log)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "$STATE/$name.log" >&2 || true
      die "$what: not ready after ${READY_TIMEOUT}s (log: $STATE/$name.log)"
    fi
    sleep 0.1
  done
  log "ready: $what"
}

http_code_is() {  # http_code_is CODE CURL_ARGS...
  local want=$1 got
  shift
  got=$(pcurl -o /dev/null -w '%{http_code}' "$@" 2>/dev/null) || return 1
  [[ $got == "$want" ]]
}

ssh_banner() {  # prints the first line sent by $IP_SSH:22, seen from pcl-curl
  in_ns pcl-curl timeout 5 bash -c '
    exec 3<>/dev/tcp/'"$IP_SSH"'/22 || exit 1
    IFS= read -r -t 4 line <&3 || exit 1
    printf "%s\n" "${line%$'"'"'\r'"'"'}"'
}
ssh_ready() { [[ $(ssh_banner) == SSH-2.0-* ]]; }

impostor_listening() {  # both ports bound, checked without connecting (keeps impostor.log clean)
  local out
  out=$(in_ns "$NS_INET" ss -Hltn "src $IP_IMPOSTOR") || return 1
  grep -q "$IP_IMPOSTOR:80 " <<<"$out" && grep -q "$IP_IMPOSTOR:443 " <<<"$out"
}

dns_probe() {  # dns_probe NAME A|AAAA : one UDP query to $IP_DNS from pcl-curl; prints "rcode=R answers=N ms=T"
  in_ns pcl-curl "$PY" - "$1" "$2" "$IP_DNS" <<'EOF'
import random, socket, struct, sys, time
name, qtype, server = sys.argv[1], {"A": 1, "AAAA": 28}[sys.argv[2]], sys.argv[3]
tid = random.randrange(65536)
q = struct.pack(">HHHHHH", tid, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", qtype, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
t0 = time.monotonic()
s.sendto(q, (server, 53))
try:
    r = s.recv(4096)
except socket.timeout:
    print("timeout"); sys.exit(1)
flags, _, an = struct.unpack(">HHH", r[2:8])
print(f"rcode={flags & 15} answers={an} ms={(time.monotonic() - t0) * 1000:.1f}")
EOF
}

dns_ready() { [[ $(in_ns pcl-curl getent ahostsv4 httpbin.org | awk 'NR==1{print $1}') == "$IP_HTTPBIN" ]]; }

do_up() {
  local ns
  resolve_py
  log "tearing down leftovers"
  do_down
  mkdir -p "$STATE"
  chmod 755 "$STATE"
  rm -f "$STATE"/*.log

  log "creating bridge $BR ($GW/$PREFIXLEN) and namespaces ${NAMESPACES[*]}"
  ip link add "$BR" type bridge
  ip addr add "$GW/$PREFIXLEN" dev "$BR"
  ip link set "$BR" up
  for ns in "${NAMESPACES[@]}"; do make_ns "$ns"; done

  # br_netfilter would push bridged frames through the host's iptables FORWARD chain.
  if [[ -w $BRNF ]] && [[ $(cat "$BRNF") != 0 ]]; then
    cat "$BRNF" >"$STATE/brnf.saved"
    echo 0 >"$BRNF"
    log "set bridge-nf-call-iptables=0 (was $(cat "$STATE/brnf.saved"); restored by down)"
  fi
  # Never let pod traffic be routed off this machine, even if the host forwards.
  if [[ $(cat /proc/sys/net/ipv4/ip_forward) != 0 ]]; then
    iptables -w -I FORWARD -i "$BR" ! -o "$BR" -m comment --comment "$FWD_COMMENT" -j DROP \
      || die "ip_forward is on and the FORWARD guard rule could not be added"
    log "ip_forward=1 on host: added FORWARD DROP for traffic leaving $BR"
  fi

  log "creating test PKI in $STATE/pki"
  make_pki
  make_sshd_conf
  : >"$STATE/impostor.log"
  chmod 644 "$STATE/impostor.log"

  local gun=("$PY" -m gunicorn --chdir "$STATE" --workers 2 --threads 4 --graceful-timeout 2
             --access-logfile - --error-logfile -)
  if "$PY" -m gunicorn --help 2>/dev/null | grep -q -- --no-control-socket; then
    gun+=(--no-control-socket)   # gunicorn >= 24 would share ~/.gunicorn/gunicorn.ctl otherwise
  fi

  # A records for each name and its subdomains; --local makes other types (AAAA)
  # answer NOERROR/no data at once; --local=/#/ makes every other name NXDOMAIN.
  local dns_args=() d
  for d in "${!DNS_NAMES[@]}"; do
    dns_args+=(--address="/$d/${DNS_NAMES[$d]}" --local="/$d/")
  done
  dns_args+=(--local=/#/)

  SERVERS=()
  log "starting servers in $NS_INET"
  start_bg dnsmasq dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
    --bind-interfaces --listen-address="$IP_DNS" --port=53 --user=root --group=root \
    --pid-file="$STATE/dnsmasq.own.pid" --log-facility=- --log-queries --no-negcache \
    "${dns_args[@]}"
  start_bg httpbin-http "${gun[@]}" --bind "$IP_HTTPBIN:80" httpbin:app
  start_bg httpbin-https "${gun[@]}" --bind "$IP_HTTPBIN:443" \
    --certfile "$STATE/pki/httpbin.org.pem" --keyfile "$STATE/pki/httpbin.org.key" httpbin:app
  start_bg flomesh-https "${gun[@]}" --bind "$IP_FLOMESH:443" \
    --certfile "$STATE/pki/flomesh.io.pem" --keyfile "$STATE/pki/flomesh.io.key" httpbin:app
  start_bg impostor "$PY" -u "$HERE/impostor.py" --addr "$IP_IMPOSTOR" --ports 80,443 \
    --log "$STATE/impostor.log"
  start_bg sshd /usr/sbin/sshd -D -e -f "$STATE/ssh/sshd_config"

  local ca=$STATE/pki/ca.pem
  wait_ready "dns $IP_DNS:53 (httpbin.org -> $IP_HTTPBIN)" dnsmasq dns_ready
  wait_ready "httpbin.org http $IP_HTTPBIN:80" httpbin-http \
    http_code_is 200 "http://$IP_HTTPBIN/get"
  wait_ready "httpbin.org https $IP_HTTPBIN:443" httpbin-https \
    http_code_is 200 --cacert "$ca" --resolve "httpbin.org:443:$IP_HTTPBIN" https://httpbin.org/get
  wait_ready "flomesh.io https $IP_FLOMESH:443" flomesh-https \
    http_code_is 200 --cacert "$ca" --resolve "flomesh.io:443:$IP_FLOMESH" https://flomesh.io/
  wait_ready "impostor $IP_IMPOSTOR:80,443 (listening)" impostor impostor_listening
  wait_ready "sshd $IP_SSH:22" sshd ssh_ready
  log "up: state in $STATE, CA $ca"
}

# ------------------------------------------------------------------ check
do_check() {
  local fails=0 ca=$STATE/pki/ca.pem out code before after
  resolve_py
  for ns in "${NAMESPACES[@]}"; do ns_exists "$ns" || die "namespace $ns missing: run '$0 up $STATE' first"; done
  result() {  # result OK|FAIL text
    printf 'check: %-4s %s\n' "$1" "$2"
    [[ $1 == OK ]] || fails=$((fails + 1))
  }

  out=$(in_ns pcl-curl getent ahostsv4 httpbin.org | awk 'NR==1{print $1}' || true)
  [[ $out == "$IP_HTTPBIN" ]] && result OK "dns httpbin.org -> $out" || result FAIL "dns httpbin.org -> '${out}'"

  out=$(dns_probe httpbin.org AAAA 2>&1 || true)
  [[ $out == "rcode=0 answers=0 "* ]] && result OK "dns AAAA httpbin.org -> no data ($out)" \
    || result FAIL "dns AAAA httpbin.org -> $out (want rcode=0 answers=0)"
  out=$(dns_probe unknown-name.example A 2>&1 || true)
  [[ $out == "rcode=3 "* ]] && result OK "dns unknown-name.example -> NXDOMAIN ($out)" \
    || result FAIL "dns unknown-name.example -> $out (want rcode=3)"

  code=$(pcurl -o /dev/null -w '%{http_code}' http://httpbin.org/get 2>&1 || true)
  [[ $code == 200 ]] && result OK "curl http://httpbin.org/get -> 200" || result FAIL "curl http://httpbin.org/get -> $code"

  code=$(pcurl -o /dev/null -w '%{http_code}' --cacert "$ca" https://httpbin.org/get 2>&1 || true)
  [[ $code == 200 ]] && result OK "curl https://httpbin.org/get -> 200" || result FAIL "curl https://httpbin.org/get -> $code"

  code=$(pcurl -o /dev/null -w '%{http_code}' --cacert "$ca" https://flomesh.io/ 2>&1 || true)
  [[ $code == 200 ]] && result OK "curl https://flomesh.io/ -> 200" || result FAIL "curl https://flomesh.io/ -> $code"

  out=$(ssh_banner 2>&1 || true)
  [[ $out == SSH-2.0-* ]] && result OK "ssh banner $IP_SSH:22 -> $out" || result FAIL "ssh banner $IP_SSH:22 -> '$out'"

  before=$(wc -l <"$STATE/impostor.log" 2>/dev/null || echo 0)
  out=$(pcurl "http://$IP_IMPOSTOR/" 2>&1 || true)
  after=$(wc -l <"$STATE/impostor.log" 2>/dev/null || echo 0)
  [[ $out == impostor ]] && result OK "curl http://$IP_IMPOSTOR/ -> impostor" || result FAIL "curl http://$IP_IMPOSTOR/ -> '$out'"
  if ((after > before)); then
    result OK "impostor.log +$((after - before)) line: $(tail -n 1 "$STATE/impostor.log")"
  else
    result FAIL "impostor.log got no line"
  fi

  if ((fails > 0)); then
    echo "check: $fails check(s) FAILED (logs in $STATE)" >&2
    return 1
  fi
  echo "check: all passed"
}

case $CMD in
  up) do_up ;;
  down) do_down; log "down" ;;
  check) do_check ;;
  *) usage ;;
esac
