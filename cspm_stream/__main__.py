import sys

from cspm_stream.cli import main

sys.exit(main())
