"""Every recorded security event, also to the company's syslog receiver (FLASK_SYSLOG_ADDRESS).

A sign-in never waits for the network: the event, once its transaction has committed,
goes into a bounded queue, and a daemon thread of the process (started with the app,
never by a request) sends it as one RFC 5424 message through integrations.syslog. When
the queue is full (the receiver is slow or gone) the event is dropped and counted in
the metrics (`console_syslog_dropped_total`); so is one that cannot be sent. The message
holds what the event log holds (type, actor, subject, address, outcome, details): never
a code or a secret.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Final

from integrations import syslog
from security import events, observers

APP_NAME: Final = "otp-console"
# 32473 is the private enterprise number RFC 5612 sets aside for examples and documentation.
SD_ID: Final = "console@32473"
QUEUE_SIZE: Final = 1000
# How long an exiting process (a command) waits for its last events to go out.
EXIT_FLUSH_SECONDS: Final = 2.0

log = logging.getLogger(__name__)

Dropped = Callable[[str], None]


def _severity(outcome: str) -> int:
    if outcome in (events.FAILURE, events.REFUSED):
        return syslog.SEVERITY_WARNING
    return syslog.SEVERITY_NOTICE


def event_message(event: observers.RecordedEvent, *, hostname: str, procid: str) -> bytes:
    """The RFC 5424 message for one event."""
    return syslog.format_message(
        severity=_severity(event.outcome),
        moment=event.created_at,
        hostname=hostname,
        app_name=APP_NAME,
        procid=procid,
        msgid=event.type,
        sd_id=SD_ID,
        params=[
            ("type", event.type),
            ("actor", event.actor_login),
            ("subject", event.subject_login),
            ("address", event.ip),
            ("outcome", event.outcome),
        ],
        text=event.details,
    )


class SyslogForwarder:
    """A bounded queue of events and the daemon thread that sends them, one per process."""

    def __init__(
        self,
        address: syslog.Address,
        *,
        ca_file: str | None = None,
        dropped: Dropped = lambda reason: None,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self.address = address
        self.ca_file = ca_file
        self.dropped = dropped
        self.queue: queue.Queue[observers.RecordedEvent | None] = queue.Queue(queue_size)
        self.hostname = socket.gethostname()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._start_lock = threading.Lock()
        self._failing = False

    # --- the listener side, in the request's thread ---------------------------------

    def __call__(self, announcement: observers.Announcement) -> None:
        """Queue a committed event; never block, never raise."""
        if not isinstance(announcement, observers.RecordedEvent) or announcement.repeated:
            return
        self.start()
        try:
            self.queue.put_nowait(announcement)
        except queue.Full:
            self.dropped("queue_full")

    def start(self) -> None:
        """Start the sending thread of this process (again after a fork)."""
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            if self._pid != os.getpid() and self._pid:
                # A forked child: the parent's queued events and lock are not its own.
                self.queue = queue.Queue(self.queue.maxsize)
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="syslog-sender", daemon=True)
            self._thread.start()

    def flush(self, timeout: float) -> bool:
        """Wait until the queue is sent (or `timeout` passes); tell whether it was."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks:
            if time.monotonic() >= deadline or self._thread is None:
                return False
            time.sleep(0.01)
        return True

    # --- the sending thread -----------------------------------------------------------

    def _run(self) -> None:
        transport = syslog.Transport(self.address, ca_file=self.ca_file)
        procid = str(os.getpid())
        try:
            while True:
                event = self.queue.get()
                try:
                    if event is None:
                        return
                    self._send(transport, event, procid)
                finally:
                    self.queue.task_done()
        finally:
            transport.close()

    def _send(
        self, transport: syslog.Transport, event: observers.RecordedEvent, procid: str
    ) -> None:
        try:
            transport.send(event_message(event, hostname=self.hostname, procid=procid))
        except OSError as error:
            transport.close()
            self.dropped("unreachable")
            if not self._failing:  # one line per outage, not one per event
                log.warning(
                    "syslog receiver %s://%s:%s unreachable: %s",
                    self.address.scheme,
                    self.address.host,
                    self.address.port,
                    error,
                )
            self._failing = True
            return
        except Exception:  # the thread must outlive any surprise
            self.dropped("error")
            log.exception("could not send an event to syslog")
            return
        if self._failing:
            log.warning("syslog receiver reachable again")
        self._failing = False


_forwarder: SyslogForwarder | None = None


def configure(address: str, *, ca_file: str | None, dropped: Dropped) -> SyslogForwarder | None:
    """Forward the events to `address` from now on (empty: to nowhere); start the thread."""
    global _forwarder
    if _forwarder is not None:
        try:
            _forwarder.queue.put_nowait(None)  # the previous thread ends after what it holds
        except queue.Full:
            pass  # a daemon thread: it ends with the process
    _forwarder = None
    if address:
        _forwarder = SyslogForwarder(
            syslog.parse_address(address), ca_file=ca_file, dropped=dropped
        )
        _forwarder.start()
    observers.subscribe("syslog", _forwarder)
    return _forwarder


@atexit.register
def _flush_at_exit() -> None:
    # A command (`otp disable`, `notify send --once`) exits right after its commit: its
    # events still go out, unless the receiver does not answer within a moment.
    if _forwarder is not None and _forwarder._pid == os.getpid():
        _forwarder.flush(EXIT_FLUSH_SECONDS)
