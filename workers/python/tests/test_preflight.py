"""`kinora-gpu-worker check` on good and broken configs, and the worker's exit on a config it
cannot run with (registration refused, a model that fits no memory plan)."""

import json

from conftest import TOKEN, model_tables
from fake_server import FakeNode
from kinora_worker.__main__ import main
from kinora_worker.preflight import run


def toml(node_url, models: dict, pool="tiny", extra="") -> str:
    out = [f'server = "{node_url}"', f'token = "{TOKEN}"', f'pool = "{pool}"', 'name = "box"', extra]
    for mid, table in models.items():
        out.append(f'\n[models."{mid}"]')
        out += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    return "\n".join(out) + "\n"


def refusal(mid):
    return {"error": {"message": f"Model '{mid}' is not served by pool 'tiny'", "type": "invalid_request_error",
                      "param": "models", "code": None}}


def test_a_good_config_passes(tiny_dirs, tmp_path, capsys):
    tables = model_tables(tiny_dirs)
    with FakeNode(TOKEN) as node:
        path = tmp_path / "worker.toml"
        path.write_text(toml(node.url, {"wan-tiny": tables["wan-tiny"], "ltx2-tiny": tables["ltx2-tiny"]}))
        assert run(str(path)) == 0
        reg = node.of("register")
        assert len(reg) == 1 and reg[0]["json"]["name"] == "box-check"
    out = capsys.readouterr().out
    assert "problem" not in out and "ok: ready to serve" in out
    assert "models.wan-tiny: memory plan resident" in out


def test_every_problem_of_a_broken_config_is_found(tiny_dirs, tmp_path, capsys):
    tables = model_tables(tiny_dirs)
    models = {
        "typo": dict(tables["wan-tiny-t2v"], stpes=4),  # unknown key
        "bad-dtype": dict(tables["wan-tiny-t2v"], dtype="float8"),
        "missing": dict(tables["wan-tiny-t2v"], t2v=str(tmp_path / "nowhere")),
        "wrong-class": dict(tables["wan-tiny-t2v"], t2v=tables["wan-tiny"]["vace"]),  # a VACE checkpoint as t2v
        "huge": dict(tables["wan-tiny-t2v"], memory_budget_gb=1e-5, memory_headroom_gb=0),
        "unrouted": tables["wan-tiny-t2v"],
        "no-flash": dict(tables["wan-tiny-t2v"], attention="flash"),  # flash-attn is not installed
        "no-such": dict(tables["wan-tiny-t2v"], attention="fastest"),
    }
    with FakeNode(TOKEN) as node:
        path = tmp_path / "worker.toml"
        path.write_text(toml(node.url, models, extra="colour = 3"))
        assert run(str(path)) == 1
        assert node.of("register") == []  # the TOML was wrong: nothing to register with
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("problem:")]
    text = "\n".join(lines)
    assert "unknown keys ['colour']" in text
    assert "models.typo: unknown keys ['stpes']" in text
    assert "models.bad-dtype.dtype must be one of" in text
    assert "models.missing.t2v" in text and "no such directory" in text
    assert "holds WanVACEPipeline, the `t2v` role needs WanPipeline" in text
    assert "model huge does not fit" in text
    assert "models.no-flash.attention = 'flash'" in text and "flash-attn" in text
    assert "models.no-such.attention = 'fastest': no such diffusers attention backend" in text
    assert all("Fix:" in line for line in lines)
    assert len(lines) == 8, text

    # The TOML fixed, the node's side: one model the node does not route to this pool.
    good = {k: v for k, v in models.items() if k in ("unrouted", "huge")}
    good["huge"] = tables["wan-tiny-t2v"]
    with FakeNode(TOKEN) as node:
        node.push("register", 400, refusal("unrouted"))
        node.push("register", 200, node.default("register")[1])
        node.push("register", 400, refusal("unrouted"))
        path.write_text(toml(node.url, good))
        assert run(str(path)) == 1
        assert [r["json"]["models"] for r in node.of("register")] == [["huge", "unrouted"], ["huge"], ["unrouted"]]
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("problem:")]
    assert len(lines) == 1 and "node refuses model 'unrouted'" in lines[0] and "not served by pool" in lines[0]


def test_a_wrong_token_and_an_unreachable_node_are_problems(tiny_dirs, tmp_path, capsys):
    table = {"m": model_tables(tiny_dirs)["wan-tiny-t2v"]}
    path = tmp_path / "worker.toml"
    with FakeNode("another-token-0123456789") as node:
        path.write_text(toml(node.url, table))
        assert run(str(path)) == 1
    path.write_text(toml("http://127.0.0.1:9", table))
    assert run(str(path)) == 1
    out = capsys.readouterr().out
    assert "the token is refused" in out and "unreachable" in out


def test_the_check_subcommand_and_a_toml_syntax_error(tmp_path, capsys):
    path = tmp_path / "worker.toml"
    path.write_text("server = \n")
    assert main(["check", "--config", str(path)]) == 1
    assert "not valid TOML" in capsys.readouterr().out


def test_the_worker_exits_2_when_registration_is_refused(tiny_dirs, tmp_path, capsys):
    with FakeNode(TOKEN) as node:
        node.push("register", 400, refusal("ltx-2"))
        path = tmp_path / "worker.toml"
        path.write_text(toml(node.url, {"ltx-2": model_tables(tiny_dirs)["wan-tiny-t2v"]}, extra="wait_seconds = 1"))
        assert main(["--config", str(path)]) == 2
        assert len(node.of("register")) == 1 and node.of("lease") == []  # no retrying for ever
    assert "registration refused: HTTP 400: Model 'ltx-2' is not served by pool 'tiny'" in capsys.readouterr().err


def test_the_worker_exits_2_before_registering_a_model_that_cannot_fit(tiny_dirs, tmp_path, capsys):
    with FakeNode(TOKEN) as node:
        path = tmp_path / "worker.toml"
        table = dict(model_tables(tiny_dirs)["wan-tiny-t2v"], memory_budget_gb=1e-5, memory_headroom_gb=0)
        path.write_text(toml(node.url, {"big": table}))
        assert main(["--config", str(path)]) == 2
        assert node.of("register") == []
    assert "model big does not fit" in capsys.readouterr().err
