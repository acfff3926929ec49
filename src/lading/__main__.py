from lading.cli.main import main

raise SystemExit(main())
