"""Templates that ``efa new`` renders (package data; no code).

``connector/`` is a complete connector plugin package: file names and contents use
:class:`string.Template` placeholders (``${dist}``, ``${package}``, ``${type_name}``,
``${class_prefix}``, ``${entry_point}``, ``${efa_core_version}``); a path part named
``__package__`` becomes the package name and a ``.tmpl`` suffix is dropped.
"""
