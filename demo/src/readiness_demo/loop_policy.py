"""The asyncio event-loop policy the service needs on each platform."""

from __future__ import annotations

import asyncio
import sys


def configure_event_loop_policy() -> str:
    """Use the Proactor loop on Windows (subprocesses and sockets need it); elsewhere a no-op.

    Returns the name of the policy in force afterwards, for logs and evidence.
    """
    if sys.platform == "win32":
        policy_class = asyncio.WindowsProactorEventLoopPolicy
        if not isinstance(asyncio.get_event_loop_policy(), policy_class):
            asyncio.set_event_loop_policy(policy_class())
    return type(asyncio.get_event_loop_policy()).__name__
