"""Pickled messages over a pipe, read and written by the reactor itself (no threads).

The crawl process talks to its ingest child (``crawler.ingestproc``) over two one-way pipes. The
child's end is a plain ``multiprocessing.connection.Connection`` (blocking; it has nothing else to
do). The crawl process's end must never block the reactor, and threads doing the blocking I/O for it
cost more than the I/O: every message made a thread take the GIL back from the busy reactor thread
(a wait of up to the 5 ms switch interval), and every reply woke the reactor through
``callFromThread``. So here both ends are non-blocking file descriptors on the reactor's own loop,
framed exactly as ``Connection.send_bytes`` frames them (a 4-byte big-endian length; -1 and 8 bytes
for a message over 2 GiB), so the child's ``Connection`` reads and writes the same bytes.

After the reactor has stopped, ``exchange`` finishes the conversation with a blocking loop of its own.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from typing import Any

from twisted.internet import main
from twisted.python.failure import Failure

READ_CHUNK = 1 << 20


def frame(message: Any) -> bytes:
    """The bytes ``Connection.send(message)`` would write."""
    body = bytes(ForkingPickler.dumps(message))
    if len(body) > 0x7FFFFFFF:
        return struct.pack("!i", -1) + struct.pack("!Q", len(body)) + body
    return struct.pack("!i", len(body)) + body


class Unframer:
    """Bytes in, whole messages out, as ``Connection.recv`` would return them."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self._buffer += data
        messages: list[Any] = []
        while (size := self._next_size()) is not None:
            header, length = size
            if len(self._buffer) < header + length:
                break
            messages.append(pickle.loads(self._buffer[header : header + length]))
            del self._buffer[: header + length]
        return messages

    def _next_size(self) -> tuple[int, int] | None:
        if len(self._buffer) < 4:
            return None
        (length,) = struct.unpack_from("!i", self._buffer)
        if length != -1:
            return 4, length
        if len(self._buffer) < 12:
            return None
        return 12, struct.unpack_from("!Q", self._buffer, 4)[0]


class FrameReader:
    """The reactor reads the pipe when it is readable and hands each whole message to ``on_message``;
    ``on_end`` runs once, at EOF or on a read error (the writer is gone)."""

    def __init__(self, fd: int, on_message: Callable[[Any], None], on_end: Callable[[], None]) -> None:
        self.fd, self.on_message, self.on_end = fd, on_message, on_end
        self.unframer = Unframer()
        self.ended = False  # EOF or a read error seen: the writer is gone
        os.set_blocking(fd, False)

    def fileno(self) -> int:
        return self.fd

    def logPrefix(self) -> str:
        return "ingest-replies"

    def doRead(self) -> BaseException | None:
        try:
            data = os.read(self.fd, READ_CHUNK)
        except BlockingIOError:
            return None
        except OSError:
            self.ended = True
            return main.CONNECTION_LOST  # the reactor's way: it then calls connectionLost
        if not data:
            self.ended = True
            return main.CONNECTION_DONE
        for message in self.unframer.feed(data):
            self.on_message(message)
        return None

    def connectionLost(self, reason: Failure) -> None:
        # Also called when the reactor shuts down (it disconnects every reader): that is no end of the
        # pipe, and ``exchange`` reads on from it.
        if self.ended:
            self.on_end()


class FrameWriter:
    """Writes messages without blocking: what the pipe does not take now is kept and written when the
    reactor says the pipe is writable again. ``broken`` once the reader is gone (EPIPE)."""

    def __init__(self, fd: int, reactor: Any) -> None:
        self.fd, self.reactor = fd, reactor
        self.pending: deque[memoryview] = deque()
        self.broken = False
        self._registered = False
        self._attached = True  # on the reactor: it calls doWrite when the pipe takes more
        os.set_blocking(fd, False)

    def fileno(self) -> int:
        return self.fd

    def logPrefix(self) -> str:
        return "ingest-jobs"

    def send(self, message: Any) -> None:
        if self.broken:
            return
        self.pending.append(memoryview(frame(message)))
        self.doWrite()

    def doWrite(self) -> None:
        while self.pending and not self.broken:
            try:
                written = os.write(self.fd, self.pending[0])
            except BlockingIOError:
                break
            except OSError:  # EPIPE: the child is gone; its reader's EOF reports it
                self.broken = True
                self.pending.clear()
                break
            if written == len(self.pending[0]):
                self.pending.popleft()
            else:
                self.pending[0] = self.pending[0][written:]
        self._register(bool(self.pending) and not self.broken)

    def _register(self, wanted: bool) -> None:
        if self._attached and wanted != self._registered:
            (self.reactor.addWriter if wanted else self.reactor.removeWriter)(self)
            self._registered = wanted

    def connectionLost(self, reason: Failure) -> None:
        # The reactor shutting down (it disconnects every writer): the pipe is fine, ``exchange``
        # writes the rest. A gone reader shows as EPIPE in doWrite.
        self._registered = False

    def detach(self) -> None:
        """Off the reactor (it is stopping or stopped): ``exchange`` takes over."""
        self._register(False)
        self._attached = False


def exchange(writer: FrameWriter, reader: FrameReader, last: Any, timeout_s: float) -> bool:
    """After the reactor: write what is pending and ``last``, and read replies (to ``reader``'s
    handler) until the child closes its end. Both directions at once, so neither side can block the
    other on a full pipe. False if the child had not closed its end within ``timeout_s``."""
    writer.detach()
    writer.send(last)
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        wanted = [writer.fd] if writer.pending and not writer.broken else []
        readable, writable, _ = select.select([reader.fd], wanted, [], min(left, 1.0))
        if writable:
            writer.doWrite()
        if readable and reader.doRead() is not None:
            return True
    return False
