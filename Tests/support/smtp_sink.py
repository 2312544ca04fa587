"""An SMTP server for tests: accepts mail on loopback and writes each message to a directory.

Built on aiosmtpd (Tests/blackbox/requirements.txt). Prints `PORT <n>` on stdout once listening, so a
test can start it with `--port 0` and read the port it got. Runs until killed.

    --port 0                       a free loopback port (printed), or a fixed one
    --tls-cert FILE --tls-key FILE STARTTLS, required before MAIL (or implicit TLS with --implicit-tls)
    --implicit-tls                 TLS from the first byte (smtps); needs --tls-cert/--tls-key
    --auth USER:PASSWORD           AUTH PLAIN/LOGIN, required before MAIL, offered only over TLS
    --exclude-auth PLAIN           leave a mechanism out of AUTH (to test a LOGIN-only server)
    --maildir DIR                  each accepted message as DIR/<n>.eml and DIR/<n>.json
    --fail 451,250                 successive DATA commands end with these codes, then 250 for good
    --reject-rcpt 550              every RCPT TO is answered with this code
    --pipelining                   announce PIPELINING (aiosmtpd reads pipelined commands in order anyway)
    --delay SECONDS                a slow receiver: wait this long after storing a message before answering

The JSON beside each message holds mail_from, rcpt_tos, mail_options, the connection's number (1 for
the first connection the sink accepted), whether it ran over TLS, and the authenticated user.
"""

import argparse
import asyncio
import itertools
import json
import logging
import os
import signal
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, args):
        self.maildir = args.maildir
        self.fail_codes = [int(code) for code in args.fail.split(",")] if args.fail else []
        self.reject_rcpt = int(args.reject_rcpt) if args.reject_rcpt else None
        self.pipelining = args.pipelining
        self.delay = args.delay
        self.message_numbers = itertools.count(1)
        self.connection_numbers = itertools.count(1)

    def connection_number(self, server):
        # Kept on the SMTP protocol object, one per connection: aiosmtpd starts a new session after
        # STARTTLS, and an id() could be reused once an earlier connection's object is freed.
        if not hasattr(server, "sink_connection_number"):
            server.sink_connection_number = next(self.connection_numbers)
        return server.sink_connection_number

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connection_number(server)
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt is not None:
            return f"{self.reject_rcpt} {'5.1.1' if self.reject_rcpt >= 500 else '4.2.0'} Recipient refused by test sink"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_codes:
            code = self.fail_codes.pop(0)
            if code != 250:
                return f"{code} {'4.3.0' if code < 500 else '5.3.0'} Failure requested by test sink"
        number = next(self.message_numbers)
        if self.maildir:
            base = os.path.join(self.maildir, str(number))
            with open(base + ".eml.tmp", "wb") as file:
                file.write(envelope.original_content)
            with open(base + ".json", "w") as file:
                json.dump({
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "mail_options": envelope.mail_options,
                    "connection": self.connection_number(server),
                    # session.ssl is set by STARTTLS only; an implicit-TLS transport has an SSL object.
                    "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
                    "user": session.auth_data.decode() if isinstance(session.auth_data, bytes) else None,
                    "received_at": time.time(),
                }, file)
            # The .eml appears last and whole, so a reader that sees it sees the .json too.
            os.rename(base + ".eml.tmp", base + ".eml")
        if self.delay:
            await asyncio.sleep(self.delay)
        return f"250 2.0.0 Ok: queued as SINK{number}"


def authenticator(expected_user, expected_password):
    def check(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login == expected_user and auth_data.password == expected_password:
            return AuthResult(success=True, auth_data=auth_data.login)
        return AuthResult(success=False, handled=False)
    return check


async def serve(args):
    # aiosmtpd logs every command at INFO and warns about its own deprecated attributes.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    handler = Handler(args)
    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; with implicit TLS every byte is
    # encrypted, so AUTH may be offered from the start.
    options = {"hostname": "sink.test", "enable_SMTPUTF8": True, "auth_require_tls": not args.implicit_tls}
    if args.auth:
        user, _, password = args.auth.partition(":")
        options.update(authenticator=authenticator(user.encode(), password.encode()), auth_required=True)
        if args.exclude_auth:
            options.update(auth_exclude_mechanism=args.exclude_auth)
    if tls_context and not args.implicit_tls:
        options.update(tls_context=tls_context, require_starttls=True)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, loop=loop, **options),
        host="127.0.0.1", port=args.port,
        ssl=tls_context if args.implicit_tls else None,
    )
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth", metavar="USER:PASSWORD")
    parser.add_argument("--exclude-auth", action="append", metavar="MECHANISM")
    parser.add_argument("--maildir")
    parser.add_argument("--fail", metavar="CODES", help="comma-separated DATA reply codes, e.g. 451,250")
    parser.add_argument("--reject-rcpt", metavar="CODE")
    parser.add_argument("--pipelining", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if args.implicit_tls and not args.tls_cert:
        parser.error("--implicit-tls needs --tls-cert and --tls-key")
    if args.auth and ":" not in args.auth:
        parser.error("--auth takes USER:PASSWORD")
    # A parent may spawn us from a thread that blocks these; SIGTERM and Ctrl-C must still stop us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
