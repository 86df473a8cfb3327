"""The distribution: a wheel and an sdist built from the tracked files alone (a fresh clone) carry
every subpackage, ``py.typed``, the licence and the metadata; the integrations stay optional."""

from __future__ import annotations

import email
import re
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest
import trove_classifiers

import asgi_hasura_jwt

ROOT = Path(__file__).resolve().parent.parent
BUILD = """
import sys
from setuptools import build_meta
out = sys.argv[1]
names = [build_meta.build_wheel(out), build_meta.build_sdist(out)]
print("built:", *names)  # setuptools logs on stdout too
"""


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, sdist), built offline with the dev extra's setuptools from a copy of the
    tracked files: what `git clone` gives, without build/, *.egg-info or caches."""
    tree = tmp_path_factory.mktemp("clone")
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source, target = ROOT / name.decode(), tree / name.decode()
        if source.is_file():  # a file deleted in the work tree but not yet in the index
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-c", BUILD, str(out)],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (line,) = [line for line in built.stdout.splitlines() if line.startswith("built: ")]
    wheel, sdist = line.split()[1:]
    return out / wheel, out / sdist


def metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


def test_the_wheel_holds_every_module_and_py_typed(dists: tuple[Path, Path]) -> None:
    wheel, _ = dists
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    tracked = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "asgi_hasura_jwt").rglob("*")
        if path.suffix in (".py", ".typed")
    }
    assert tracked <= names, sorted(tracked - names)
    for expected in (
        "asgi_hasura_jwt/py.typed",
        "asgi_hasura_jwt/__main__.py",
        "asgi_hasura_jwt/_cli/explain.py",
        "asgi_hasura_jwt/_jwks/remote.py",
        "asgi_hasura_jwt/_websocket/connection.py",
        "asgi_hasura_jwt/fastapi.py",
        "asgi_hasura_jwt/strawberry.py",
    ):
        assert expected in names
    assert f"asgi_hasura_jwt-{asgi_hasura_jwt.__version__}.dist-info/licenses/LICENSE" in names
    # Only the package: no tests, examples or benchmarks.
    assert {name.split("/")[0] for name in names} == {
        "asgi_hasura_jwt",
        f"asgi_hasura_jwt-{asgi_hasura_jwt.__version__}.dist-info",
    }


def test_the_wheel_metadata(dists: tuple[Path, Path]) -> None:
    meta = metadata(dists[0])
    assert meta["Name"] == "asgi-hasura-jwt"
    assert meta["Version"] == asgi_hasura_jwt.__version__
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Requires-Python"] == ">=3.10"
    requires = meta.get_all("Requires-Dist") or []
    runtime = sorted(re.split("[<>=;]", r)[0] for r in requires if "extra ==" not in r)
    assert runtime == ["anyio", "cryptography", "httpx", "joserfc"]
    assert {"fastapi", "strawberry", "dev"} <= set(meta.get_all("Provides-Extra") or [])
    assert 'fastapi>=0.115; extra == "fastapi"' in requires
    assert 'strawberry-graphql>=0.240; extra == "strawberry"' in requires
    classifiers = meta.get_all("Classifier") or []
    for classifier in ("Typing :: Typed", "Framework :: FastAPI", "Framework :: AsyncIO"):
        assert classifier in classifiers
    for version in ("3.10", "3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    # PyPI refuses unknown classifiers, and licence classifiers next to an SPDX expression.
    assert set(classifiers) <= trove_classifiers.classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL") or [])
    assert set(urls) == {"Homepage", "Documentation", "Changelog", "Issues"}
    assert (meta.get_payload() or "").startswith("# asgi_hasura_jwt")  # the README


def test_the_sdist_builds_the_same_package(dists: tuple[Path, Path]) -> None:
    _, sdist = dists
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for expected in ("LICENSE", "README.md", "pyproject.toml", "asgi_hasura_jwt/py.typed"):
        assert expected in names


@pytest.mark.parametrize(
    ("blocked", "integration"),
    [("fastapi", "asgi_hasura_jwt.fastapi"), ("strawberry", "asgi_hasura_jwt.strawberry")],
)
def test_the_package_imports_without_the_integrations(blocked: str, integration: str) -> None:
    # sys.modules[name] = None makes `import name` fail as if it were not installed.
    script = f"""
import sys
sys.modules[{blocked!r}] = None
import asgi_hasura_jwt, asgi_hasura_jwt.testing, asgi_hasura_jwt.clerk, asgi_hasura_jwt._cli
try:
    import {integration}
except ImportError:
    print("integration needs {blocked}")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"integration needs {blocked}\n"
