import sys

from bench.policies.run import main

sys.exit(main())
