"""The reader's exported graph run by ONNX Runtime (no torch at query time)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class OnnxReaderModel:
    """``(input_ids, attention_mask)`` ``(n, len)`` int64 → start and end logits ``(n, len)``
    float32. One ``run`` call per batch: all of a question's windows go through together."""

    def __init__(self, graph: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        # as for the embedder: idle pool threads sleep, so a busy 2-core machine is not starved
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(input_ids) == 0:
            empty = np.zeros(input_ids.shape, dtype=np.float32)
            return empty, empty
        start, end = self.session.run(None, {"input_ids": input_ids.astype(np.int64, copy=False),
                                             "attention_mask": attention_mask.astype(np.int64, copy=False)})
        return start.astype(np.float32, copy=False), end.astype(np.float32, copy=False)
