"""Plugins bundled with efa-core, registered before any installed plugin.

Each module here is an ordinary plugin: it uses :data:`efa_core.hookspecs.hookimpl` exactly
as third-party plugins do, and :data:`efa_core.plugins.DEFAULT_PLUGINS` lists it.
"""
