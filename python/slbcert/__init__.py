"""slbcert for test suites: a throw-away slbcert server (`SlbcertServer`) and the pytest
fixtures built on it (`slbcert_server`, `slbcert`), registered through the `pytest11` entry
point of the slbcert wheel."""

from .server import Account, SlbcertServer, find_binary

__all__ = ["Account", "SlbcertServer", "find_binary"]
