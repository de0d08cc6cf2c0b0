import sys

from bench.stream_detect.run import main

sys.exit(main())
