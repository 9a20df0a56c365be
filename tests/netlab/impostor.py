#!/usr/bin/env python3
"""Impostor server for the Portcullis network lab.

Stands in for a host that egress policy must never let a pod reach. It records
every TCP connection it accepts, before reading any byte, as one line

    <ISO-8601 UTC time> accept port=<port> peer=<ip>:<port>

appended to the log file and flushed at once, so a test can assert that no
connection (not just no request) got through.

Port 80 answers any HTTP request with status 200 and body "impostor".
Any other port (443) reads whatever arrives, for a short while, and closes.

Usage: impostor.py --addr 198.18.0.66 --ports 80,443 --log STATE_DIR/impostor.log
"""
import argparse
import asyncio
import datetime
import os
import signal
import sys

HTTP_BODY = b"impostor"
READ_TIMEOUT = 5.0
MAX_HEADER = 64 * 1024


class Recorder:
    def __init__(self, path):
        # Line-buffered append; flush + fsync-free is enough for tests that
        # read the file after the connection attempt.
        self.f = open(path, "a", buffering=1, encoding="utf-8")

    def accept(self, port, peer):
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        host, pport = peer[0], peer[1]
        self.f.write(f"{now} accept port={port} peer={host}:{pport}\n")
        self.f.flush()


async def serve_http(reader, writer):
    buf = b""
    try:
        while b"\r\n\r\n" not in buf and b"\n\n" not in buf and len(buf) < MAX_HEADER:
            chunk = await asyncio.wait_for(reader.read(4096), READ_TIMEOUT)
            if not chunk:
                break
            buf += chunk
        if buf:
            writer.write(
                b"HTTP/1.1 200 OK\r\n"
                b"Content-Type: text/plain\r\n"
                b"Content-Length: " + str(len(HTTP_BODY)).encode() + b"\r\n"
                b"Connection: close\r\n"
                b"\r\n" + HTTP_BODY
            )
            await writer.drain()
    except (asyncio.TimeoutError, ConnectionError):
        pass


async def serve_sink(reader, writer):
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(4096), READ_TIMEOUT)
            if not chunk:
                break
    except (asyncio.TimeoutError, ConnectionError):
        pass


def make_handler(port, recorder):
    async def handle(reader, writer):
        peer = writer.get_extra_info("peername") or ("?", 0)
        recorder.accept(port, peer)
        try:
            if port == 80:
                await serve_http(reader, writer)
            else:
                await serve_sink(reader, writer)
        finally:
            try:
                writer.close()
                await writer.wait_closed()
            except Exception:
                pass

    return handle


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--addr", default="198.18.0.66")
    ap.add_argument("--ports", default="80,443")
    ap.add_argument("--log", required=True)
    ap.add_argument("--pid-file")
    args = ap.parse_args()

    recorder = Recorder(args.log)
    servers = []
    for p in (int(x) for x in args.ports.split(",") if x.strip()):
        servers.append(await asyncio.start_server(make_handler(p, recorder), args.addr, p, reuse_address=True))
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write(f"{os.getpid()}\n")
    print(f"impostor listening on {args.addr} ports {args.ports}, log {args.log}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for s in servers:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
