"""The fork server that the signing processes fork from, startable before anything heavy loads.

A command that signs (`sceau issue`, `resume`, `worker`) starts it first thing, so the fork
server imports the signing code on another core while the command imports its own, unlocks
the keys and stages the results: the pool's processes then fork from it ready to sign. This
module imports nothing but `multiprocessing`, so starting the server costs the command nothing.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
from multiprocessing import forkserver

# What the fork server imports once, for every process forked from it. issuer.worker_lifetime
# comes first: it arms the fork server to die with the process that started it. The signing
# processes need only rendering and signing (issuer.signing_worker), and the delivery
# processes only opening certificates and building messages (issuer.delivery_work): neither
# the database nor the chain.
SIGNING_PRELOAD = ["issuer.worker_lifetime", "issuer.signing_worker", "issuer.delivery_work"]


def start_signing_server() -> multiprocessing.context.ForkServerContext:
    """Start the fork server the signing processes fork from, without waiting for it; calling
    it again costs nothing."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(SIGNING_PRELOAD)
    forkserver.ensure_running()
    return context
