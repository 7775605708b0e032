"""Compile the gettext catalogs (.po -> .mo) as part of every build and install."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


def compile_catalogs() -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in Path(__file__).parent.glob("dialogs/locales/*/LC_MESSAGES/messages.po"):
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog)


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        compile_catalogs()
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogs})
