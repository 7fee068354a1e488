"""``python -m sandbox [--host 127.0.0.1] [--port 8001] [--db var/sandbox/sandbox.sqlite3]``."""

import argparse
import contextlib
import socketserver
import sys
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .app import DEFAULT_DB, Sandbox


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 512  # many workers connect at once in the benchmark


class _QuietServerHandler(ServerHandler):
    def log_exception(self, exc_info):
        # A "timeout" fault answers after the client hung up: a broken pipe is expected then.
        if not isinstance(exc_info[1], (BrokenPipeError, ConnectionResetError)):
            super().log_exception(exc_info)


class _Handler(WSGIRequestHandler):
    verbose = False

    def log_message(self, format, *args):
        if self.verbose:
            super().log_message(format, *args)

    def handle(self):
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or not self.parse_request():
            return
        handler = _QuietServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler.run(self.server.get_app())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--db", default=str(DEFAULT_DB), help="the sandbox's own SQLite file")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    _Handler.verbose = args.verbose
    server = _Server((args.host, args.port), _Handler)
    server.set_app(Sandbox(args.db))
    print(f"Sandbox listening on http://{args.host}:{server.server_port}/ (control page /_sandbox/)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
