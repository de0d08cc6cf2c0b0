import sys

from bench.report.run import main

sys.exit(main())
