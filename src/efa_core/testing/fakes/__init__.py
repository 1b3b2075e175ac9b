"""Local fake servers that speak the real formats of remote systems, for tests.

Each module serves one system as an ASGI app (run it with
:func:`efa_core.testing.servers.serve_asgi`): generated data, paging, and injectable faults.
"""
