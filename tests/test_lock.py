"""requirements.lock (what setup installs) agrees with pyproject.toml (what newsqa declares)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
INSTALLED_EXTRAS = ("test", "ray")  # what scripts/setup.sh installs


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            assert pinned, f"requirements.lock: {line!r} is not an exact pin"
            pins[canonicalize_name(name)] = pinned
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in INSTALLED_EXTRAS:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def test_every_declared_requirement_is_locked_inside_its_range() -> None:
    pins = locked()
    problems = []
    for req in declared():
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is None:
            problems.append(f"{req.name} is not in requirements.lock")
        elif not req.specifier.contains(pinned.split("+")[0], prereleases=True):
            problems.append(f"{req.name}=={pinned} is outside pyproject's {req.specifier}")
    assert not problems, "run scripts/upgrade-deps.sh: " + "; ".join(problems)


def test_every_declared_requirement_has_an_upper_bound() -> None:
    # an open range lets the next major release into a fresh install untested
    unbounded = [str(r) for r in declared() if not any(s.operator in ("<", "<=", "==", "~=") for s in r.specifier)]
    assert not unbounded

