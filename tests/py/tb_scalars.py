"""Read a run's TensorBoard event files with the tensorboard package's own reader (EventAccumulator) and print every
scalar as JSON: {"tensorboard": version, "scalars": {tag: [[step, value], ...]}}.

    .venv/bin/python tests/py/tb_scalars.py RUN_DIR/tensorboard
"""
import json
import sys

import tensorboard
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main(logdir):
    acc = EventAccumulator(logdir, size_guidance={"scalars": 0})  # 0: keep every event
    acc.Reload()
    scalars = {tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    print(json.dumps({"tensorboard": tensorboard.__version__, "scalars": scalars}))


if __name__ == "__main__":
    main(sys.argv[1])
