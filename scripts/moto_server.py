"""Serves moto (the AWS emulator) single-threaded on 127.0.0.1.

moto's own `moto_server` is threaded, and its DynamoDB is not atomic across threads (measured:
22 confirmed for 20 seats). Served from one thread, each request applies whole before the next,
as DynamoDB's transactions do. Usage: python scripts/moto_server.py PORT
"""

import copy
import sys

import moto.dynamodb.models as dynamodb_models
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


class _CopyOncePerTable:
    """Stands in for the `copy` module inside moto's DynamoDB transactions only.

    moto keeps a rollback copy of a table by deep-copying the whole table once per *item* of a
    TransactWriteItems call, so a 100-item transaction on a table of a few thousand items copies
    it 100 times (measured: an import of the MiRVOG fixtures slowed to one transaction every
    few seconds, and the server grew past 4 GB). The copies are all taken before any item is
    applied, so one copy per table gives the same rollback state.
    """

    def __init__(self):
        self._copies = {}

    def deepcopy(self, obj, *args, **kwargs):
        # The original is kept beside its copy, so that its id cannot be reused meanwhile.
        key = id(obj)
        if key not in self._copies:
            self._copies[key] = (obj, copy.deepcopy(obj, *args, **kwargs))
        return self._copies[key][1]

    def __getattr__(self, name):
        return getattr(copy, name)


def _copy_tables_once_per_transaction():
    original = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        dynamodb_models.copy = _CopyOncePerTable()
        try:
            return original(self, transact_items)
        finally:
            dynamodb_models.copy = copy

    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    _copy_tables_once_per_transaction()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=False, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
