"""The crawl process's side of the ingest pipes (crawler.pipes) speaks multiprocessing's wire format.

The child reads and writes with plain ``multiprocessing`` Connections; the crawl process frames and
unframes by itself, without blocking. A message that is framed wrong, or split wrong across reads,
would reach the child as garbage or never; an end-of-crawl exchange that wrote before reading could
hang both processes on full pipes.
"""

from __future__ import annotations

import os
import threading
from multiprocessing import Pipe
from typing import Any

from crawler.pipes import FrameReader, FrameWriter, Unframer, exchange, frame

MESSAGES: list[Any] = [("settings", "k", {"a": 1}), ("page", 7, "k", b"\x00" * 300_000), ("stop",), None, "页面"]


def test_a_framed_message_is_what_a_connection_receives() -> None:
    reader, writer = Pipe(duplex=False)
    data = b"".join(frame(m) for m in MESSAGES)
    sender = threading.Thread(target=os.write, args=(writer.fileno(), data))  # more than the pipe holds
    sender.start()
    received = [reader.recv() for _ in MESSAGES]
    sender.join()
    assert received == MESSAGES


def test_what_a_connection_sends_is_unframed_whatever_the_reads() -> None:
    reader, writer = Pipe(duplex=False)
    sender = threading.Thread(target=lambda: [writer.send(m) for m in MESSAGES])
    sender.start()
    data = bytearray()
    while len(data) < sum(len(frame(m)) for m in MESSAGES):
        data += os.read(reader.fileno(), 1 << 16)
    sender.join()
    for step in (1, 7, 4096, len(data)):  # a header or a body split across reads, or all at once
        unframer, out = Unframer(), []
        for i in range(0, len(data), step):
            out += unframer.feed(bytes(data[i : i + step]))
        assert out == MESSAGES, step


def test_the_last_exchange_reads_while_it_writes() -> None:
    """The child answers each job with a reply bigger than a pipe holds while 5 MB of jobs wait: a
    crawl process that wrote everything before reading would hang with it."""
    jobs_r, jobs_w = Pipe(duplex=False)
    replies_r, replies_w = Pipe(duplex=False)

    def child() -> None:
        while (job := jobs_r.recv()) != ("stop",):
            replies_w.send(("reply", job[1], b"r" * 200_000))
        replies_w.close()

    thread = threading.Thread(target=child, daemon=True)
    thread.start()
    received: list[Any] = []
    reader = FrameReader(os.dup(replies_r.fileno()), received.append, lambda: None)
    writer = FrameWriter(os.dup(jobs_w.fileno()), reactor=None)
    writer.detach()  # no reactor here: exchange does the I/O
    for n in range(25):
        writer.send(("job", n, b"j" * 200_000))
    assert exchange(writer, reader, ("stop",), timeout_s=30)
    thread.join(5)
    assert [m[1] for m in received] == list(range(25))


def test_a_reader_gone_breaks_the_writer_without_an_error() -> None:
    jobs_r, jobs_w = Pipe(duplex=False)
    writer = FrameWriter(os.dup(jobs_w.fileno()), reactor=None)
    writer.detach()
    jobs_r.close()
    writer.send(("page", 1, "k", b"x"))
    assert writer.broken and not writer.pending
