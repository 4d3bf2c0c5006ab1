"""The ``go-support`` command (installed as ``go_support.cli``)."""

if __name__ != "go_support.cli":  # one name per module: a second one would copy every class
    raise ImportError(f"import go_support.cli, not {__name__} (cli/ is installed under go_support)")
