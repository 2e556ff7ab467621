"""``python -m redact``: the command line."""
from redact.cli import main

main(prog_name="redact")
