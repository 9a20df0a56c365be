#!/usr/bin/env python3
"""Open-loop HTTP/1.1 client for bench/datapath: GET at a fixed rate, latency percentiles as JSON.

wrk only measures at saturation (every connection sends its next request as soon as the last one is
answered), and h2load's --rps reports no percentiles, so latency at a fixed low rate comes from here.

Requests are scheduled at t0 + i/rate, whatever the answers do (open loop), and go out on one of
--connections keep-alive connections that is idle. A request's latency is from the moment its bytes
were handed to the kernel to the moment its whole response was read. How late each send was against
its schedule (asyncio wakes up with millisecond granularity) is reported apart as "send_lag", so the
pacing is visible instead of silently inflating the latency. Only the standard library: it runs with
the python the lab already has.

Output (stdout, one JSON object): samples, p50, p90, p99, max (microseconds), achieved_rps,
send_lag_p99_us, errors (status or connection error -> count). Exit 1 if any request failed.
--samples-file keeps every latency, so that several runs can be pooled into one distribution.
"""
import argparse
import asyncio
import json
import socket
import sys
import time


class Connection:
    """One keep-alive connection; reads exactly one response (Content-Length framed) per request."""

    def __init__(self, loop, address, port):
        self.loop = loop
        self.address = address
        self.port = port
        self.sock = None
        self.buffer = b""

    async def open(self):
        self.close()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        await self.loop.sock_connect(sock, (self.address, self.port))
        self.sock = sock
        self.buffer = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    async def _fill(self):
        chunk = await self.loop.sock_recv(self.sock, 65536)
        if not chunk:
            raise ConnectionError("connection closed by peer")
        self.buffer += chunk

    async def exchange(self, request):
        """Sends the request; returns (send time, status) once the whole response is read."""
        sent = time.perf_counter()
        await self.loop.sock_sendall(self.sock, request)
        while b"\r\n\r\n" not in self.buffer:
            await self._fill()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise ValueError("response without Content-Length: " + lines[0])
        length = int(headers["content-length"])
        self.buffer = rest
        while len(self.buffer) < length:
            await self._fill()
        self.buffer = self.buffer[length:]
        if headers.get("connection", "").lower() == "close":
            await self.open()
        return sent, status


def percentile(sorted_values, fraction):
    """Nearest rank: the smallest value with at least `fraction` of the samples at or below it."""
    if not sorted_values:
        return None
    rank = max(1, -(-int(fraction * 1000000) * len(sorted_values) // 1000000))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def run(args):
    loop = asyncio.get_running_loop()
    request = f"GET {args.path} HTTP/1.1\r\nHost: {args.host}\r\nUser-Agent: pcb-paced\r\n\r\n".encode()
    idle = asyncio.Queue()
    for _ in range(args.connections):
        connection = Connection(loop, args.address, args.port)
        await connection.open()
        idle.put_nowait(connection)

    latencies, lags, errors = [], [], {}

    async def one(connection, scheduled, record):
        try:
            sent, status = await connection.exchange(request)
            done = time.perf_counter()
            if record:
                lags.append(sent - scheduled)
                if status == 200:
                    latencies.append(done - sent)
                else:
                    errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1
        except (OSError, ValueError) as e:
            if record:
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            try:
                await connection.open()
            except OSError:
                pass
        idle.put_nowait(connection)

    total = int(args.rate * (args.warmup + args.duration))
    warm = int(args.rate * args.warmup)
    start = time.perf_counter() + 0.01
    tasks = []
    for i in range(total):
        scheduled = start + i / args.rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        connection = await idle.get()
        tasks.append(asyncio.ensure_future(one(connection, scheduled, i >= warm)))
        if i == warm:
            measured_from = scheduled
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - measured_from
    while not idle.empty():
        idle.get_nowait().close()

    if args.samples_file:
        with open(args.samples_file, "w") as out:
            out.writelines(f"{seconds * 1e6:.1f}\n" for seconds in latencies)
    latencies.sort()
    lags.sort()
    micros = lambda seconds: None if seconds is None else round(seconds * 1e6, 1)
    return {
        "samples": len(latencies),
        "p50": micros(percentile(latencies, 0.50)),
        "p90": micros(percentile(latencies, 0.90)),
        "p99": micros(percentile(latencies, 0.99)),
        "max": micros(latencies[-1] if latencies else None),
        "achieved_rps": round((total - warm) / elapsed, 1),
        "send_lag_p99_us": micros(percentile(lags, 0.99)),
        "errors": errors,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True, help="IPv4 address to connect to")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--host", required=True, help="Host header")
    parser.add_argument("--path", default="/")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds sent first and not recorded")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--samples-file", help="also write every latency (microseconds, one a line) here")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result))
    sys.exit(1 if result["errors"] or not result["samples"] else 0)


if __name__ == "__main__":
    main()
