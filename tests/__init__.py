"""go-support's tests (a package, so that tests/cli and tests/migrations are not importable as
``cli`` and ``migrations``)."""
