"""Where the training loop runs: a process of its own, a thread, or inline (no Qt here).

Every worker has the same interface, which is all the session uses:

* commands, any time, never blocking: :meth:`Worker.play`, ``pause``, ``step_batch``,
  ``step_epoch``, ``rewind``, ``reset``, ``adopt``, ``set_trainer``, ``set_learning_rate``,
  ``set_batch_size``, ``set_epochs``, ``set_speed``, ``ping``... (they take effect between two
  mini-batches, in the order they were sent);
* :meth:`Worker.drain`: everything the loop produced since the last call, in order: a
  :class:`~nnstudio.core.BatchReport` per mini-batch, or a
  :class:`~nnstudio.training.reportblock.ReportBlock` of consecutive ones (from a process; none
  dropped either way), and message tuples (see :mod:`nnstudio.training.loop`);
* :meth:`Worker.fileno`: a file descriptor that becomes readable when there is something to
  drain, so a GUI can wake up for it (a ``QSocketNotifier``) instead of polling;
* :meth:`Worker.acknowledge`: how many reports the receiver has taken in (back-pressure: more
  than ``max_backlog`` behind, the loop waits);
* ``start()``, ``stop()`` (always ends the loop, escalating to SIGKILL for a hung process) and
  ``alive``.

:class:`ProcessWorker` (the default) runs the loop in a ``forkserver`` child: a ~20 µs
mini-batch and the GUI's painting would otherwise slow each other down through the interpreter
lock.  :class:`ThreadWorker` runs it in a thread of this process (``NNSTUDIO_WORKER=thread``,
or where no process can be started).  :class:`InlineWorker` runs it in the caller's thread when
drained: deterministic, for tests and headless use.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
import time
import traceback
from collections import deque

import numpy as np

from nnstudio.training.loop import TrainingLoop
from nnstudio.training.reportblock import BlockBuilder, ReportBlock

log = logging.getLogger(__name__)

#: seconds between two flushes of the batch rows at full speed (training process)
FLUSH_EVERY = 0.012
#: seconds between two looks at the command pipe at full speed (a pause lands this fast)
POLL_EVERY = 0.002
#: at full speed a thread worker sleeps YIELD_SLEEP seconds every YIELD_EVERY seconds (see interrupted)
YIELD_EVERY = 0.010
YIELD_SLEEP = 0.0001


class Worker:
    """The commands every worker understands; subclasses implement :meth:`send` and the rest."""

    #: True when the loop runs in another process (the GUI need not step aside while painting)
    separate_process = False
    #: start() was called
    started = False
    #: commands sent so far (the loop numbers the states it sends by the commands it handled)
    sent = 0

    def send(self, *cmd) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ commands
    def play(self) -> None:
        self.send("mode", "play")

    def pause(self) -> None:
        self.send("mode", "pause")

    def step_batch(self) -> None:
        self.send("mode", "batch")

    def step_epoch(self) -> None:
        self.send("mode", "epoch")

    def rewind(self) -> None:
        self.send("rewind")

    def reset(self, seed: int | None) -> None:
        self.send("reset", seed)

    def adopt(self, params) -> None:
        """Carry on the run from these weights (copied now)."""
        self.send("adopt", [np.array(p) for p in params])

    def set_trainer(self, trainer) -> None:
        """Hand over a new trainer (the caller must not touch it afterwards); pauses."""
        self.send("trainer", trainer)

    def set_learning_rate(self, eta: float) -> None:
        self.send("lr", float(eta))

    def set_batch_size(self, n: int) -> None:
        self.send("bs", int(n))

    def set_epochs(self, n: int | None) -> None:
        self.send("epochs", None if not n else int(n))

    def set_speed(self, batches_per_second: float) -> None:
        self.send("speed", float(batches_per_second or 0.0))

    def request_snapshot(self) -> None:
        self.send("snapshot")

    def set_snapshot_interval(self, seconds: float) -> None:
        """How often to copy the network while running (a GUI's frame interval, ≥ 1/60 s)."""
        self.send("snapint", max(1.0 / 60.0, float(seconds)))

    def ping(self, token: int = 0) -> None:
        """Ask for a ``("pong", token)`` message: every earlier command has been handled by then."""
        self.send("ping", int(token))

    def acknowledge(self, consumed: int) -> None:
        self.send("consumed", int(consumed))

    def fileno(self) -> int | None:
        return None

    @property
    def alive(self) -> bool:
        return True


# ====================================================================================== inline
class _InlineLoop(TrainingLoop):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.cmds: deque = deque()
        self.out: list = []

    def pending(self) -> list:
        cmds, self.cmds = list(self.cmds), deque()
        return cmds

    def wait(self, timeout) -> None:
        pass

    def emit(self, *msg) -> None:
        self.out.append(msg)

    def record(self, report) -> None:
        self.out.append(report)


class InlineWorker(Worker):
    """The loop runs in the caller's thread when drained (at most ``steps_per_drain`` mini-batches
    per :meth:`drain`): deterministic, for tests and headless use."""

    def __init__(self, steps_per_drain: int = 50, **kw):
        self.loop = _InlineLoop(**kw)
        self.steps_per_drain = steps_per_drain
        self.loop.emit("state", "idle")

    def send(self, *cmd) -> None:
        self.sent += 1
        self.loop.cmds.append(cmd)

    def acknowledge(self, consumed: int) -> None:
        self.loop.consumed = int(consumed)

    def start(self) -> None:
        self.started = True

    def stop(self, timeout: float = 0) -> bool:
        self.loop.abort = True
        return True

    def drain(self) -> list:
        loop = self.loop
        steps = loop.recorded + self.steps_per_drain
        while not loop.abort and loop.recorded < steps and (
                loop.cmds or (loop._trainer is not None and loop._mode != "pause")):
            loop._next_due = 0.0  # (no waiting in slow motion here)
            before = loop.recorded
            loop.turn(max_steps=steps - loop.recorded)
            if loop.recorded == before and not loop.cmds:
                break  # (finished, or nothing to do)
        out, loop.out = loop.out, []
        return out


# ====================================================================================== outbox
class _Outbox:
    """What a worker produced, waiting to be drained: a deque, plus a pipe that becomes readable
    when there is something new (one byte per drain cycle at most, not one per item)."""

    def __init__(self):
        self._out: deque = deque()
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self._signalled = False

    def _put(self, item) -> None:
        self._out.append(item)
        self._wake()

    def _put_all(self, items) -> None:
        self._out.extend(items)
        self._wake()

    def _wake(self) -> None:
        if not self._signalled:
            self._signalled = True
            try:
                os.write(self._w, b"x")
            except OSError:  # (full or closed: the reader has not drained yet, or is gone)
                pass

    def fileno(self) -> int:
        return self._r

    def _take(self) -> list:
        if self._signalled:
            self._signalled = False
            try:
                while os.read(self._r, 4096):
                    pass
            except OSError:
                pass
        q = self._out
        return [q.popleft() for _ in range(len(q))]

    def _close_outbox(self) -> None:
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._r = self._w = -1


# ====================================================================================== thread
class _ThreadLoop(TrainingLoop):
    def __init__(self, worker: "ThreadWorker", **kw):
        super().__init__(**kw)
        self.w = worker
        self._next_yield = 0.0

    def pending(self) -> list:
        cmds = self.w._cmds
        return [cmds.popleft() for _ in range(len(cmds))]

    def wait(self, timeout) -> None:
        w = self.w
        with w._cond:
            if not w._cmds and not self.abort:
                w._cond.wait(timeout)

    def emit(self, *msg) -> None:
        self.w._put(msg)

    def record(self, report) -> None:
        self.w._put(report)

    def interrupted(self, now: float) -> bool:
        w = self.w
        if w.hold:  # the GUI is drawing a frame: step aside (see ThreadWorker.hold)
            end = now + 0.1
            while w.hold and not w._cmds and not self.abort and time.perf_counter() < end:
                time.sleep(0.0003)
            return True
        if now >= self._next_yield:
            # Let the GUI thread in: the trainer's NumPy calls drop and re-take the GIL all the
            # time, and a thread waiting for it can lose that race for tens of milliseconds
            # (CPython's GIL is not fair).  A short sleep every few ms hands it over for sure.
            time.sleep(YIELD_SLEEP)
            self._next_yield = time.perf_counter() + YIELD_EVERY
        return bool(w._cmds) or self.abort


class ThreadWorker(_Outbox, Worker):
    """The loop in a thread of this process.  While a GUI draws a frame it sets :attr:`hold`,
    and the loop steps aside: painting releases and re-takes the GIL at many Qt calls, and each
    time it would wait up to a switch interval for the busy trainer to let go of it."""

    def __init__(self, *, snapshot_hz: float = 60.0, max_backlog: int = 3000):
        super().__init__()
        self._cmds: deque = deque()
        self._cond = threading.Condition()
        self.hold = False
        self.loop = _ThreadLoop(self, snapshot_hz=snapshot_hz, max_backlog=max_backlog)
        self._thread: threading.Thread | None = None

    def send(self, *cmd) -> None:
        self.sent += 1
        self._cmds.append(cmd)
        with self._cond:
            self._cond.notify_all()

    def acknowledge(self, consumed: int) -> None:
        self.loop.consumed = int(consumed)

    def set_snapshot_interval(self, seconds: float) -> None:
        self.loop.snap_interval = max(1.0 / 60.0, float(seconds))

    def _run(self) -> None:
        np.seterr(all="ignore")  # a diverging run is reported (report.diverged), not warned about
        try:
            self.loop.run()
        except Exception as e:  # never let an exception kill the thread silently
            log.error("training thread failed:\n%s", traceback.format_exc())
            self._put(("error", f"training stopped: {type(e).__name__}: {e}", traceback.format_exc()))
        self._put(("finished",))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="nnstudio-training", daemon=True)
        self._thread.start()
        self.started = True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def drain(self) -> list:
        return self._take()

    def stop(self, timeout: float = 10.0) -> bool:
        """Abort the loop and join the thread.  True if it ended."""
        if self._thread is None:
            return True
        self.loop.abort = True
        self._cmds.append(("abort",))
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout)
        ok = not self._thread.is_alive()
        if not ok:  # pragma: no cover - a step never takes this long
            log.error("training thread did not stop within %.0f s", timeout)
        else:
            self._close_outbox()
        self._thread = None
        return ok


# ====================================================================================== process
class _ProcessLoop(TrainingLoop):
    """The loop in the training process: commands from one pipe, messages down another.  Batch
    reports go as one array (a :class:`~nnstudio.training.reportblock.ReportBlock`'s rows) every
    FLUSH_EVERY seconds and before any other message; a batch's example indices are a slice of
    its epoch's order, which is sent once per epoch."""

    def __init__(self, cmd_conn, msg_conn, **kw):
        super().__init__(**kw)
        self.cmd = cmd_conn
        self.out = msg_conn
        self.rows = BlockBuilder()
        self.new_perms: dict = {}
        self.perm = None
        self.perm_id = 0
        self._next_poll = self._next_flush = 0.0

    def pending(self) -> list:
        cmds, cmd = [], self.cmd
        while cmd.poll():
            cmds.append(cmd.recv())
        return cmds

    def wait(self, timeout) -> None:
        self.cmd.poll(timeout)

    def flush(self) -> None:
        if len(self.rows) or self.new_perms:
            rows, extras = self.rows.take()
            self.out.send(("block", self.new_perms, rows, extras))
            self.new_perms = {}

    def emit(self, *msg) -> None:
        self.flush()  # every batch before whatever comes next
        self.out.send(msg)

    def record(self, r) -> None:
        perm = r.indices.base
        if perm is not self.perm:
            self.perm = perm
            self.perm_id += 1
            if perm is None:  # (not a slice of an epoch order: send the indices themselves)
                self.perm_id = -1
            else:
                self.new_perms[self.perm_id] = perm
        self.rows.add(r, self.perm_id)

    def interrupted(self, now: float) -> bool:
        if now < self._next_poll:
            return False
        self._next_poll = now + POLL_EVERY
        if now >= self._next_flush:
            self.flush()
            self._next_flush = now + FLUSH_EVERY
        return self.cmd.poll()


def process_main(cmd_conn, msg_conn, snapshot_hz: float = 60.0, max_backlog: int = 3000) -> None:
    """Entry point of the training process."""
    np.seterr(all="ignore")  # a diverging run is reported (report.diverged), not warned about
    loop = _ProcessLoop(cmd_conn, msg_conn, snapshot_hz=snapshot_hz, max_backlog=max_backlog)
    try:
        loop.run()
    except (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        return  # the GUI went away
    except Exception as e:  # never die silently: tell the GUI why
        try:
            loop.emit("error", f"training stopped: {type(e).__name__}: {e}", traceback.format_exc())
        except OSError:
            return
    try:
        loop.emit("finished")
    except OSError:
        pass


_CTX = None


def _context():
    global _CTX
    if _CTX is None:
        # One BLAS thread in the training process, as the CLI does for itself: its matrices
        # are small, and idle OpenBLAS threads spin on the core the GUI needs.  (Read when
        # the server process imports numpy: it inherits this environment.)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        if "forkserver" in mp.get_all_start_methods():
            _CTX = mp.get_context("forkserver")
            # the server imports these once; every training process starts with them loaded
            _CTX.set_forkserver_preload(["numpy", "nnstudio.core", "nnstudio.training.workers"])
        else:  # pragma: no cover - Windows
            _CTX = mp.get_context("spawn")
    return _CTX


def warm_up() -> None:
    """Start the training processes' server now, so that it imports NumPy and the engine while the
    caller builds its window (the first training process then starts in milliseconds; starting
    the server then waited ~0.25 s for those imports).  Idempotent; nothing for a thread worker."""
    if os.environ.get("NNSTUDIO_WORKER", "process").strip().lower() in ("thread", "inline"):
        return
    try:
        if _context().get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()
    except Exception:  # pragma: no cover - the worker's own start says what is wrong
        log.debug("could not start the forkserver early", exc_info=True)


def _widen(conn, size: int = 1 << 20) -> None:
    """Give a pipe a 1 MB buffer (Linux; the default 64 KB is less than one snapshot of a
    784-100-10 network, so the trainer would wait for the GUI to read each one)."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError, ValueError):  # pragma: no cover - other systems, or capped
        pass


class ProcessWorker(_Outbox, Worker):
    """The loop in a process of its own.  ``set_trainer`` pickles the trainer across (the caller's
    copy is not used again).  A reader thread (no Qt) takes the process's messages as they come
    and queues them for :meth:`drain`, the mini-batch reports as
    :class:`~nnstudio.training.reportblock.ReportBlock` items (one per few milliseconds of
    training): the process can always send, so a command (even a new trainer of 50 MB) never
    waits for it."""

    separate_process = True

    def __init__(self, *, snapshot_hz: float = 60.0, max_backlog: int = 30_000):
        super().__init__()
        self._snapshot_hz = float(snapshot_hz)
        self._backlog = int(max_backlog)
        self._cmd = None  # our end of the command pipe
        self._msg = None  # our end of the message pipe
        self._perms: dict = {}
        self._consumed = 0
        self._snap_sent = None
        self._reader: threading.Thread | None = None
        self._stopping = False
        self.process = None
        self.hold = False  # (the thread worker's; nothing to step aside from here)

    def start(self) -> None:
        ctx = _context()
        cmd_recv, cmd_send = ctx.Pipe(duplex=False)
        msg_recv, msg_send = ctx.Pipe(duplex=False)
        _widen(msg_send)
        self.process = ctx.Process(target=process_main, args=(cmd_recv, msg_send, self._snapshot_hz, self._backlog),
                                   name="nnstudio-training", daemon=True)
        self.process.start()
        self.started = True
        cmd_recv.close()  # the child's ends: closed here so EOF is seen when it exits
        msg_send.close()
        self._cmd, self._msg = cmd_send, msg_recv
        self._reader = threading.Thread(target=self._read, name="nnstudio-training-reader", daemon=True)
        self._reader.start()

    def send(self, *cmd) -> None:
        conn = self._cmd
        if conn is None:
            return
        self.sent += 1
        try:
            conn.send(cmd)
        except (OSError, ValueError):  # the process is gone: the reader reports it
            pass

    def acknowledge(self, consumed: int) -> None:
        if consumed != self._consumed:
            self._consumed = int(consumed)
            self.send("consumed", self._consumed)

    def set_snapshot_interval(self, seconds: float) -> None:
        seconds = max(1.0 / 60.0, float(seconds))
        if seconds != self._snap_sent:
            self._snap_sent = seconds
            self.send("snapint", seconds)

    @property
    def alive(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def drain(self) -> list:
        return self._take()

    # ------------------------------------------------------------------ the reader (its own thread)
    def _read(self) -> None:
        conn = self._msg
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                if not self._stopping:
                    self._put(("error", "training stopped: the training process ended unexpectedly", ""))
                return
            except Exception as e:  # pragma: no cover - a message that cannot be read
                self._put(("error", f"training stopped: {type(e).__name__}: {e}", traceback.format_exc()))
                return
            if msg[0] == "block":
                self._put(self._block(msg[1], msg[2], msg[3]))
                continue
            self._put(msg)
            if msg[0] == "finished":
                return

    def _block(self, new_perms: dict, rows: np.ndarray, extras: dict) -> ReportBlock:
        perms = self._perms
        if new_perms:
            perms.update(new_perms)
        ids = rows["perm"]
        used = {int(ids[0]), int(ids[-1])} if len(ids) else set()
        if len(used) == 2 and len(ids) > 2:  # (orders change at an epoch's end: rarely more than two)
            used.update(int(i) for i in np.unique(ids))
        block = ReportBlock(rows, extras, {i: perms[i] for i in used if i >= 0 and i in perms})
        if len(perms) > 1:  # later rows can only name the last epoch order or newer ones
            last = int(ids[-1]) if len(ids) else max(perms)
            for k in [k for k in perms if k < last]:
                del perms[k]
        return block

    def stop(self, timeout: float = 10.0) -> bool:
        """Abort the loop and join the process and the reader; a process that does not end is
        terminated, then killed.  Always returns (True if it ended by itself)."""
        p = self.process
        if p is None:
            return True
        self._stopping = True
        self.send("abort")
        p.join(timeout)
        ok = not p.is_alive()
        if not ok:
            log.error("training process did not stop within %.0f s; terminating it", timeout)
            p.terminate()
            p.join(2)
            if p.is_alive():
                p.kill()
                p.join(2)
        if self._cmd is not None:
            self._cmd.close()
        if self._reader is not None:
            self._reader.join(5)  # (EOF once the process is gone)
        if self._msg is not None:
            self._msg.close()
        self._cmd = self._msg = None
        try:
            p.close()
        except ValueError:  # pragma: no cover - still running after SIGKILL (never seen)
            pass
        self.process = None
        self._close_outbox()
        return ok


def make_worker(kind: str | None = None, **kw) -> Worker:
    """The default worker: a process (``NNSTUDIO_WORKER=thread`` for a thread, ``inline`` for the
    caller's thread); a thread where no process can be started."""
    kind = (kind or os.environ.get("NNSTUDIO_WORKER", "process")).strip().lower()
    if kind == "inline":
        return InlineWorker(**kw)
    if kind != "thread":
        try:
            _context()
            return ProcessWorker(**kw)
        except Exception:  # pragma: no cover - no multiprocessing here: a thread works too
            log.warning("training process unavailable; training in a thread:\n%s", traceback.format_exc())
    return ThreadWorker(**kw)
