from bench.scan.run import main

raise SystemExit(main())
