"""The loopback connector: a test server that is a folder of JSON files, driven through the real engine.

It exists so the sync engine and the contract test suite have a connector with every
behaviour a real one has (paging, cursors that go stale, pushes idempotent by key, each
class of error on demand) without a network peer. See ``client.py`` for the server.
"""
