"""The slbcert wheel as another team gets it: installed into a fresh venv with no Rust on PATH,
it puts `slbcert` on the venv's PATH, and a small consumer suite (tests/consumer) runs through
its pytest plugin. scripts/test builds the wheel (maturin) and names it in SLBCERT_TEST_WHEEL."""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

WHEEL = os.environ.get("SLBCERT_TEST_WHEEL", "")
CLIENTS = ["pytest==9.2.0", "aliyun-python-sdk-core==2.16.1", "aliyun-python-sdk-slb==3.3.22",
           "alibabacloud-slb20140515==3.3.31", "alibabacloud-tea-openapi==0.4.6"]

pytestmark = [
    pytest.mark.sqlite_only,
    pytest.mark.skipif(not WHEEL, reason="SLBCERT_TEST_WHEEL is not set: scripts/test builds the "
                                         "wheel with maturin and sets it"),
]


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh venv with the wheel and the official clients, and an environment without Rust
    or any slbcert but the wheel's."""
    directory = tmp_path_factory.mktemp("consumer") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True)
    path = f"{directory / 'bin'}:/usr/local/bin:/usr/bin:/bin"
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    assert shutil.which("cargo", path=path) is None and shutil.which("rustc", path=path) is None
    subprocess.run([str(directory / "bin" / "pip"), "install", "--quiet",
                    "--disable-pip-version-check", WHEEL, *CLIENTS], check=True, env=env)
    return directory, env


def test_the_wheel_puts_slbcert_on_the_venvs_path(venv):
    directory, env = venv
    assert shutil.which("slbcert", path=env["PATH"]) == str(directory / "bin" / "slbcert")
    version = subprocess.run(["slbcert", "--version"], capture_output=True, text=True, env=env,
                             check=True)
    assert version.stdout.startswith("slbcert ")


def test_a_consumer_suite_runs_through_the_plugin(venv, tmp_path):
    directory, env = venv
    result = subprocess.run(
        [str(directory / "bin" / "python"), "-m", "pytest", str(ROOT / "tests" / "consumer"),
         "-q", "-p", "no:cacheprovider"], capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


@pytest.mark.parametrize("how", ["option", "environment"])
def test_another_binary_by_option_or_environment(venv, tmp_path, how):
    directory, env = venv
    args = [str(directory / "bin" / "python"), "-m", "pytest", str(ROOT / "tests" / "consumer"),
            "-q", "-p", "no:cacheprovider", "-k", "new_account"]
    if how == "option":
        args.append("--slbcert-bin=/bin/false")
    else:
        env = dict(env, SLBCERT_BIN="/bin/false")
    result = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=120)
    assert result.returncode != 0
    assert "slbcert serve exited before it listened" in result.stdout
