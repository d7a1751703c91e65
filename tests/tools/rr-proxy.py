#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""rr-proxy: a TCP load balancer on loopback, for tests/cli/test_replicas.sh.

    rr-proxy.py PORT_FILE STATS_FILE HOST:PORT...

Listens on 127.0.0.1 (a free port, written to PORT_FILE once listening).
Each new client connection goes to the next backend in turn; a backend that
refuses the connection is skipped for that connection, as a load balancer's
passive health check does, and the next one is tried.  Bytes are copied both
ways until either side closes.  On SIGTERM, writes to STATS_FILE (JSON,
snake_case): per backend, the connections it took and the times it refused.
"""
import asyncio
import json
import os
import signal
import sys


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except (ConnectionError, OSError):
            pass


async def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    port_file, stats_file, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    backends = [(h, int(p)) for h, p in (n.rsplit(":", 1) for n in names)]
    taken = [0] * len(backends)
    refused = [0] * len(backends)
    turn = 0

    async def handle(client_r, client_w):
        nonlocal turn
        first = turn
        turn = (turn + 1) % len(backends)
        for i in range(len(backends)):
            k = (first + i) % len(backends)
            try:
                back_r, back_w = await asyncio.open_connection(*backends[k])
            except OSError:
                refused[k] += 1
                continue
            taken[k] += 1
            await asyncio.gather(pipe(client_r, back_w), pipe(back_r, client_w))
            return
        client_w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{port}\n")
    os.rename(port_file + ".tmp", port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()
    stats = {"version": 1, "backends": [
        {"address": names[k], "connections": taken[k], "refused": refused[k]}
        for k in range(len(backends))]}
    with open(stats_file + ".tmp", "w") as f:
        json.dump(stats, f)
    os.rename(stats_file + ".tmp", stats_file)


if __name__ == "__main__":
    asyncio.run(main())
