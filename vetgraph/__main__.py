import sys

from vetgraph.cli import main

sys.exit(main())
