"""The ``go-support`` command (installed as ``go_support.cli``)."""
