"""Build the API reference from the docstrings: ``python docs/build_api.py`` writes docs/api/index.html.

Every module of the package gets a page (pdoc alone would stop at the names in
``tinygrad_edu.__all__``). ``-o FOLDER`` writes elsewhere. tests/test_api_docs.py
builds it in CI and fails on any warning.
"""
import argparse
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def modules() -> list:
    """Every module of tinygrad_edu except the `python -m` entry point."""
    import tinygrad_edu

    names = ["tinygrad_edu"]
    for info in pkgutil.walk_packages(tinygrad_edu.__path__, prefix="tinygrad_edu."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "api", help="output folder")
    args = parser.parse_args(argv)
    import warnings

    import pdoc

    # Listing every module repeats some that pdoc reaches through a package's __all__: harmless, say nothing.
    warnings.filterwarnings("ignore", message=r"The module specification .* has already been added")
    # NamedTuple's generated __init__ cannot see autograd's `np` (a pdoc limitation, not a docstring problem).
    warnings.filterwarnings("ignore", message=r"Error parsing type annotation ForwardRef\('np\.dtype'\) for "
                                              r"tinygrad_edu\.autograd\.GradientSummary\.__init__")
    pdoc.render.configure(docformat="google", footer_text="tinygrad_edu")
    pdoc.pdoc(*modules(), output_directory=args.output)
    print(f"wrote {args.output / 'index.html'}")


if __name__ == "__main__":
    main()
