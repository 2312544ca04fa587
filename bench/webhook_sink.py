#!/usr/bin/env python3
"""A fast webhook receiver for bench/webhooks.py: asyncio, HTTP/1.1 keep-alive, answers every POST
with 204 and appends `<arrival time> <webhook-id> <body>` to --log. Checks nothing (the test suite's
receiver checks signatures with the reference library); prints `PORT <n>` once listening."""

import argparse
import asyncio
import sys
import time


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            hook_id = b"-"
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"webhook-id":
                    hook_id = value.strip()
            body = await reader.readexactly(length) if length else b""
            log.write(b"%.6f %s %s\n" % (time.time(), hook_id, body))
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    log = open(args.log, "ab", buffering=1 << 16)
    server = await asyncio.start_server(lambda r, w: handle(r, w, log), "127.0.0.1", args.port)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    loop = asyncio.get_running_loop()
    loop.call_later(0, lambda: None)

    async def flush() -> None:
        while True:
            await asyncio.sleep(0.2)
            log.flush()

    flusher = asyncio.create_task(flush())
    async with server:
        await server.serve_forever()
    flusher.cancel()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
