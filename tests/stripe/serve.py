"""Runs localstripe on 127.0.0.1:<port> with its state in memory only.

localstripe's own command listens on every interface and keeps its state in /tmp/localstripe.pickle, shared by
every run on the machine; the tests need neither. Usage: python serve.py <port>
"""
import sys

from aiohttp import web
from localstripe import resources, server

resources.Store.dump_to_disk = lambda self: None

port = int(sys.argv[1])
web.run_app(server.app, host="127.0.0.1", port=port, access_log=None,
            print=lambda *_: print(f"localstripe listening on 127.0.0.1:{port}", flush=True))
