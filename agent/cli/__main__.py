"""Runs the command line as ``python -m agent.cli``."""
from agent.cli.main import entry

entry()
