"""``go-support emulator``: run the embedded Group-Office emulator as a server."""

from __future__ import annotations

import click

from go_support.emulator import Emulator


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port (0: any free port).")
@click.option(
    "--data",
    "data_path",
    default=":memory:",
    show_default=True,
    help="SQLite file that keeps the data between runs; :memory: keeps nothing.",
)
@click.option(
    "--admin-password",
    envvar="GO_SUPPORT_EMULATOR_ADMIN_PASSWORD",
    default=None,
    help="Let user 'admin' log in through api/auth.php with this password "
    "(env GO_SUPPORT_EMULATOR_ADMIN_PASSWORD).",
)
@click.option(
    "--fail-writes",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    metavar="FRACTION",
    help="Fail this fraction of /set calls as Group-Office does when its database deadlocks "
    "(dbException, nothing of the call kept), to test retries.",
)
@click.option(
    "--fail-seed",
    type=int,
    default=None,
    help="Seed that chooses the failing calls (the same seed fails the same calls).",
)
def emulator_command(
    host: str,
    port: int,
    data_path: str,
    admin_password: str | None,
    fail_writes: float,
    fail_seed: int | None,
) -> None:
    """Run a Group-Office-compatible JMAP server on SQLite, for demos and tests.

    It prints its URL and an admin API key, then serves until interrupted.

    \b
    Examples:
      go-support emulator --port 8080 --data desk.sqlite
      go-support emulator --fail-writes 0.1 --fail-seed 7   # 1 write in 10 deadlocks
    """
    emu = Emulator(data_path, admin_password=admin_password, fail_writes=fail_writes,
                   fail_seed=fail_seed)
    server = emu.start(host, port)
    click.echo(f"Group-Office emulator listening on {server.base_url}")
    click.echo(f"Admin API key: {server.admin_api_key}")
    if fail_writes:
        seed = "no seed" if fail_seed is None else f"seed {fail_seed}"
        click.echo(f"Failing {fail_writes:.0%} of /set calls as deadlocked ({seed}).")
    click.echo("Press Ctrl+C to stop.")
    try:
        import threading

        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("Stopping.")
    finally:
        emu.stop()
