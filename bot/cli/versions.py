"""Which installed dependency versions newsqa supports: each requirement of the installed
``newsqa`` distribution (pyproject.toml's ranges) checked against what is installed."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, requires, version

from packaging.requirements import Requirement

# the packages whose versions the doctor always names (a user debugging the bot asks for these)
REPORTED = ("python-telegram-bot", "openai", "torch", "onnxruntime", "sentence-transformers")


@dataclass(frozen=True)
class PackageVersion:
    name: str
    installed: str | None  # None: not installed
    wanted: str  # the supported range, e.g. ">=1.40,<4"

    @property
    def ok(self) -> bool:
        if self.installed is None:
            return False
        return Requirement(f"{self.name}{self.wanted}").specifier.contains(self.installed, prereleases=True)


def core_requirements(distribution: str = "newsqa") -> list[Requirement]:
    """The distribution's requirements without extras (no test or optional tools)."""
    out = []
    for line in requires(distribution) or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            out.append(req)
    return out


def check_versions(distribution: str = "newsqa") -> list[PackageVersion]:
    """Every core requirement with its installed version, in pyproject order."""
    out = []
    for req in core_requirements(distribution):
        try:
            installed: str | None = version(req.name)
        except PackageNotFoundError:
            installed = None
        # local labels (2.13.0+cpu) are no part of the supported range
        out.append(PackageVersion(req.name, installed.split("+")[0] if installed else None, str(req.specifier)))
    return out
