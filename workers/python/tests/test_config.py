import pytest

from kinora_worker.config import ConfigError, load, parse
from kinora_worker.worker import worker_name

BASE = {"server": "http://node:8000/", "token": "t" * 20, "pool": "wan"}


def cfg(**models):
    return parse(dict(BASE, models=models))


def test_full_file(tmp_path):
    (tmp_path / "w.toml").write_text('''
server = "http://node:8000/"
token = "tttttttttttttttttttt"
pool = "wan"
name = "box 1/gpu:0"
[models."wan-2.1"]
family = "wan"
t2v = "ckpt/t2v"
vace = "/abs/vace"
steps = 40
[models.ltx]
family = "ltx2"
path = "/m/ltx2"
''')
    c = load(tmp_path / "w.toml")
    assert c.server == "http://node:8000" and c.pool == "wan"
    wan, ltx = c.models["wan-2.1"], c.models["ltx"]
    assert wan.dirs["t2v"] == tmp_path / "ckpt/t2v"  # relative to the config file
    assert str(wan.dirs["vace"]) == "/abs/vace" and wan.steps == 40
    assert (wan.fps, wan.frames_per_pass, wan.size_multiple) == (16, 81, 16)
    assert (ltx.fps, ltx.frames_per_pass, ltx.size_multiple, ltx.frame_multiple) == (24, 121, 32, 8)
    assert "tttt" not in repr(c)
    assert worker_name(c.name) == "box-1-gpu-0"


@pytest.mark.parametrize("model, message", [
    ({"family": "hunyuan", "t2v": "/x"}, "family"),
    ({"family": "wan"}, "at least one"),
    ({"family": "wan", "t2v": "/x", "stpes": 3}, "unknown keys"),
    ({"family": "wan", "path": "/x"}, "unknown keys"),
    ({"family": "wan", "t2v": "/x", "frames_per_pass": 80}, "4k\\+1"),
    ({"family": "ltx2", "path": "/x", "frames_per_pass": 83}, "8k\\+1"),
    ({"family": "wan", "t2v": "/x", "dtype": "fp8"}, "dtype"),
    ({"family": "wan", "t2v": "/x", "overlap_frames": 81}, "overlap"),
])
def test_bad_models_are_refused(model, message):
    with pytest.raises(ConfigError, match=message):
        cfg(m=model)


def test_required_keys(monkeypatch):
    monkeypatch.delenv("KINORA_WORKER_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="token"):
        parse({"server": "http://x", "pool": "p", "models": {"m": {"family": "wan", "t2v": "/x"}}})
    monkeypatch.setenv("KINORA_WORKER_TOKEN", "from-the-environment")
    c = parse({"server": "http://x", "pool": "p", "models": {"m": {"family": "wan", "t2v": "/x"}}})
    assert c.token == "from-the-environment"
    with pytest.raises(ConfigError, match="unknown"):
        parse(dict(BASE, servers="x", models={"m": {"family": "wan", "t2v": "/x"}}))
    with pytest.raises(ConfigError, match="at least one model"):
        parse(dict(BASE))


def test_component_dtypes_reach_from_pretrained(tiny_dirs):
    import torch

    from kinora_worker.pipelines import ModelHost

    c = cfg(m={"family": "wan", "t2v": str(tiny_dirs["wan_t2v"]), "dtype": "bfloat16", "device": "cpu",
               "component_dtypes": {"vae": "float32"}})
    pipe = ModelHost().get(c.models["m"], "t2v")
    assert pipe.transformer.dtype == torch.bfloat16 and pipe.vae.dtype == torch.float32
    with pytest.raises(ConfigError, match="component_dtypes"):
        cfg(m={"family": "wan", "t2v": "/x", "component_dtypes": {"vae": "fp32"}})
