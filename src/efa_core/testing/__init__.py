"""Test kit for plugin authors (see efa_core.testing.pytest_plugin)."""
