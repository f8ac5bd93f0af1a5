"""python -m fervideo"""

import sys

from fervideo.cli import main

sys.exit(main())
