"""bench/envoycost's driver: Envoy's instructions per request, per variant of the sidecar's config.

Called by bench/envoycost (which checks the tools and takes the lab lock); see its header for what and why.
Every Envoy config here is derived from what `portcullis translate` gives the bench's identity, so a change
of the translator shows up here without editing this file.
"""

import argparse
import copy
import datetime
import glob
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml

NETNS = "pcb-cost"
NAME = "upstream.bench.test"      # the host the Egress allows
OTHER = "other.bench.test"        # a host it does not
UPSTREAM = "127.0.0.2"            # nginx, port 80 (the dynamic forward proxy resolves the name to it)
DNS = "127.0.0.3"                 # dnsmasq
LISTEN_PORT = 15001               # SidecarContract.OUTBOUND_PORT
ADMIN_PORT = 15000
IDENTITY = ("bench", "client")
WARMUP = 200
TARGET = "within 5% of stock Envoy"

MESH_CONFIG = """apiVersion: config.flomesh.io/v1alpha3
kind: MeshConfig
metadata:
  name: fsm-mesh-config
  namespace: fsm-system
spec:
  featureFlags:
    enableEgressPolicy: true
  traffic:
    enableEgress: false
"""

EGRESS = f"""kind: Egress
apiVersion: policy.flomesh.io/v1alpha1
metadata:
  name: bench-upstream-80
  namespace: {IDENTITY[0]}
spec:
  sources:
  - kind: ServiceAccount
    name: {IDENTITY[1]}
    namespace: {IDENTITY[0]}
  hosts:
  - {NAME}
  ports:
  - number: 80
    protocol: http
"""

# name -> what is taken out of the sidecar's config, as the table says it
VARIANTS = [
    ("stock", "stock Envoy: a virtual host for the name to a STATIC cluster, every other Host a 403, nothing else"),
    ("sidecar", "Portcullis sidecar: the HTTP filter chain `portcullis translate` gives bench/client"),
    ("no-counter", "sidecar without the decision counter (the stats access logger)"),
    ("no-log-lines", "sidecar without the decision lines (the stdout and gRPC access loggers)"),
    ("no-access-logs", "sidecar without any access logger"),
    ("status-filter", "sidecar with the loggers' refusal test (the route's mark) replaced by a status filter"),
    ("refusal-by-cel", "sidecar with round 4's refusal test: a CEL filter on the route's decision, no mark"),
    ("no-dfp", "sidecar without the dynamic forward proxy (route to a STATIC cluster, as stock Envoy)"),
    ("logical-dns", "sidecar with the allowed exact host routed to a LOGICAL_DNS cluster of its own (host rewritten"
                    " to the policy's), the dynamic forward proxy kept for wildcard hosts"),
    ("strict-dns", "sidecar with the allowed exact host routed to a STRICT_DNS cluster of its own (host rewritten"
                   " to the policy's), the dynamic forward proxy kept for wildcard hosts"),
    ("logical-dns-only", "sidecar with the allowed exact host routed to a LOGICAL_DNS cluster of its own and no"
                         " dynamic forward proxy filter (a chain without wildcard hosts needs none)"),
    ("no-dfp-filter-kept", "sidecar routed to a STATIC cluster (as no-dfp) but with the dynamic forward proxy"
                           " filter still in the chain"),
    ("identity-per-request", "sidecar reading its identity from the node metadata per request (%CEL% in the"
                             " loggers, no set_filter_state filter), as before it was read once per connection"),
]
SMOKE_VARIANTS = ("stock", "sidecar")


def log(message):
    print(f"envoycost: {message}", file=sys.stderr, flush=True)


def die(message):
    log(f"ERROR: {message}")
    sys.exit(1)


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def in_ns(*command):
    return ["ip", "netns", "exec", NETNS, *command]


# ------------------------------------------------------------------ the sidecar's resources
def translate(java, jar, work):
    config = os.path.join(work, "config")
    os.makedirs(config)
    with open(os.path.join(config, "mesh-config.yaml"), "w") as f:
        f.write(MESH_CONFIG)
    with open(os.path.join(config, "egress.yaml"), "w") as f:
        f.write(EGRESS)
    run = subprocess.run([java, "-jar", jar, "translate", "--config-dir", config, "--identity", "/".join(IDENTITY)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        die(f"portcullis translate failed ({run.returncode}): {run.stderr.strip()}")
    report = yaml.safe_load(run.stdout)
    if report.get("problems"):
        die(f"portcullis translate reported problems: {report['problems']}")
    return report["identities"]["/".join(IDENTITY)]["xds"]


HCM = "envoy.filters.network.http_connection_manager"


def http_chain(xds):
    """The network filters of the chain for port 80 (the HTTP connection manager last, its route table inlined)."""
    for listener in xds["listeners"]:
        for chain in listener.get("filterChains", []):
            if chain.get("filterChainMatch", {}).get("destinationPort") == 80:
                filters = copy.deepcopy(chain["filters"])
                hcm = filters[-1]
                if hcm["name"] != HCM:
                    die(f"the chain for port 80 ends in {hcm['name']}, not {HCM}")
                routes = {r["name"]: r for r in xds["routes"]}
                name = hcm["typedConfig"].pop("rds")["routeConfigName"]
                hcm["typedConfig"]["routeConfig"] = copy.deepcopy(routes[name])
                return filters
    die("the translated listener has no filter chain for port 80")


def walk(node, visit):
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            walk(value, visit)


def static_cluster(name, address, port, http2=False):
    cluster = {"name": name, "type": "STATIC", "connectTimeout": "5s", "loadAssignment": {
        "clusterName": name, "endpoints": [{"lbEndpoints": [{"endpoint": {"address": {
            "socketAddress": {"address": address, "portValue": port}}}}]}]}}
    if http2:
        cluster["typedExtensionProtocolOptions"] = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicitHttpConfig": {"http2ProtocolOptions": {}}}}
    return cluster


def bootstrap(filters, clusters):
    return {
        # The node as `portcullis bootstrap` writes it: the loggers read the identity from its metadata.
        "node": {"id": "/".join(IDENTITY) + "/client-1", "cluster": "/".join(IDENTITY),
                 "metadata": {"namespace": IDENTITY[0], "service_account": IDENTITY[1], "pod_name": "client-1"}},
        "admin": {"address": {"socketAddress": {"address": "127.0.0.1", "portValue": ADMIN_PORT}}},
        "staticResources": {
            "listeners": [{"name": "egress_outbound", "address": {"socketAddress": {
                "address": "127.0.0.1", "portValue": LISTEN_PORT}},
                "filterChains": [{"filters": filters}]}],
            "clusters": clusters}}


def variant_config(name, xds):
    if name == "stock":
        hcm = {"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3"
                        ".HttpConnectionManager",
               "statPrefix": "stock",
               "httpFilters": [{"name": "envoy.filters.http.router", "typedConfig": {
                   "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
               "routeConfig": {"virtualHosts": [
                   {"name": "allowed", "domains": [NAME, f"{NAME}:80"],
                    "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "upstream"}}]},
                   {"name": "denied", "domains": ["*"],
                    "routes": [{"match": {"prefix": "/"}, "directResponse": {"status": 403}}]}]}}
        return bootstrap([{"name": HCM, "typedConfig": hcm}], [static_cluster("upstream", UPSTREAM, 80)])

    filters = http_chain(xds)
    hcm = filters[-1]["typedConfig"]
    clusters = copy.deepcopy(xds["clusters"])
    loggers = hcm.get("accessLog", [])
    if name == "no-counter":
        hcm["accessLog"] = [a for a in loggers if a["name"] != "envoy.access_loggers.stats"]
    elif name == "no-log-lines":
        hcm["accessLog"] = [a for a in loggers if a["name"] == "envoy.access_loggers.stats"]
    elif name == "no-access-logs":
        hcm.pop("accessLog", None)
    elif name in ("status-filter", "refusal-by-cel"):
        replaced = []

        def refusal_test():
            if name == "status-filter":
                return {"statusCodeFilter": {"comparison": {"op": "GE", "value": {
                    "defaultValue": 403, "runtimeKey": "envoycost.unused"}}}}
            return {"extensionFilter": {"name": "envoy.access_loggers.extension_filters.cel", "typedConfig": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter",
                "expression": "xds.route_metadata.filter_metadata['portcullis']['decision'] != 'allow'"}}}

        def replace(node):
            filters = node.get("orFilter", {}).get("filters")
            if filters and any("extensionFilter" in f or "metadataFilter" in f for f in filters):
                node["orFilter"]["filters"] = [
                    refusal_test() if "extensionFilter" in f or "metadataFilter" in f else f for f in filters]
                replaced.append(1)
        walk(hcm, replace)
        if not replaced:
            die(f"{name}: the sidecar's loggers have no refusal test (CEL or metadata) any more; update this variant")
        # Without the mark's test nothing reads the mark: its filter and the routes' configs go too.
        marks = [f["name"] for f in hcm["httpFilters"] if "set_metadata" in f["name"]]
        hcm["httpFilters"] = [f for f in hcm["httpFilters"] if f["name"] not in marks]
        walk(hcm["routeConfig"], lambda n: [n.get("typedPerFilterConfig", {}).pop(m, None) for m in marks])
    elif name in ("logical-dns", "strict-dns", "logical-dns-only"):
        # Each allowed exact host (the virtual hosts the forward proxy rewrites to the policy's host:port) gets a
        # cluster of its own that resolves that name; the forward proxy stays for the wildcard hosts.
        dfp = "envoy.filters.http.dynamic_forward_proxy"
        dfp_clusters = {c["name"] for c in clusters
                        if c.get("clusterType", {}).get("name") == "envoy.clusters.dynamic_forward_proxy"}
        moved = []
        moved_hosts = []

        def to_dns_cluster(vhost):
            rewrite = vhost.get("typedPerFilterConfig", {}).get(dfp, {}).get("hostRewriteLiteral")
            if not rewrite or "routes" not in vhost:
                return
            del vhost["typedPerFilterConfig"][dfp]
            host, _, port = rewrite.partition(":")
            cluster_name = f"egress_dns_{host}_{port or 80}"
            for route in vhost["routes"]:
                action = route.get("route")
                if isinstance(action, dict) and action.get("cluster") in dfp_clusters:
                    action["cluster"] = cluster_name
                    action["hostRewriteLiteral"] = rewrite
            moved_hosts.append(vhost["name"])
            if cluster_name not in moved:
                moved.append(cluster_name)
                clusters.append({
                    "name": cluster_name, "type": "STRICT_DNS" if name == "strict-dns" else "LOGICAL_DNS",
                    "connectTimeout": "5s",
                    "dnsLookupFamily": "V4_PREFERRED", "dnsCacheConfig_resolver_marker": True,
                    "loadAssignment": {"clusterName": cluster_name, "endpoints": [{"lbEndpoints": [{"endpoint": {
                        "address": {"socketAddress": {"address": host, "portValue": int(port or 80)}}}}]}]}})
        walk(hcm["routeConfig"], lambda n: to_dns_cluster(n) if "domains" in n else None)
        if not moved or any(r.get("route", {}).get("cluster") in dfp_clusters
                            for v in hcm["routeConfig"]["virtualHosts"] if v["name"] in moved_hosts
                            for r in v["routes"]):
            die(f"{name}: the exact host's routes still go to the forward proxy, or there is no exact host")
        if name == "logical-dns-only":
            hcm["httpFilters"] = [f for f in hcm["httpFilters"] if f["name"] != dfp]
    elif name == "identity-per-request":
        state = [f for f in filters if f["name"] == "envoy.filters.network.set_filter_state"]
        if not state:
            die("identity-per-request: the chain has no set_filter_state filter any more; update this variant")
        node_format = state[0]["typedConfig"]["onNewConnection"][0]["formatString"]["textFormatSource"]["inlineString"]
        key = state[0]["typedConfig"]["onNewConnection"][0]["objectKey"]
        filters.remove(state[0])
        text = json.dumps(hcm).replace(json.dumps(f"%FILTER_STATE({key}:PLAIN)%")[1:-1],
                                       json.dumps(node_format)[1:-1])
        hcm.clear()
        hcm.update(json.loads(text))
    elif name in ("no-dfp", "no-dfp-filter-kept"):
        if name == "no-dfp":
            hcm["httpFilters"] = [f for f in hcm["httpFilters"] if "dynamic_forward_proxy" not in f["name"]]

        def to_static(node):
            node.get("typedPerFilterConfig", {}).pop("envoy.filters.http.dynamic_forward_proxy", None)
            route = node.get("route")
            if isinstance(route, dict) and "cluster" in route:
                route["cluster"] = "upstream"
        walk(hcm["routeConfig"], to_static)
        clusters.append(static_cluster("upstream", UPSTREAM, 80))

    # The gRPC decision log's cluster (the xDS server's, in a sidecar) exists, pointing nowhere: allowed
    # requests are not sampled at the default rate, so nothing is sent on it.
    grpc_clusters = set()
    walk(hcm, lambda n: grpc_clusters.add(n["envoyGrpc"]["clusterName"]) if "envoyGrpc" in n else None)
    clusters += [static_cluster(c, "127.0.0.1", 1, http2=True) for c in sorted(grpc_clusters)
                 if c not in {k["name"] for k in clusters}]
    # The dynamic forward proxy asks dnsmasq in the namespace (a sidecar asks the pod's resolver; per request
    # it is a cache hit either way).
    resolver = {"name": "envoy.network.dns_resolver.cares", "typedConfig": {
        "@type": "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig",
        "resolvers": [{"socketAddress": {"address": DNS, "portValue": 53, "protocol": "UDP"}}]}}

    def use_resolver(node):
        if "dnsCacheConfig" in node:
            node["dnsCacheConfig"]["typedDnsResolverConfig"] = resolver
        if node.pop("dnsCacheConfig_resolver_marker", False):
            node["typedDnsResolverConfig"] = resolver
    walk(hcm, use_resolver)
    walk(clusters, use_resolver)
    return bootstrap(filters, clusters)


# ------------------------------------------------------------------ the namespace and its servers
def setup_namespace(work):
    teardown_namespace()
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    subprocess.run(in_ns("ip", "link", "set", "lo", "up"), check=True)
    nginx_conf = os.path.join(work, "nginx.conf")
    with open(nginx_conf, "w") as f:
        f.write(f"""worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx.err;
events {{ worker_connections 1024; }}
http {{ access_log off; server {{ listen {UPSTREAM}:80; location / {{ return 200 "ok\\n"; }} }} }}
""")
    subprocess.run(in_ns("nginx", "-c", nginx_conf), check=True)
    subprocess.run(in_ns("dnsmasq", "--port=53", f"--listen-address={DNS}", "--bind-interfaces", "--no-resolv",
                         "--no-hosts", f"--address=/{NAME}/{UPSTREAM}", f"--address=/{OTHER}/{UPSTREAM}",
                         f"--pid-file={work}/dnsmasq.pid"), check=True)


def teardown_namespace():
    if subprocess.run(["ip", "netns", "pids", NETNS], capture_output=True).returncode == 0:
        pids = subprocess.run(["ip", "netns", "pids", NETNS], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", NETNS])


def status(host):
    run = subprocess.run(in_ns("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
                               "-H", f"Host: {host}", f"http://127.0.0.1:{LISTEN_PORT}/"),
                         capture_output=True, text=True)
    return run.stdout.strip()


# ------------------------------------------------------------------ one variant under callgrind
CLIENT = r"""
import socket, sys
n = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", %d))
request = b"GET / HTTP/1.1\r\nHost: %s\r\n\r\n"
buf = b""
for _ in range(n):
    s.sendall(request)
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode("latin-1")
            if not head.startswith("HTTP/1.1 200"):
                sys.exit("not 200: " + head.splitlines()[0])
            length = int([l.split(":", 1)[1] for l in head.split("\r\n") if l.lower().startswith("content-length:")][0])
            if len(buf) >= end + 4 + length:
                buf = buf[end + 4 + length:]
                break
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("connection closed")
        buf += chunk
""" % (LISTEN_PORT, NAME)


def measure(name, config, envoy, work, requests):
    path = os.path.join(work, f"{name}.json")
    with open(path, "w") as f:
        json.dump(config, f, indent=1)
    check = subprocess.run([envoy, "--mode", "validate", "-c", path], capture_output=True, text=True)
    if check.returncode != 0:
        die(f"{name}: Envoy rejects the config: {check.stdout.strip()[-500:]} {check.stderr.strip()[-500:]}")
    out = os.path.join(work, f"callgrind.{name}")
    with open(os.path.join(work, f"{name}.log"), "w") as envoy_log:
        # Instrumentation only once warm: Envoy's start under callgrind would take minutes.
        proc = subprocess.Popen(in_ns("valgrind", "--tool=callgrind", "--instr-atstart=no",
                                      f"--callgrind-out-file={out}", envoy, "-c", path, "--concurrency", "1",
                                      "--disable-hot-restart", "--log-level", "error"),
                                stdout=envoy_log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 300
        while status(NAME) != "200":
            if proc.poll() is not None or time.time() > deadline:
                die(f"{name}: Envoy did not serve {NAME} within 300 s (see {work}/{name}.log)")
            time.sleep(1)
        denied = status(OTHER)
        if denied != "403":
            die(f"{name}: does not enforce the rule: {OTHER} -> {denied}, not 403")
        pid = valgrind_pid(proc.pid)
        control(pid, "-i", "on")
        client = os.path.join(work, "client.py")
        with open(client, "w") as f:
            f.write(CLIENT)
        subprocess.run(in_ns(sys.executable, client, str(WARMUP)), check=True)
        control(pid, "-z")
        started = load()
        subprocess.run(in_ns(sys.executable, client, str(requests)), check=True)
        control(pid, "-d")
        deadline = time.time() + 120
        while not glob.glob(out + ".*"):
            if time.time() > deadline:
                die(f"{name}: callgrind wrote no dump within 120 s")
            time.sleep(0.5)
        dump = glob.glob(out + ".*")[0]
        # The dump is complete once its totals line is written.
        while not re.search(r"^totals: \d+", open(dump).read(), re.M):
            if time.time() > deadline:
                die(f"{name}: callgrind's dump {dump} has no totals")
            time.sleep(0.5)
        instructions = int(re.search(r"^summary: (\d+)", open(dump).read(), re.M).group(1))
        return instructions / requests, started
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def valgrind_pid(launcher_pid):
    """The pid callgrind_control knows: the valgrind process under `ip netns exec` (which execs, so usually equal)."""
    for _ in range(50):
        run = subprocess.run(["callgrind_control"], capture_output=True, text=True)
        pids = [int(m) for m in re.findall(r"^PID (\d+):", run.stdout, re.M)]
        if launcher_pid in pids:
            return launcher_pid
        if len(pids) == 1:
            return pids[0]
        time.sleep(0.2)
    die(f"callgrind_control does not list the Envoy under valgrind (pid {launcher_pid})")


def control(pid, *args):
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


# ------------------------------------------------------------------ main
def main():
    parser = argparse.ArgumentParser(prog="bench/envoycost")
    parser.add_argument("--root", required=True)
    parser.add_argument("--envoy", required=True)
    parser.add_argument("--java", required=True)
    parser.add_argument("--results-dir")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--label")
    parser.add_argument("--server-jar")
    parser.add_argument("--requests", type=int)
    parser.add_argument("--variants", help="comma-separated names of the variants to run (stock and sidecar always)")
    args = parser.parse_args()
    requests = args.requests or (50 if args.smoke else 2000)
    if requests < 1:
        die("--requests takes a positive number")
    label = args.label or ("smoke" if args.smoke else "run")
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    results = args.results_dir or os.path.join(
        args.root, "bench", "results", datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        + "-" + label)
    jar = args.server_jar or os.path.join(args.root, "cli", "target", "portcullis.jar")
    if not os.path.isfile(jar):
        die(f"no portcullis jar at {jar}: mvn -B -DskipTests package -pl cli -am (or pass --server-jar)")

    only = set(args.variants.split(",")) if args.variants else set()
    unknown = only - {name for name, _ in VARIANTS}
    if unknown:
        die(f"--variants: no variant {', '.join(sorted(unknown))}; the variants: {', '.join(n for n, _ in VARIANTS)}")
    work = tempfile.mkdtemp(prefix="pcb-cost-")
    try:
        xds = translate(args.java, jar, work)
        setup_namespace(work)
        figures = {}
        for name, description in VARIANTS:
            if args.smoke and name not in SMOKE_VARIANTS:
                continue
            if only and name not in only and name not in SMOKE_VARIANTS:
                continue
            log(f"{name}: {description}")
            per_request, at_load = measure(name, variant_config(name, xds), args.envoy, work, requests)
            figures[name] = (per_request, at_load)
            log(f"{name}: {per_request:,.0f} instructions per request (load {at_load})")
    finally:
        teardown_namespace()
        shutil.rmtree(work, ignore_errors=True)

    stock = figures["stock"][0]
    size = f"{requests} HTTP/1.1 requests over one keep-alive connection after {WARMUP} unmeasured; Envoy 1 worker"
    rows = []
    for name, description in VARIANTS:
        if name not in figures:
            continue
        per_request, at_load = figures[name]
        rows.append({
            "what": f"data path: Envoy instructions per request (callgrind, user space), {description}",
            "size": size, "unit": "instructions", "samples": requests, "value": round(per_request),
            "load": at_load, "target": TARGET if name == "sidecar" else None,
            "note": f"{100.0 * per_request / stock:.1f}% of stock Envoy; "
                    f"{per_request - figures['sidecar'][0]:+,.0f} vs the sidecar" if name != "sidecar"
            else f"{100.0 * per_request / stock:.1f}% of stock Envoy ({per_request - stock:+,.0f})"})
    machine = (f"{os.cpu_count()} cores, Linux {platform.release()}; "
               + "Envoy " + subprocess.run([args.envoy, "--version"], capture_output=True, text=True).stdout.strip()
               .split("version: ")[-1].split("/")[1])
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "envoycost.json"), "w") as f:
        json.dump({"part": "envoycost", "label": label, "started": started, "machine": machine, "rows": rows},
                  f, indent=2)
    print(f"envoy cost per request ({machine}; {size})")
    print("| variant | instructions per request | vs stock Envoy | vs sidecar |")
    print("|---|---|---|---|")
    for name, description in VARIANTS:
        if name in figures:
            per_request = figures[name][0]
            print(f"| {name} | {per_request:,.0f} | {100.0 * per_request / stock:.1f}% | "
                  f"{per_request - figures['sidecar'][0]:+,.0f} |")
    log(f"wrote {os.path.join(results, 'envoycost.json')}")


if __name__ == "__main__":
    main()
