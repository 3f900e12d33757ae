"""`python interrupted_train.py EPOCH [BATCH]`: the train stage, SIGKILLed (no clean-up at all) at
the start of EPOCH, or at batch BATCH of EPOCH: a power cut, an OOM kill, a preempted machine."""

import os
import signal
import sys

import lightning as L

from fullcycle import params
from fullcycle.train import stage


class Kill(L.Callback):
    def __init__(self, epoch: int, batch: int | None) -> None:
        self.epoch, self.batch = epoch, batch

    def on_train_epoch_start(self, trainer, pl_module):
        if self.batch is None and trainer.current_epoch == self.epoch:
            os.kill(os.getpid(), signal.SIGKILL)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    epoch, batch = int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None
    stage.run(params.load(), callbacks=[Kill(epoch, batch)])
