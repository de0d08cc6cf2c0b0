import sys

from bench.detect.run import main

sys.exit(main())
