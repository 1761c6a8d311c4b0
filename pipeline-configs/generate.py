#!/usr/bin/env python3
"""Generate every pipeline config and the AWS half from one commons list.

    python3 pipeline-configs/generate.py COMMONS.json --out DIR
    python3 pipeline-configs/generate.py COMMONS.json --out DIR --check

The generator is the package cwlogs_config/ beside this file (see its
__init__.py for what each module writes); this file only runs it, so the
command stays the same wherever the package is.
"""

import sys
from pathlib import Path

# Running the generator must not leave bytecode in the work tree.
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cwlogs_config.cli import main  # noqa: E402 (needs the path above)

if __name__ == "__main__":
    sys.exit(main())
