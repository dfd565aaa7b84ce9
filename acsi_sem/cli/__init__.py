"""The ``acsi-sem`` command: ``main`` builds the parser and dispatches to one module per group
of sub-commands, which share the helpers in ``common`` (and none imports ``main`` back)."""
