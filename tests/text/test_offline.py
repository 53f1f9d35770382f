"""The text models work with no network at all: every socket connection is refused in the child.

The child starts without HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE, so it also proves that cxlens switches
the model hub off by itself, and that the model, the sentiment head and the theme encoder come
from installed packages (or the local cache built from them), never from a download.
"""

from __future__ import annotations

import os
import subprocess
import sys

CHILD = """
import socket

def refuse(*args, **kwargs):
    raise OSError("network access attempted")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from datetime import UTC, datetime
from cxlens.text import score
from cxlens.text.embeddings import embed
from cxlens.text.themes import discover_themes

vectors = embed(["The app keeps crashing", "Great service, thank you"])
scores = score(["The agent was wonderful", "I am furious, nobody called back"], model="embedding")
texts = [f"the app crashes when I open it, day {i}" for i in range(15)]
texts += [f"I was charged twice on my bill this month, case {i}" for i in range(15)]
found = discover_themes(texts, now=datetime(2026, 1, 1, tzinfo=UTC))
print(vectors.shape[0], scores[0].score > 0 > scores[1].score, len(found.themes()) >= 2)
"""


def test_text_models_run_with_every_connection_refused() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["2", "True", "True"]
