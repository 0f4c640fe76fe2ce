"""The wheel: built from a clean checkout, installed on its own, it serves Chinese pages."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # builds a wheel

SERVE_LOGIN = """
import sys
from app import create_app
app = create_app()
assert app.root_path.startswith(sys.argv[1]), app.root_path
with app.app_context():
    from flask_migrate import upgrade
    upgrade(directory=app.extensions["migrate"].directory)
response = app.test_client().get("/login")
sys.stdout.write(f"{response.status_code}\\n{response.get_data(as_text=True)}")
"""


def clean_checkout(target: Path) -> Path:
    """Copy the files git knows (tracked, or new and not ignored): no .mo, no build output."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())
    return target


def test_a_wheel_built_from_a_clean_checkout_serves_the_login_page_in_chinese(tmp_path):
    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to build from")
    checkout = clean_checkout(tmp_path / "checkout")
    assert not list(checkout.rglob("*.mo"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["--wheel-dir", str(tmp_path / "dist"), str(checkout)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("linli-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "app/translations/zh_Hans_CN/LC_MESSAGES/messages.mo" in names
    assert "app/templates/base.html" in names and "app/migrations/env.py" in names

    installed = tmp_path / "site"  # what installing the wheel does: unpack it onto the path
    zipfile.ZipFile(wheel).extractall(installed)
    instance = tmp_path / "instance"
    run = subprocess.run(
        [sys.executable, "-c", SERVE_LOGIN, str(installed)],
        cwd=tmp_path,  # not the checkout: `app` must come from the wheel
        env={"PYTHONPATH": str(installed), "LINLI_INSTANCE_PATH": str(instance), "PATH": ""},
        check=True,
        capture_output=True,
        text=True,
    )
    status, page = run.stdout.split("\n", 1)
    assert status == "200"
    assert '<html lang="zh' in page
    assert "登录" in page and "Log in" not in page
