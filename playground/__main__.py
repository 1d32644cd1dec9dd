"""`python -m playground`."""

from .cli import main

main(prog_name="playground")
