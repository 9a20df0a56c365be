#!/usr/bin/env python3
"""bench/datapath's report: raw measurements -> datapath.json (bench/README.md's convention) + a table.

Input: measurements.jsonl, one line per run ({"kind": "rps"|"latency", "variant", "round", "base"}),
where base is the prefix of the run's files: .wrk.txt (wrk --latency output), .stat0/.stat1 (/proc/stat
before and after), .pstat0/.pstat1 (/proc/<proxy pid>/stat, none for direct), .load, .latency.json,
.latency.samples (microseconds, one a line), .latency.load.

rps: the median over rounds. Latency: percentiles of all rounds' samples pooled (nearest rank).
Exit 1 when a proxy answered anything but 200 under load: the rule broke, and the figure would lie.
"""
import argparse
import json
import os
import re
import statistics
import sys

VARIANTS = {
    "direct": "direct (client -> nginx, no proxy, no rule)",
    "sidecar": "Portcullis sidecar (Envoy over ADS from portcullis serve, iptables redirect)",
    "envoy": "stock Envoy (static config, same listener and redirect)",
    "haproxy": "HAProxy (same rule, same redirect)",
}
SHORT = {"direct": "direct", "sidecar": "Portcullis sidecar", "envoy": "stock Envoy", "haproxy": "HAProxy"}
RPS_TARGET = 95.0  # issue 8: the sidecar's rps within 5% of stock Envoy's with the same rule
P50_TARGET = 105.0  # ... and its p50 latency within 5%


def read(path):
    with open(path) as f:
        return f.read()


def wrk_duration_us(text):
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return None
    return float(match.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6, "m": 6e7}[match.group(2)]


def parse_wrk(text):
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not rps:
        raise ValueError("no Requests/sec in wrk's output:\n" + text)
    requests = re.search(r"(\d+) requests in", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    percentiles = {p: wrk_duration_us(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", text, re.M)}
    return {
        "rps": float(rps.group(1)),
        "requests": int(requests.group(1)) if requests else None,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
        "p50": percentiles.get("50"),
        "p99": percentiles.get("99"),
    }


def cpu_lines(text):
    """cpuN -> (busy, total) jiffies."""
    out = {}
    for line in text.splitlines():
        fields = line.split()
        if fields and re.fullmatch(r"cpu\d+", fields[0]):
            values = list(map(int, fields[1:]))
            idle = values[3] + values[4]  # idle + iowait
            out[fields[0]] = (sum(values) - idle, sum(values))
    return out


def busy_percent(stat0, stat1, cpu):
    b0, t0 = cpu_lines(stat0)[cpu]
    b1, t1 = cpu_lines(stat1)[cpu]
    return 100.0 * (b1 - b0) / max(1, t1 - t0), (t1 - t0) / os.sysconf("SC_CLK_TCK")


def process_jiffies(text):
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15 of proc(5))


def nearest_rank(sorted_values, fraction):
    rank = max(1, -(-round(fraction * 10000) * len(sorted_values) // 10000))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def fmt(value, digits=0):
    return "-" if value is None else f"{value:,.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    for name in ("measurements", "out", "label", "started", "jar", "machine", "versions", "envoy-config"):
        ap.add_argument("--" + name, required=True)
    for name in ("smoke", "rounds", "rps-seconds", "warmup-seconds", "latency-seconds", "wrk-connections",
                 "latency-rate", "latency-connections", "loadgen-cpu", "proxy-cpu"):
        ap.add_argument("--" + name, type=int, required=True)
    args = ap.parse_args()

    runs = [json.loads(line) for line in read(args.measurements).splitlines() if line.strip()]
    loadgen_cpu, proxy_cpu = f"cpu{args.loadgen_cpu}", f"cpu{args.proxy_cpu}"
    tick = os.sysconf("SC_CLK_TCK")
    broken = []
    rps, latency = {v: [] for v in VARIANTS}, {v: [] for v in VARIANTS}
    for run in runs:
        base = run["base"]
        if run["kind"] == "rps":
            wrk = parse_wrk(read(base + ".wrk.txt"))
            stat0, stat1 = read(base + ".stat0"), read(base + ".stat1")
            wrk["loadgen_busy"], seconds = busy_percent(stat0, stat1, loadgen_cpu)
            wrk["proxy_core_busy"], _ = busy_percent(stat0, stat1, proxy_cpu)
            wrk["proxy_cpu"] = wrk["cpu_us_per_request"] = None
            if os.path.exists(base + ".pstat0"):
                used = process_jiffies(read(base + ".pstat1")) - process_jiffies(read(base + ".pstat0"))
                wrk["proxy_cpu"] = 100.0 * used / tick / seconds
                if wrk["requests"]:
                    wrk["cpu_us_per_request"] = 1e6 * used / tick / wrk["requests"]
            wrk["load"] = read(base + ".load").strip()
            wrk["round"] = run["round"]
            if wrk["non2xx"]:
                broken.append(f"{run['variant']} round {run['round']}: {wrk['non2xx']} non-2xx responses under wrk")
            rps[run["variant"]].append(wrk)
        else:
            summary = json.loads(read(base + ".latency.json"))
            samples = [float(x) for x in read(base + ".latency.samples").split()]
            latency[run["variant"]].append(
                {"summary": summary, "samples": samples, "load": read(base + ".latency.load").strip(),
                 "round": run["round"]})

    size_rps = (f"wrk 1 thread, {args.wrk_connections} connections, {args.rounds} x {args.rps_seconds} s"
                f" after {args.warmup_seconds} s warm-up; proxy alone on CPU {args.proxy_cpu}")
    size_lat = (f"{args.latency_rate} requests/s open loop, {args.latency_connections} keep-alive connections,"
                f" {args.rounds} x {args.latency_seconds} s; proxy alone on CPU {args.proxy_cpu}")
    rows, table = [], []
    medians, p50s, cpu_costs = {}, {}, {}
    for v, description in VARIANTS.items():
        runs_v = rps[v]
        median = statistics.median(r["rps"] for r in runs_v)
        medians[v] = median
        last = runs_v[-1]
        proxy_cpu_text = "-" if last["proxy_cpu"] is None else f"{statistics.median(r['proxy_cpu'] for r in runs_v):.0f}%"
        cpu = (f"proxy {proxy_cpu_text} of a core; CPU{args.loadgen_cpu} (wrk, nginx) "
               f"{statistics.median(r['loadgen_busy'] for r in runs_v):.0f}% busy, "
               f"CPU{args.proxy_cpu} {statistics.median(r['proxy_core_busy'] for r in runs_v):.0f}% busy")
        note = ("runs: " + ", ".join(f"{r['rps']:.0f} (load {r['load']})" for r in runs_v)
                + f"; wrk's own latency at saturation p50 {fmt(last['p50'])} us, p99 {fmt(last['p99'])} us (last run)")
        errors = sum(r["socket_errors"] for r in runs_v)
        if errors:
            note += f"; {errors} socket errors"
        if v == "envoy":
            note += f"; Envoy config: {args.envoy_config}"
        if v == "sidecar":
            note += f"; control plane and CLI: {args.jar}"
        rows.append({"what": f"data path: HTTP requests/s at saturation, {description}", "size": size_rps,
                     "unit": "rps", "samples": len(runs_v), "p50": None, "p90": None, "p99": None, "max": None,
                     "value": round(median, 1), "cpu": cpu, "load": last["load"], "target": None, "note": note})

        pooled = sorted(s for r in latency[v] for s in r["samples"])
        p50s[v] = nearest_rank(pooled, 0.50) if pooled else None
        lag = max((r["summary"].get("send_lag_p99_us") or 0) for r in latency[v])
        achieved = ", ".join(f"{r['summary']['achieved_rps']:.0f}" for r in latency[v])
        lat_row = {"what": f"data path: HTTP latency at {args.latency_rate} requests/s, {description}",
                   "size": size_lat, "unit": "us", "samples": len(pooled),
                   "p50": nearest_rank(pooled, 0.50) if pooled else None,
                   "p90": nearest_rank(pooled, 0.90) if pooled else None,
                   "p99": nearest_rank(pooled, 0.99) if pooled else None,
                   "max": pooled[-1] if pooled else None, "value": None, "cpu": None,
                   "load": latency[v][-1]["load"], "target": None,
                   "note": (f"from send to whole response, pooled over rounds; achieved requests/s {achieved};"
                            f" send lag p99 {lag:.0f} us (pacing, not in the latency);"
                            f" loads {', '.join(r['load'] for r in latency[v])}")}
        rows.append(lat_row)
        cost = None
        if last["cpu_us_per_request"] is not None:
            # The proxy's own CPU time per request: unlike rps, it does not drop when other processes
            # take turns on the proxy's core, so it is the steadier figure on a shared machine.
            cost = statistics.median(r["cpu_us_per_request"] for r in runs_v)
            cpu_costs[v] = cost
            rows.append({"what": f"data path: proxy CPU time per request at saturation, {description}",
                         "size": size_rps, "unit": "us", "samples": len(runs_v), "value": round(cost, 1),
                         "load": last["load"], "target": None,
                         "note": "user + system time of the proxy process (/proc/<pid>/stat) over wrk's requests;"
                                 " runs: " + ", ".join(f"{r['cpu_us_per_request']:.1f}" for r in runs_v)})
        table.append((SHORT[v], median, lat_row, proxy_cpu_text, cost, last["load"]))

    rps_ratio = 100.0 * medians["sidecar"] / medians["envoy"]
    p50_ratio = 100.0 * p50s["sidecar"] / p50s["envoy"] if p50s["sidecar"] and p50s["envoy"] else None
    paired = [100.0 * s["rps"] / e["rps"] for s, e in zip(rps["sidecar"], rps["envoy"])]
    cost_ratio = (100.0 * cpu_costs["sidecar"] / cpu_costs["envoy"]
                  if cpu_costs.get("sidecar") and cpu_costs.get("envoy") else None)
    rps_met = rps_ratio >= RPS_TARGET
    p50_met = p50_ratio is not None and p50_ratio <= P50_TARGET
    for row in rows:
        if "Portcullis sidecar" in row["what"]:
            row["target"] = "within 5% of stock Envoy"
    load_now = open("/proc/loadavg").read().split()[:3]
    rows.append({"what": "data path: Portcullis sidecar requests/s as % of stock Envoy's", "size": size_rps,
                 "unit": "%", "value": round(rps_ratio, 1), "load": " ".join(load_now),
                 "target": f">= {RPS_TARGET:.0f}%", "samples": len(paired),
                 "note": ("met" if rps_met else "NOT met") + "; per round (same round, back to back): "
                         + ", ".join(f"{p:.1f}%" for p in paired)
                         + f"; HAProxy {100.0 * medians['haproxy'] / medians['envoy']:.0f}%,"
                           f" direct {100.0 * medians['direct'] / medians['envoy']:.0f}% of stock Envoy;"
                           f" proxy CPU per request {fmt(cost_ratio, 1)}% of stock Envoy's"})
    rows.append({"what": "data path: Portcullis sidecar p50 latency as % of stock Envoy's", "size": size_lat,
                 "unit": "%", "value": None if p50_ratio is None else round(p50_ratio, 1),
                 "load": " ".join(load_now), "target": f"<= {P50_TARGET:.0f}%",
                 "note": ("met" if p50_met else "NOT met")
                         + f" (p50 {fmt(p50s['sidecar'])} us vs {fmt(p50s['envoy'])} us)"})

    machine = f"{args.machine}; {args.versions}"
    result = {"part": "datapath", "label": args.label, "started": args.started, "machine": machine, "rows": rows}
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.out)

    print(f"data path ({'smoke: ' if args.smoke else ''}{machine})")
    print(f"rps: {size_rps}")
    print(f"latency: {size_lat}")
    print(f"| {'variant':<18} | {'rps':>9} | {'vs Envoy':>8} | {'p50 us':>7} | {'p90 us':>7} | {'p99 us':>7} "
          f"| {'max us':>8} | {'proxy CPU':>9} | {'CPU us/req':>10} | load")
    print(f"|{'-' * 20}|{'-' * 11}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 10}|{'-' * 11}|{'-' * 12}|------")
    for name, median, lat, cpu, cost, load in table:
        print(f"| {name:<18} | {median:>9,.0f} | {100.0 * median / medians['envoy']:>7.0f}% | {fmt(lat['p50']):>7} "
              f"| {fmt(lat['p90']):>7} | {fmt(lat['p99']):>7} | {fmt(lat['max']):>8} | {cpu:>9} "
              f"| {fmt(cost, 1):>10} | {load}")
    print(f"target, sidecar vs stock Envoy with the same rule: rps {rps_ratio:.1f}% (>= {RPS_TARGET:.0f}%: "
          f"{'met' if rps_met else 'NOT met'}; per round {', '.join(f'{p:.1f}%' for p in paired)}), "
          f"p50 {fmt(p50_ratio, 1)}% (<= {P50_TARGET:.0f}%: {'met' if p50_met else 'NOT met'}); "
          f"proxy CPU per request {fmt(cpu_costs.get('sidecar'), 1)} us vs {fmt(cpu_costs.get('envoy'), 1)} us "
          f"({fmt(cost_ratio, 1)}%)")
    if broken:
        print("datapath: ERROR: " + "; ".join(broken), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
