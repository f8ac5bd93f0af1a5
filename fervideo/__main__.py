"""python -m fervideo"""

import sys

from fervideo.entry import run

sys.exit(run())
