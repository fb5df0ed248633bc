"""Build the index: ``python build_index.py [--force]`` (same as ``qa build``)."""

import sys

from qa.cli import main

if __name__ == "__main__":
    sys.exit(main(["build", *sys.argv[1:]]))
