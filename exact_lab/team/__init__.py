"""Setting up and checking a team deployment: a PostgreSQL catalog and a shared data path.

    exact-lab team init postgresql://db-host/exact --data /shared/exact-data --team lab --admin alice
    exact-lab team check postgresql://db-host/exact --data /shared/exact-data

Both are also functions (``init_team``, ``check_team``) returning what they found, so a Hub's
start-up script can run them.
"""

from __future__ import annotations

from .checks import Finding, check_team
from .setup import init_team

__all__ = ["Finding", "check_team", "init_team"]
