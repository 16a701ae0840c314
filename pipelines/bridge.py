"""From a concurrent.futures Future (a worker process's, the store thread's) to a Deferred."""

from __future__ import annotations

from concurrent.futures import Future
from typing import TypeVar

from twisted.internet import defer, reactor

T = TypeVar("T")


def deferred_from(future: Future[T]) -> defer.Deferred[T]:
    """A Deferred fired in the reactor thread when ``future`` is done."""
    d: defer.Deferred[T] = defer.Deferred()

    def done(f: Future[T]) -> None:
        error = f.exception()
        if error is None:
            reactor.callFromThread(d.callback, f.result())
        else:
            reactor.callFromThread(d.errback, error)

    future.add_done_callback(done)
    return d
