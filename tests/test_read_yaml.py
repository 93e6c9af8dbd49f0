"""config.read_yaml: the YAML files of params/ parsed once per process and content, with the same
data as PyYAML's pure-Python safe loader."""

from __future__ import annotations

import yaml

from kehu_lib import config
from kehu_lib.batch import params as P


def test_same_data_as_the_python_safe_loader_for_every_params_file():
    files = sorted(config.PARAMS_DIR.glob("*.yaml"))
    assert len(files) >= 5
    for f in files:
        with open(f, encoding="utf-8") as fh:
            assert config.read_yaml(f) == yaml.load(fh, Loader=yaml.SafeLoader), f.name  # noqa: S506


def test_parsed_once_and_again_when_the_file_changes(tmp_path, monkeypatch):
    f = tmp_path / "t.yaml"
    f.write_text("a: 1\nb: [1, 2]\n", encoding="utf-8")
    calls = []
    real = yaml.load

    def counting(stream, Loader):  # noqa: N803 - PyYAML's name
        calls.append(Loader)
        return real(stream, Loader=Loader)  # noqa: S506 - the loaders given are safe

    monkeypatch.setattr(yaml, "load", counting)
    first = config.read_yaml(f)
    assert first == {"a": 1, "b": [1, 2]} and len(calls) == 1
    first["b"].append(3)  # a caller changing its copy does not change the next reader's
    assert config.read_yaml(f) == {"a": 1, "b": [1, 2]} and len(calls) == 1
    f.write_text("a: 2\nb: [1, 2]\n", encoding="utf-8")  # same size, at once: parsed again
    assert config.read_yaml(f) == {"a": 2, "b": [1, 2]} and len(calls) == 2
    # another loader is another parse (the batch's strict loader: 'no' stays a string)
    f.write_text("a: no\n", encoding="utf-8")
    assert config.read_yaml(f) == {"a": False}
    assert config.read_yaml(f, loader=P.StrictLoader) == {"a": "no"}
    assert P.load_yaml(f) == {"a": "no"} and len(calls) == 4


def test_the_strict_loader_still_refuses_duplicate_keys_every_time(tmp_path):
    import pytest

    f = tmp_path / "d.yaml"
    f.write_text("a: 1\na: 2\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(P.ParamError, match=r"duplicate key\(s\) \['a'\]"):
            P.load_yaml(f)
