import sys

from m365move.cli import main

sys.exit(main())
