"""`python interrupted_train.py EPOCH [BATCH]`: the train stage, SIGKILLed (no clean-up at all) at
the start of EPOCH, or at batch BATCH of EPOCH: a power cut, an OOM kill, a preempted machine.

`python interrupted_train.py ctrl-c EPOCH`: `fullcycle train` through the real CLI, sent SIGINT (a
person's Ctrl-C) at the start of EPOCH."""

import signal
import sys

import lightning as L

from fullcycle import cli
from fullcycle.core import params
from fullcycle.train import stage


class Kill(L.Callback):
    """Sends the signal with raise(3), to this very thread: os.kill(getpid()) lets the kernel hand
    it to any thread (torch's, DVCLive's), and Python then raises KeyboardInterrupt in the main
    thread wherever it happens to be a moment later, under load sometimes inside a finaliser
    that swallows it ("Exception ignored in ..."): the Ctrl-C was lost and all epochs ran."""

    def __init__(self, epoch: int, batch: int | None, sig: int = signal.SIGKILL) -> None:
        self.epoch, self.batch, self.sig = epoch, batch, sig

    def on_train_epoch_start(self, trainer, pl_module):
        if self.batch is None and trainer.current_epoch == self.epoch:
            signal.raise_signal(self.sig)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            signal.raise_signal(self.sig)


if __name__ == "__main__":
    if sys.argv[1] == "ctrl-c":
        # A terminal delivers Ctrl-C as KeyboardInterrupt. A process started in the background
        # (nohup, `cmd &` in a script, some CI runners) inherits SIGINT *ignored*, and Python then
        # keeps it ignored: the signal was dropped and training ran all its epochs. Restore the
        # terminal's behaviour, which is what this test is about.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        run = stage.run
        stage.run = lambda cfg: run(cfg, callbacks=[Kill(int(sys.argv[2]), None, signal.SIGINT)])
        sys.exit(cli.main(["train"]))
    epoch, batch = int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None
    stage.run(params.load(), callbacks=[Kill(epoch, batch)])
