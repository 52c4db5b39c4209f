"""Kinora GPU worker: speaks the worker protocol (docs/worker-protocol.md), renders with diffusers.

Layout:
- `config.py`    TOML config: server, token, pool, models and their checkpoint directories
- `protocol.py`  HTTP client of /internal/v1, schema validation, heartbeats
- `pipelines.py` loading pipelines from local directories, one model hot
- `render.py`    which pipeline serves which mode; chaining passes; progress and cancel
- `media.py`     frames -> H.264 Constrained Baseline MP4, audio -> WAV, source decoding (ffmpeg)
- `worker.py`    the loop: lease -> inputs -> render -> upload -> complete/fail
"""

__version__ = "0.1.0"
