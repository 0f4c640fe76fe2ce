"""The build hook: a wheel carries the compiled Chinese catalogue and the site's files.

`pip install .` (or a built wheel) must serve Chinese pages, so the catalogue is compiled here,
not only by `make`. The templates, static files and migrations live at the top of the checkout
(where `create_app` finds them in a checkout); the wheel ships them inside the `app` package,
where `create_app` looks first. Everything else is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ("templates", "static", "migrations")


class BuildWithCatalogue(build_py):
    """Copy the site's folders into the package and compile every .po beside it into a .mo."""

    def run(self):
        super().run()
        if self.editable_mode:
            return  # an editable install runs from the checkout, where `make` compiles
        package = Path(self.build_lib) / "app"
        for folder in SHIPPED:
            target = package / folder
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(HERE / folder, target, ignore=shutil.ignore_patterns("__pycache__"))
        compile_catalogues(HERE / "app" / "translations", package / "translations")


def compile_catalogues(source: Path, target: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in source.glob("*/LC_MESSAGES/*.po"):
        mo = target / po.relative_to(source).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parts[-3])
        with mo.open("wb") as f:
            write_mo(f, catalog)


setup(cmdclass={"build_py": BuildWithCatalogue})
