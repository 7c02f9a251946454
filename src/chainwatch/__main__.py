from chainwatch.cli.main import main

main()
