"""pytest plugin of efa-core, registered through the pytest11 entry point."""
