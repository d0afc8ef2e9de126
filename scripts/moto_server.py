"""Serves moto (the AWS emulator) single-threaded on 127.0.0.1.

moto's own `moto_server` is threaded, and its DynamoDB is not atomic across threads (measured:
22 confirmed for 20 seats). Served from one thread, each request applies whole before the next,
as DynamoDB's transactions do. Usage: python scripts/moto_server.py PORT
"""

import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=False, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
